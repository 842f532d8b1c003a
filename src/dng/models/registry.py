"""The model registry: every model by name, built from shapes and config fields.

Models take shapes (the MLP's layer sizes, the image shape, the number of classes), never
dataset names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from dng.errors import ConfigError, ShapeError, suggest

if TYPE_CHECKING:  # the table is data: the models (and torch) load when one is built
    from torch import nn


def _split_encoder(config: dict):
    from dng.models.encoder import EncoderConfig

    keys = set(EncoderConfig.__dataclass_fields__)
    enc = {k: v for k, v in config.items() if k in keys}
    rest = {k: v for k, v in config.items() if k not in keys}
    return EncoderConfig(**enc), rest


def _encoder(mlp_shape, **config) -> nn.Module:
    from dng.models.encoder import DNGEncoder, EncoderConfig

    return DNGEncoder(mlp_shape, EncoderConfig(**config))


def _inr2jls(mlp_shape, image_shape, **config) -> nn.Module:
    from dng.models.inr2jls import INR2JLS, INR2JLSConfig

    enc, rest = _split_encoder(config)
    return INR2JLS(mlp_shape, tuple(image_shape), INR2JLSConfig(encoder=enc, **rest))


def _dng_encoder(mlp_shape, num_classes, dropout: float = 0.5, encoder_dropout: float = 0.0,
                 **config) -> nn.Module:
    """Encoder-only classifier: ``dropout`` in the MLP head, ``encoder_dropout`` after each
    encoder layer (the encoder's own ``dropout`` field)."""
    from dng.arch import Arch, Layer
    from dng.mixed import MixedArch
    from dng.models.heads import EncoderClassifier
    from dng.vit import ViTSpec

    if isinstance(mlp_shape, ViTSpec):  # transformers: the ViT encoder
        from dng.models.vit_encoder import ViTEncoder, ViTEncoderConfig

        vit = {k: config[k] for k in ("emb_dim", "fourier_dim", "fourier_scale", "cell")
               if k in config}
        return EncoderClassifier(ViTEncoder(mlp_shape, ViTEncoderConfig(**vit)), num_classes,
                                 hidden=config.get("hidden", 128), dropout=dropout)
    if isinstance(mlp_shape, MixedArch):  # any depth, kernel, activation, residuals
        config = {"message": "heads", "heads": mlp_shape.max_taps, "pad_taps": "masked",
                  "layer_activation_embedding": True, "shared_layers": True,
                  "residual_messages": True, **config}
        mlp_shape = Arch((Layer(mlp_shape.n_in, mlp_shape.n_out),), "any depth")
    elif isinstance(mlp_shape, Arch) and not mlp_shape.is_mlp:  # kernels: taps as heads
        config = {"message": "heads", "network_activation_embedding": True, **config}
    enc, rest = _split_encoder({"emb_dim": 128, **config, "dropout": encoder_dropout})
    return EncoderClassifier(mlp_shape, num_classes, enc, dropout=dropout, **rest)


def _inr2jls_classifier(mlp_shape, num_classes, image_shape=None, backbone=None,
                        **config) -> nn.Module:
    """Stage 2 on a trained stage-1 ``backbone``: the latent classifier for INR2JLS, a readout
    classifier for INR→INR (or a fresh INR2JLS built from ``image_shape`` and the config)."""
    from dng.models.heads import INR2JLSClassifier
    from dng.models.inr2inr import INR2INR, ReadoutClassifier
    from dng.models.inr2jls import INR2JLS, INR2JLSConfig

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
    from dng.models.encoder import EncoderConfig
    from dng.models.inr2inr import INR2INR

    return INR2INR(mlp_shape, tuple(image_shape), EncoderConfig(**config), hidden, omega)


def _inr_editor(mlp_shape, image_shape, spec=None, hidden: int = 64, **config) -> nn.Module:
    from dng.models.encoder import EncoderConfig
    from dng.models.inr_editor import INREditor

    return INREditor(mlp_shape, tuple(image_shape), EncoderConfig(**config), hidden, spec)


def _nfn_editor(mlp_shape, image_shape, spec=None, **config) -> nn.Module:
    from dng.models.nfn import NFNEditor  # optional dependency: dng[baselines]

    return NFNEditor(mlp_shape, tuple(image_shape), spec=spec, **config)


def _statnn(arch, num_classes, **config) -> nn.Module:
    from dng.models.statnn import StatNN  # scikit-learn: dng[baselines]

    return StatNN(arch, num_classes, **config)


def _ng_gnn(s, num_classes, **c) -> nn.Module:
    from dng.models.ng_gnn import NGGNN  # PyTorch Geometric: dng[baselines]

    from dng.arch import Arch

    if isinstance(s, Arch) and s.is_mlp:
        s = s.sizes
    if isinstance(s, tuple):  # MLPs: the published model exactly
        return NGGNN(s, num_classes, **c)
    from dng.models.ng_gnn_any import NGGNNAny

    return NGGNNAny(s, num_classes, **c)


def _ng_gnn_lite(s, num_classes, **c) -> nn.Module:
    from dng.mixed import MixedArch
    from dng.models.baselines import NGGNNLite
    from dng.vit import ViTSpec

    if isinstance(s, ViTSpec):
        from dng.models.ng_vit import NGGNNLiteViT

        return NGGNNLiteViT(s, num_classes, **c)
    if isinstance(s, MixedArch):
        from dng.models.ng_mixed import NGGNNLiteMixed

        return NGGNNLiteMixed(s, num_classes, **c)

    return NGGNNLite(s, num_classes, **c)


def _mlp(s, num_classes, **c) -> nn.Module:
    from dng.models.baselines import MLPClassifier

    return MLPClassifier(s, num_classes, **c)


def _mlp_image(s, image_shape, **c) -> nn.Module:
    from dng.models.baselines import MLPImageDecoder

    return MLPImageDecoder(s, image_shape, **c)


def _nfn_classifier(mlp_shape, num_classes, **config) -> nn.Module:
    from dng.models.nfn import NFNClassifier  # optional dependency: dng[baselines]

    return NFNClassifier(mlp_shape, num_classes, **config)


ENCODER_FIELDS = ("emb_dim", "fourier_dim", "fourier_scale", "passes", "cell", "aggregation",
                  "positional_embedding", "activation_embedding", "probes", "probe_mode")
CNN_ENCODER_FIELDS = ("att_dim", "pad_taps", "mixed_batches")
PROBE_FIELDS = ("probes", "probe_mode")


@dataclass(frozen=True)
class ModelEntry:
    """One row of the registry table.

    ``build(arch_or_sizes, **kwargs)``; ``fields``: the config fields it takes, under its own
    argument names; ``needs``: what it takes from the zoo and the task (``image_shape``,
    ``views``, ``omega``, ``probe_omega``, ``num_classes`` — the task's output size —,
    ``backbone``); ``tasks``: the tasks it serves, the first its default; ``role``: which
    preset values apply (``stage1``, ``stage2``, ``classifier``); ``archs``: the architectures it
    reads (``mlp``, ``cnn``, ``vit``, ``mixed``); ``extra``: the module of its optional dependency."""

    build: Callable[..., nn.Module]
    fields: tuple[str, ...]
    tasks: tuple[str, ...]
    role: str
    needs: tuple[str, ...] = ()
    archs: tuple[str, ...] = ("mlp",)
    extra: str | None = None
    help: str = ""


_CLS = ("num_classes", "probe_omega")
MODELS: dict[str, ModelEntry] = {
    "inr2jls": ModelEntry(_inr2jls, (*ENCODER_FIELDS, "latent_dim", "latent_generator"),
                          ("reconstruct", "edit"), "stage1", ("image_shape", "views",
                                                              "probe_omega"),
                          help="INR2JLS stage 1: encoder → latent generator → decoder"),
    "inr2inr": ModelEntry(_inr2inr, ENCODER_FIELDS, ("reconstruct",), "stage1",
                          ("image_shape", "omega", "probe_omega"),
                          help="ablation: stage 1 decoding SIREN weights"),
    "inr2jls-classifier": ModelEntry(_inr2jls_classifier, ("dropout",), ("classify",), "stage2",
                                     ("num_classes", "backbone"),
                                     help="INR2JLS stage 2 on a trained stage-1 run (--from)"),
    "dng-encoder": ModelEntry(_dng_encoder, (*ENCODER_FIELDS, *CNN_ENCODER_FIELDS, "hidden",
                                             "dropout", "encoder_dropout"),
                              ("classify", "regress"), "classifier", _CLS,
                              ("mlp", "cnn", "vit", "mixed"),
                              help="DNG-Encoder + MLP head (classes, or one regression output)"),
    "ng-gnn": ModelEntry(_ng_gnn,
                         ("hidden", "fourier_dim", "fourier_scale", "dropout", *PROBE_FIELDS),
                         ("classify", "regress"), "classifier", _CLS,
                         ("mlp", "cnn", "vit", "mixed"), extra="torch_geometric",
                         help="NG-GNN as published (PyG PNA); CNN, mixed and ViT graphs too"),
    "ng-gnn-lite": ModelEntry(_ng_gnn_lite,
                              ("hidden", "fourier_dim", "fourier_scale", "dropout",
                               *PROBE_FIELDS), ("classify", "regress"), "classifier", _CLS,
                              ("mlp", "cnn", "vit", "mixed"),
                              help="our static-graph GNN (no PyG)"),
    "mlp": ModelEntry(_mlp,
                      ("hidden", "dropout"), ("classify", "regress"), "classifier",
                      ("num_classes",), ("mlp", "cnn"), help="MLP on the flattened weights"),
    "nfn": ModelEntry(_nfn_classifier, ("hidden", "fourier_dim", "fourier_scale", "dropout"),
                      ("classify", "regress"), "classifier", ("num_classes",), ("mlp", "cnn"),
                      extra="nfn",
                      help="NFN (the nfn package)"),
    "inr-editor": ModelEntry(_inr_editor, (*ENCODER_FIELDS, "hidden"), ("edit",), "stage1",
                             ("image_shape", "spec"),
                             help="edited INRs: a weight update from the encoder's neuron "
                                  "states, trained through the rendering (--output inr)"),
    "nfn-editor": ModelEntry(_nfn_editor, ("hidden", "fourier_dim", "fourier_scale"), ("edit",),
                             "stage1", ("image_shape", "spec"), extra="nfn",
                             help="NFN editing baseline: equivariant NP layers → ΔW, rendered"),
    "mlp-image": ModelEntry(_mlp_image,
                            ("hidden",), ("edit", "reconstruct"), "stage1", ("image_shape",),
                            ("mlp", "cnn"), help="floor: MLP from flat weights to the image"),
    "statnn": ModelEntry(lambda s, num_classes, **c: _statnn(s, num_classes, **c), ("seed",),
                         ("regress",), "classifier", ("num_classes",),
                         ("mlp", "cnn", "vit", "mixed"),
                         extra="sklearn",
                         help="StatNN: layer statistics → gradient-boosted regressor"),
}
BUILDERS = {"encoder": _encoder}  # library-only models (no training task)

# models that need the optional extra `dng[baselines]`, and the module each imports
EXTRAS = {name: e.extra for name, e in MODELS.items() if e.extra}


def entry(name: str) -> ModelEntry:
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}{suggest(name, MODELS)}; available: "
                          f"{', '.join(sorted(MODELS))}")
    return MODELS[name]


