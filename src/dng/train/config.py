"""What a training run is: :class:`TrainConfig`, the presets as data, and loading from YAML
files and ``key=value`` overrides through OmegaConf structured configs (unknown keys and
wrong types are one clear :class:`ConfigError`).

Resolution order: the preset's values for the model (``preset`` and ``model`` may themselves
come from the file or the overrides), then the file, then the overrides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Optional

from dng.errors import ConfigError, suggest

from dng.train.presets import AUGMENTS, MODELS, PRESETS, REGISTRY, STAGE1, preset_values


@dataclass
class TrainConfig:
    """One training run. Every field can be set in a YAML file (``--config``) or with
    ``--set FIELD=VALUE``; the resolved config is saved as ``RUN/config.json``."""

    model: str = STAGE1
    preset: str = "cpu"
    task: str = "auto"  # auto: the model's first task (registry) | classify | reconstruct | regress | edit
    target: Optional[str] = None  # regress: the zoo column (default test_accuracy)
    regress_loss: str = "auto"  # auto | bce | mse
    style: str = "dilate"  # edit: dilate | erode | gradient
    steps: int = 100_000
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 0.0
    optimizer: str = "adam"  # adam | adamw
    amsgrad: bool = False  # the AMSGrad variant of Adam(W)
    grad_clip: float = 0.0  # clip the gradients' global norm to this (0: no clipping)
    warmup_base: float = 0.5  # lr factor min(1, base + inc·k), k bumped every `warmup_every`
    warmup_inc: float = 0.05
    warmup_every: int = 1000
    eval_every: int = 500
    eval_batches: Optional[int] = None  # validation batches scored (None = the whole split)
    budget_minutes: Optional[float] = None  # wall-clock budget; best-val checkpoint is kept
    seed: int = 0
    copies: int = 0  # extra random-init INR copies per training image used from the zoo
    augment: str = "rotflip"  # none | noise[:level] | rotflip  (image views for stage 1)
    # model sizes: passed by name to dng.models.create (see checkpoint.model_kwargs)
    emb_dim: int = 128
    fourier_dim: int = 64
    fourier_scale: float = 3.0
    passes: int = 1
    cell: str = "gru"
    aggregation: str = "sum"  # "sum" (paper) or "mean" over source neurons
    positional_embedding: bool = False
    activation_embedding: bool = False
    probes: int = 0  # K probe inputs per INR (DNG models and ng-gnn; 0 = the paper's models)
    probe_mode: str = "post"  # probe features: "post"- or "pre"-activations
    att_dim: int = 32  # dng-encoder on CNNs: width of each tap head
    pad_taps: str = "zeros"  # dng-encoder on CNNs: zeros (reference) | masked
    mixed_batches: str = "buckets"  # dng-encoder on mixed zoos: buckets | padded
    latent_dim: int = 64
    latent_generator: bool = True
    dropout: float = 0.2  # classifier (head) dropout
    encoder_dropout: float = 0.0  # dng-encoder: dropout after each encoder layer
    hidden: int = 128  # head width of direct classifiers (ng-gnn: node width; mlp: layer width)
    from_run: Optional[str] = None  # stage 2: the stage-1 run directory
    wandb: bool = False  # also log to Weights & Biases (when installed)
    # speed (same math): where the data lives, precision, compilation
    data_on_device: bool = True  # the train split is moved to the device once
    precision: str = "fp32"  # fp32 | bf16 (autocast of forward and loss)
    tf32: bool = True  # CUDA matmuls in TF32 (ignored on CPUs)
    compile: str = "none"  # none | default | reduce-overhead (CUDA graphs) | max-autotune
    checkpoint_dtype: str = "fp32"  # fp32 | bf16: dtype of the weights in best.pt

    @classmethod
    def preset_config(cls, preset: str, model: str) -> "TrainConfig":
        """The preset's config for ``model`` (see :data:`PRESETS`)."""
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r} ({' or '.join(PRESETS)})")
        if model not in MODELS:
            raise ConfigError(f"unknown model {model!r}{suggest(model, MODELS)} "
                              f"({', '.join(MODELS)})")
        return cls(model=model, preset=preset, **preset_values(preset, model)).checked()

    def override(self, pairs: dict[str, str]) -> "TrainConfig":
        """This config with ``FIELD=VALUE`` strings applied (typed and checked)."""
        return load_config_layers(base=self, overrides=[f"{k}={v}" for k, v in pairs.items()])

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def task_name(self) -> str:
        """The task this run trains: ``task``, or the model's first one."""
        return REGISTRY[self.model].tasks[0] if self.task == "auto" else self.task

    def checked(self) -> "TrainConfig":
        """Raise :class:`ConfigError` for values no run can use; return ``self``."""
        def bad(field: str, why: str):
            raise ConfigError(f"config: {field}={getattr(self, field)!r}: {why}")

        if self.model not in MODELS:
            bad("model", f"unknown model (choose {', '.join(MODELS)})")
        if self.preset not in PRESETS:
            bad("preset", f"unknown preset (choose {', '.join(PRESETS)})")
        for f in ("steps", "batch_size", "eval_every", "warmup_every", "emb_dim", "fourier_dim",
                  "passes", "latent_dim", "hidden"):
            if getattr(self, f) < 1:
                bad(f, "must be >= 1")
        for f in ("copies", "probes", "seed"):
            if getattr(self, f) < 0:
                bad(f, "must be >= 0")
        for f in ("lr", "fourier_scale"):
            v = getattr(self, f)
            if not (v > 0 and v < float("inf")):
                bad(f, "must be a positive number")
        if not (0 <= self.weight_decay < float("inf")):
            bad("weight_decay", "must be >= 0")
        if not (0 <= self.grad_clip < float("inf")):
            bad("grad_clip", "must be >= 0 (0: no clipping)")
        for f in ("dropout", "encoder_dropout"):
            if not (0 <= getattr(self, f) < 1):
                bad(f, "must be in [0, 1)")
        if self.eval_batches is not None and self.eval_batches < 1:
            bad("eval_batches", "must be >= 1 (or null: the whole split)")
        if self.budget_minutes is not None and not (0 < self.budget_minutes < float("inf")):
            bad("budget_minutes", "must be a positive number of minutes (or null: none)")
        if self.optimizer not in ("adam", "adamw"):
            bad("optimizer", "choose adam or adamw")
        if self.augment.split(":")[0] not in AUGMENTS:
            bad("augment", "choose none, rotflip or noise[:level]")
        if self.precision not in ("fp32", "bf16"):
            bad("precision", "choose fp32 or bf16")
        if self.compile not in ("none", "default", "reduce-overhead", "max-autotune"):
            bad("compile", "choose none, default, reduce-overhead or max-autotune")
        if self.checkpoint_dtype not in ("fp32", "bf16"):
            bad("checkpoint_dtype", "choose fp32 or bf16")
        if self.probe_mode not in ("post", "pre"):
            bad("probe_mode", "choose post or pre")
        from dng.tasks import TASKS

        tasks = REGISTRY[self.model].tasks
        if self.task != "auto" and self.task not in TASKS:
            bad("task", f"choose auto, {', '.join(TASKS)}")
        if self.task != "auto" and self.task not in tasks:
            bad("task", f"model {self.model} serves {', '.join(tasks)}")
        if self.regress_loss not in ("auto", "bce", "mse"):
            bad("regress_loss", "choose auto, bce or mse")
        if self.style not in ("dilate", "erode", "gradient"):
            bad("style", "choose dilate, erode or gradient")
        if self.pad_taps not in ("zeros", "masked"):
            bad("pad_taps", "choose zeros or masked")
        if self.mixed_batches not in ("buckets", "padded"):
            bad("mixed_batches", "choose buckets or padded")
        if self.att_dim < 1:
            bad("att_dim", "must be >= 1")
        return self


