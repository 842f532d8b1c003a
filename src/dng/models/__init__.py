"""Models on MLP weights, in one registry (:mod:`dng.models.registry`).

>>> from dng.models import create, available
>>> model = create("dng-encoder", (2, 32, 32, 1), num_classes=10, emb_dim=128)

Models take shapes (the MLP's layer sizes, the image shape, the number of classes), never
dataset names. Modules: ``layers`` (Fourier features, cells, speed helpers), ``probes``,
``encoder`` (DNG-Encoder), ``inr2jls``, ``inr2inr``, ``heads``, ``baselines`` (NG-GNN-lite,
MLP), ``ng_gnn`` (NG-GNN on PyG), ``nfn`` (NFN from the nfn package).
"""

from dng.models.baselines import MLPClassifier, NGGNNLite
from dng.models.encoder import DNGEncoder, DNGLayer, EncoderConfig
from dng.models.heads import EncoderClassifier, INR2JLSClassifier, LatentClassifier
from dng.models.inr2inr import INR2INR, ReadoutClassifier
from dng.models.inr2jls import (INR2JLS, ConvDecoder, INR2JLSConfig, LatentGenerator,
                                image_views, tokens_to_maps)
from dng.models.layers import FourierFeatures, GRUCell, ReLURNNCell
from dng.models.ng_gnn import NGGNN
from dng.models.registry import MODELS, available, create

__all__ = ["ConvDecoder", "DNGEncoder", "DNGLayer", "EncoderClassifier", "EncoderConfig",
           "FourierFeatures", "GRUCell", "INR2INR", "INR2JLS", "INR2JLSClassifier", "INR2JLSConfig",
           "LatentClassifier", "LatentGenerator", "MLPClassifier", "MODELS", "NGGNN", "NGGNNLite",
           "ReLURNNCell", "ReadoutClassifier", "available", "create", "image_views", "tokens_to_maps"]
