"""A run directory: its model (built from the config through the registry only), its
checkpoints (``last.pt`` to resume, ``best.pt`` the selected weights) and its config.

Checkpoints hold CPU tensors and plain values; they are written atomically and read with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from dng.errors import ConfigError, DNGError
from dng.io import atomic_torch_save
from dng.models import create
from dng.train.config import TrainConfig, load_run_config
from dng.train.presets import INR2INR_MODEL, STAGE1, STAGE2
from dng.zoo import Zoo

CKPT_VERSION = 1

ENCODER_FIELDS = ("emb_dim", "fourier_dim", "fourier_scale", "passes", "cell", "aggregation",
                  "positional_embedding", "activation_embedding", "probes", "probe_mode")
# The config fields each model takes, under the registry's own argument names: the trainer
# passes them unchanged (no re-mapping of sizes), plus the zoo's shapes.
MODEL_FIELDS = {
    STAGE1: (*ENCODER_FIELDS, "latent_dim", "latent_generator"),
    INR2INR_MODEL: ENCODER_FIELDS,
    STAGE2: ("dropout",),
    "dng-encoder": (*ENCODER_FIELDS, "hidden", "dropout", "encoder_dropout"),
    "ng-gnn": ("hidden", "fourier_dim", "fourier_scale", "dropout", "probes", "probe_mode"),
    "ng-gnn-lite": ("hidden", "fourier_dim", "fourier_scale", "dropout", "probes", "probe_mode"),
    "mlp": ("hidden", "dropout"),
    "nfn": ("hidden", "fourier_dim", "fourier_scale", "dropout"),
}
PROBE_MODELS = (STAGE1, INR2INR_MODEL, "dng-encoder", "ng-gnn", "ng-gnn-lite")


def views_for(cfg: TrainConfig) -> int:
    """Image views decoded by stage 1: the 6 rotations/flips with ``augment=rotflip``, else 1."""
    return 6 if cfg.augment == "rotflip" else 1


def model_kwargs(cfg: TrainConfig, zoo: Zoo) -> dict:
    """Everything :func:`dng.models.create` gets for ``cfg.model``: the config's fields named
    in :data:`MODEL_FIELDS`, and the zoo's shapes (classes, image shape, the INRs' ω)."""
    kw = {f: getattr(cfg, f) for f in MODEL_FIELDS[cfg.model]}
    if cfg.model in PROBE_MODELS:
        kw["probe_omega"] = zoo.spec.first_omega
    if cfg.model == STAGE1:
        kw.update(image_shape=zoo.image_shape, views=views_for(cfg))
    elif cfg.model == INR2INR_MODEL:
        kw.update(image_shape=zoo.image_shape, omega=zoo.spec.first_omega)
    else:
        kw["num_classes"] = zoo.num_classes
    return kw


def build_model(cfg: TrainConfig, zoo: Zoo) -> torch.nn.Module:
    """The model a config describes, through the registry (stage 2: on the trained stage-1
    model of ``cfg.from_run``)."""
    kw = model_kwargs(cfg, zoo)
    if cfg.model == STAGE2:
        if not cfg.from_run:
            raise ConfigError("stage 2 needs --from RUN (a trained inr2jls or inr2inr run)")
        backbone = load_run_model(Path(cfg.from_run), zoo)
        if not hasattr(backbone, "targets"):
            raise ConfigError(f"{cfg.from_run} is not an inr2jls or inr2inr run")
        kw["backbone"] = backbone
    return create(cfg.model, zoo.spec.layer_sizes, **kw)


def load_config(run: str | Path) -> TrainConfig:
    return load_run_config(run)


def load_run_model(run: Path, zoo: Zoo) -> torch.nn.Module:
    """A run's model with its selected (``best.pt``) weights, in eval mode."""
    cfg = load_config(run)
    model = build_model(cfg, zoo)
    st = read_checkpoint(Path(run) / "best.pt", "best.pt checkpoint (was the run trained?)")
    try:
        model.load_state_dict(st["model"])
    except (RuntimeError, KeyError) as e:
        raise DNGError(f"{run}/best.pt does not fit the run's model "
                       f"({str(e).splitlines()[0]})") from None
    return model.eval()


def save_checkpoint(path: Path, **state) -> None:
    atomic_torch_save(path, {**state, "version": CKPT_VERSION})


def read_checkpoint(path: Path, what: str = "checkpoint") -> dict:
    """Load a checkpoint safely (``weights_only``); a missing, truncated or foreign file is one
    :class:`DNGError` naming it."""
    if not path.is_file():
        raise DNGError(f"{path.parent}: no {what}")
    try:
        st = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - truncated / foreign / unsafe pickles
        raise DNGError(f"{path}: not a readable dng checkpoint ({str(e).splitlines()[0]})"
                       ) from None
    if not isinstance(st, dict) or st.get("version") != CKPT_VERSION:
        v = st.get("version") if isinstance(st, dict) else None
        raise DNGError(f"{path}: checkpoint format {v} is not supported "
                       f"(this dng writes {CKPT_VERSION})")
    return st