OPTIONAL_FIELDS = {f.name for f in fields(TrainConfig) if "Optional" in str(f.type)}

# ------------------------------------------------------------------------------ loading

def _omegaconf():
    try:
        import omegaconf
    except ImportError:  # a declared dependency: only a broken install gets here
        raise ConfigError("config files need omegaconf (pip install omegaconf)") from None
    return omegaconf


def _to_omega_error(e: Exception, where: str) -> ConfigError:
    """OmegaConf's multi-line messages as one line naming the key."""
    key = getattr(e, "full_key", None) or getattr(e, "key", None)
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    if type(e).__name__ == "ConfigKeyError" or "not in struct" in msg or "Key '" in msg:
        names = ", ".join(f.name for f in fields(TrainConfig))
        return ConfigError(f"{where}: unknown config field {key!r}{suggest(key, names.split(', '))}"
                           f" (fields: {names})")
    return ConfigError(f"{where}: {key}: {msg}" if key else f"{where}: {msg}")


def _read_file(path: str | Path) -> dict:
    oc = _omegaconf()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found")
    try:
        data = oc.OmegaConf.to_container(oc.OmegaConf.load(path))
    except Exception as e:  # noqa: BLE001 - YAML errors of every kind become one line
        raise ConfigError(f"{path}: not a readable YAML config ({str(e).splitlines()[0]})"
                          ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must be a mapping of fields, "
                          f"got {type(data).__name__}")
    return data