def missing_extras(names) -> list[str]:
    """The models among ``names`` whose optional dependency is not installed."""
    import importlib.util

    return [n for n in names if n in EXTRAS and importlib.util.find_spec(EXTRAS[n]) is None]


def available() -> list[str]:
    """Registered model names."""
    return sorted([*MODELS, *BUILDERS])


def create(name: str, arch, **config) -> nn.Module:
    """Build a registered model for networks of architecture ``arch`` (an
    :class:`~dng.arch.Arch`, or an MLP's layer sizes).

    Extra arguments by model (see :class:`ModelEntry`): ``inr2jls`` needs
    ``image_shape=(C, H, W)``; classifiers and regressors need ``num_classes`` (the task's
    output size); encoder fields (``emb_dim``, ``fourier_dim``, ``passes``, ...) apply to every
    DNG model.
    """
    from dng.arch import Arch
    from dng.mixed import MixedArch
    from dng.vit import ViTSpec

    if name in BUILDERS:
        return BUILDERS[name](arch if isinstance(arch, Arch) else tuple(arch), **config)
    e = entry(name)
    if isinstance(arch, (ViTSpec, MixedArch)):
        if ("vit" if isinstance(arch, ViTSpec) else "mixed") not in e.archs:
            raise ConfigError(f"model {name!r} reads {' and '.join(e.archs)} weights only; "
                              f"these networks are {arch.describe()}")
    elif isinstance(arch, Arch):
        kind = "mlp" if arch.is_mlp else "cnn"
        if kind not in e.archs:
            raise ConfigError(f"model {name!r} reads {' and '.join(e.archs)} weights only; "
                              f"these networks are {arch.describe()}")
        if kind == "mlp" and e.archs == ("mlp",):
            arch = arch.sizes  # MLP-only models take layer sizes
    else:
        arch = tuple(arch)
    return e.build(arch, **config)
