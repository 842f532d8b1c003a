"""The checks of a :class:`~dng.train.config.TrainConfig`: values no run can use are one
:class:`~dng.errors.ConfigError` naming the field (``TrainConfig.checked`` calls :func:`check`).
"""

from __future__ import annotations

from dng.errors import ConfigError
from dng.train.presets import AUGMENTS, MODELS, PRESETS, REGISTRY


def check(cfg) -> None:
    """Raise :class:`ConfigError` for the first field of ``cfg`` no run can use."""
    def bad(field: str, why: str):
        raise ConfigError(f"config: {field}={getattr(cfg, field)!r}: {why}")

    if cfg.model not in MODELS:
        bad("model", f"unknown model (choose {', '.join(MODELS)})")
    if cfg.preset not in PRESETS:
        bad("preset", f"unknown preset (choose {', '.join(PRESETS)})")
    for f in ("steps", "batch_size", "eval_every", "warmup_every", "emb_dim", "fourier_dim",
              "passes", "latent_dim", "hidden"):
        if getattr(cfg, f) < 1:
            bad(f, "must be >= 1")
    for f in ("copies", "probes", "seed"):
        if getattr(cfg, f) < 0:
            bad(f, "must be >= 0")
    for f in ("lr", "fourier_scale"):
        v = getattr(cfg, f)
        if not (v > 0 and v < float("inf")):
            bad(f, "must be a positive number")
    if not (0 <= cfg.weight_decay < float("inf")):
        bad("weight_decay", "must be >= 0")
    if not (0 <= cfg.grad_clip < float("inf")):
        bad("grad_clip", "must be >= 0 (0: no clipping)")
    for f in ("dropout", "encoder_dropout"):
        if not (0 <= getattr(cfg, f) < 1):
            bad(f, "must be in [0, 1)")
    if cfg.eval_batches is not None and cfg.eval_batches < 1:
        bad("eval_batches", "must be >= 1 (or null: the whole split)")
    if cfg.budget_minutes is not None and not (0 < cfg.budget_minutes < float("inf")):
        bad("budget_minutes", "must be a positive number of minutes (or null: none)")
    if cfg.optimizer not in ("adam", "adamw"):
        bad("optimizer", "choose adam or adamw")
    if cfg.augment.split(":")[0] not in AUGMENTS:
        bad("augment", "choose none, rotflip or noise[:level]")
    if cfg.precision not in ("fp32", "bf16"):
        bad("precision", "choose fp32 or bf16")
    if cfg.compile not in ("none", "default", "reduce-overhead", "max-autotune"):
        bad("compile", "choose none, default, reduce-overhead or max-autotune")
    if cfg.checkpoint_dtype not in ("fp32", "bf16"):
        bad("checkpoint_dtype", "choose fp32 or bf16")
    if cfg.probe_mode not in ("post", "pre"):
        bad("probe_mode", "choose post or pre")
    from dng.tasks import TASKS

    tasks = REGISTRY[cfg.model].tasks
    if cfg.task != "auto" and cfg.task not in TASKS:
        bad("task", f"choose auto, {', '.join(TASKS)}")
    if cfg.task != "auto" and cfg.task not in tasks:
        bad("task", f"model {cfg.model} serves {', '.join(tasks)}")
    if cfg.regress_loss not in ("auto", "bce", "mse"):
        bad("regress_loss", "choose auto, bce or mse")
    if cfg.style not in ("dilate", "erode", "gradient"):
        bad("style", "choose dilate, erode or gradient")
    if cfg.pad_taps not in ("zeros", "masked"):
        bad("pad_taps", "choose zeros or masked")
    if cfg.mixed_batches not in ("buckets", "padded"):
        bad("mixed_batches", "choose buckets or padded")
    if cfg.att_dim < 1:
        bad("att_dim", "must be >= 1")
