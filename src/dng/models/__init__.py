"""Models on MLP weights, in one registry (:mod:`dng.models.registry`).

>>> from dng.models import create, available
>>> model = create("dng-encoder", (2, 32, 32, 1), num_classes=10, emb_dim=128)

Models take shapes (the MLP's layer sizes, the image shape, the number of classes), never
dataset names. Modules: ``layers`` (Fourier features, cells, speed helpers), ``probes``,
``encoder`` (DNG-Encoder), ``inr2jls``, ``inr2inr``, ``heads``, ``baselines`` (NG-GNN-lite,
MLP), ``ng_gnn`` (NG-GNN on PyG), ``nfn`` (NFN from the nfn package).
"""

import importlib

# name → module; loaded on first use (``import dng.models`` stays light: torch loads when a
# model does)
_WHERE = {
    "MLPClassifier": "baselines", "NGGNNLite": "baselines",
    "DNGEncoder": "encoder", "DNGLayer": "encoder", "EncoderConfig": "encoder",
    "EncoderClassifier": "heads", "INR2JLSClassifier": "heads", "LatentClassifier": "heads",
    "INR2INR": "inr2inr", "ReadoutClassifier": "inr2inr",
    "INR2JLS": "inr2jls", "ConvDecoder": "inr2jls", "INR2JLSConfig": "inr2jls",
    "LatentGenerator": "inr2jls", "image_views": "inr2jls", "tokens_to_maps": "inr2jls",
    "FourierFeatures": "layers", "GRUCell": "layers", "ReLURNNCell": "layers",
    "NGGNN": "ng_gnn", "MODELS": "registry", "available": "registry", "create": "registry",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"dng.models.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'dng.models' has no attribute {name!r}")