def _parse_overrides(overrides: list[str]) -> dict:
    oc = _omegaconf()
    items = []
    for o in overrides:
        if "=" not in o:
            raise ConfigError(f"override {o!r}: expected FIELD=VALUE")
        k, v = o.split("=", 1)
        if k.strip() in OPTIONAL_FIELDS and v.strip().lower() == "none":
            v = "null"  # `--set eval_batches=none` as before OmegaConf
        items.append(f"{k}={v}")
    try:
        return oc.OmegaConf.to_container(oc.OmegaConf.from_dotlist(items))
    except Exception as e:  # noqa: BLE001
        raise _to_omega_error(e, "overrides") from None


def _no_interpolation(layer: dict, where: str) -> None:
    """OmegaConf would resolve ``${…}`` (environment variables, other keys) after the type
    check: refused here, before it."""
    for k, v in layer.items():
        if isinstance(v, str) and "${" in v:
            raise ConfigError(f"{where}: {k}={v!r}: interpolations (${{…}}) are not supported; "
                              "give the value itself")


def load_config_layers(file: str | Path | None = None, overrides: list[str] | None = None,
                       base: TrainConfig | None = None, defaults: dict | None = None
                       ) -> TrainConfig:
    """Resolve a :class:`TrainConfig`: ``base`` (or the preset of the resolved ``model`` and
    ``preset``, which ``defaults``, the file or the overrides may set), then the file, then
    the ``FIELD=VALUE`` overrides. Unknown fields and wrong types are a :class:`ConfigError`
    naming the field."""
    oc = _omegaconf()
    layers = [("defaults", defaults or {})]
    if file is not None:
        layers.append((str(file), _read_file(file)))
    layers.append(("overrides", _parse_overrides(overrides or [])))
    if base is None:
        sel = {"model": STAGE1, "preset": "cpu"}
        for _, layer in layers:
            sel.update({k: layer[k] for k in ("model", "preset") if k in layer})
        base = TrainConfig.preset_config(str(sel["preset"]), str(sel["model"]))
    conf = oc.OmegaConf.structured(base)
    for where, layer in layers:
        _no_interpolation(layer, where)
        try:
            conf = oc.OmegaConf.merge(conf, layer)
        except Exception as e:  # noqa: BLE001 - unknown keys, wrong types
            raise _to_omega_error(e, where) from None
    return TrainConfig(**oc.OmegaConf.to_container(conf)).checked()


def save_config(path: Path, cfg: TrainConfig) -> None:
    from dng.io import atomic_write_json

    atomic_write_json(path, cfg.to_dict())


def load_run_config(run: str | Path) -> TrainConfig:
    """A run directory's saved ``config.json``, checked like any other config."""
    p = Path(run) / "config.json"
    from dng.errors import DNGError
    from dng.io import read_json

    if not p.is_file():  # a file problem (exit 1), not a usage one
        raise DNGError(f"{run}: not a dng run (no config.json)")
    data = read_json(p, "run config", error=DNGError)
    data.pop("extra", None)  # an unused field of runs made before 2026-11-28
    return load_config_layers(base=TrainConfig(), defaults=data)
