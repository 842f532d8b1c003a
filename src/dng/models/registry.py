"""The model registry: every model by name, built from shapes and config fields.

Models take shapes (the MLP's layer sizes, the image shape, the number of classes), never
dataset names.
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from dng.errors import ConfigError, ShapeError
from dng.models.baselines import MLPClassifier, NGGNNLite
from dng.models.ng_gnn import NGGNN
from dng.models.encoder import DNGEncoder, EncoderConfig
from dng.models.heads import EncoderClassifier, INR2JLSClassifier
from dng.models.inr2jls import (INR2JLS, INR2JLSConfig)
from dng.models.inr2inr import INR2INR, ReadoutClassifier

_ENCODER_KEYS = set(EncoderConfig.__dataclass_fields__)


def _split_encoder(config: dict) -> tuple[EncoderConfig, dict]:
    enc = {k: v for k, v in config.items() if k in _ENCODER_KEYS}
    rest = {k: v for k, v in config.items() if k not in _ENCODER_KEYS}
    return EncoderConfig(**enc), rest


def _encoder(mlp_shape, **config) -> nn.Module:
    return DNGEncoder(mlp_shape, EncoderConfig(**config))


def _inr2jls(mlp_shape, image_shape, **config) -> nn.Module:
    enc, rest = _split_encoder(config)
    return INR2JLS(mlp_shape, tuple(image_shape), INR2JLSConfig(encoder=enc, **rest))


def _dng_encoder(mlp_shape, num_classes, dropout: float = 0.5, encoder_dropout: float = 0.0,
                 **config) -> nn.Module:
    """Encoder-only classifier: ``dropout`` in the MLP head, ``encoder_dropout`` after each
    encoder layer (the encoder's own ``dropout`` field)."""
    enc, rest = _split_encoder({"emb_dim": 128, **config, "dropout": encoder_dropout})
    return EncoderClassifier(mlp_shape, num_classes, enc, dropout=dropout, **rest)


def _inr2jls_classifier(mlp_shape, num_classes, image_shape=None, backbone=None,
                        **config) -> nn.Module:
    """Stage 2 on a trained stage-1 ``backbone``: the latent classifier for INR2JLS, a readout
    classifier for INR→INR (or a fresh INR2JLS built from ``image_shape`` and the config)."""
    dropout = config.pop("dropout", 0.2)
    if backbone is None:
        if image_shape is None:
            raise ShapeError("inr2jls-classifier needs a trained backbone (or image_shape)")
        enc, rest = _split_encoder(config)
        backbone = INR2JLS(mlp_shape, tuple(image_shape), INR2JLSConfig(encoder=enc, **rest))
    if isinstance(backbone, INR2INR):
        return ReadoutClassifier(backbone, num_classes)
    if not isinstance(backbone, INR2JLS):
        raise ShapeError(f"stage 2 needs an INR2JLS or INR2INR backbone, got "
                         f"{type(backbone).__name__}")
    return INR2JLSClassifier(backbone, num_classes, dropout=dropout)


def _inr2inr(mlp_shape, image_shape, hidden=512, omega=30.0, **config) -> nn.Module:
    return INR2INR(mlp_shape, tuple(image_shape), EncoderConfig(**config), hidden, omega)


MODELS: dict[str, Callable[..., nn.Module]] = {
    "encoder": _encoder,
    "inr2jls": _inr2jls,
    "inr2jls-classifier": _inr2jls_classifier,
    "inr2inr": _inr2inr,
    "dng-encoder": _dng_encoder,
    "ng-gnn": lambda mlp_shape, num_classes, **c: NGGNN(mlp_shape, num_classes, **c),
    "ng-gnn-lite": lambda mlp_shape, num_classes, **c: NGGNNLite(mlp_shape, num_classes, **c),
    "mlp": lambda mlp_shape, num_classes, **c: MLPClassifier(mlp_shape, num_classes, **c),
    "nfn": lambda mlp_shape, num_classes, **c: _nfn_classifier(mlp_shape, num_classes, **c),
}


def _nfn_classifier(mlp_shape, num_classes, **config) -> nn.Module:
    from dng.models.nfn import NFNClassifier  # optional dependency: dng[baselines]

    return NFNClassifier(mlp_shape, num_classes, **config)


# models that need the optional extra `dng[baselines]`, and the module each imports
EXTRAS = {"ng-gnn": "torch_geometric", "nfn": "nfn"}


def missing_extras(names) -> list[str]:
    """The models among ``names`` whose optional dependency is not installed."""
    import importlib.util

    return [n for n in names if n in EXTRAS and importlib.util.find_spec(EXTRAS[n]) is None]


def available() -> list[str]:
    """Registered model names."""
    return sorted(MODELS)


def create(name: str, mlp_shape, **config) -> nn.Module:
    """Build a registered model for MLPs of layer sizes ``mlp_shape``.

    Extra arguments by model: ``inr2jls`` needs ``image_shape=(C, H, W)``; classifiers need
    ``num_classes``; encoder fields (``emb_dim``, ``fourier_dim``, ``passes``, ...) apply to
    every DNG model.
    """
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; available: {', '.join(available())}")
    return MODELS[name](tuple(mlp_shape), **config)
