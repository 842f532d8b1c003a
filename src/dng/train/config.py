"""What a training run is: :class:`TrainConfig`, the presets as data, and loading from YAML
files and ``key=value`` overrides through OmegaConf structured configs (unknown keys and
wrong types are one clear :class:`ConfigError`).

Resolution order: the preset's values for the model (``preset`` and ``model`` may themselves
come from the file or the overrides), then the file, then the overrides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, make_dataclass
from pathlib import Path
from typing import Optional, get_type_hints

from dng.errors import ConfigError, suggest

from dng.models.settings import SETTINGS
from dng.train.configcheck import check
from dng.train.presets import MODELS, PRESETS, REGISTRY, STAGE1, preset_values


def settings_of(model: str) -> tuple[str, ...]:
    """The settings in ``model``'s section (its registry entry's fields that are model
    settings; none for an unknown model)."""
    e = REGISTRY.get(model)
    return tuple(f for f in e.fields if f in SETTINGS) if e else ()


@dataclass(init=False)
class TrainConfig:
    """One training run: the run's fields and ``model_config``, the model's own section (its
    settings from :data:`~dng.models.settings.SETTINGS`: ``emb_dim``, ``hidden``, …, only those
    the model takes). Every field and setting can be set in a YAML file (``--config``; settings
    at the top level or under ``model_config:``) or with ``--set NAME=VALUE``; the resolved
    config is saved as ``RUN/config.json``. ``TrainConfig(**flat)`` also takes settings at the
    top level (run directories written before the sections load as they are); reading
    ``cfg.emb_dim`` gives the section's value (or the setting's default where the model has no
    such setting)."""

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
    from_run: Optional[str] = None  # stage 2: the stage-1 run directory
    wandb: bool = False  # also log to Weights & Biases (when installed)
    # speed (same math): where the data lives, precision, compilation
    data_on_device: bool = True  # the train split is moved to the device once
    precision: str = "fp32"  # fp32 | bf16 (autocast of forward and loss)
    tf32: bool = True  # CUDA matmuls in TF32 (ignored on CPUs)
    compile: str = "none"  # none | default | reduce-overhead (CUDA graphs) | max-autotune
    checkpoint_dtype: str = "fp32"  # fp32 | bf16: dtype of the weights in best.pt
    cache_features: bool = True  # a frozen front end's features computed once (featcache)
    model_config: dict = field(default_factory=dict)  # the model's settings (see above)

    def __init__(self, **kw):
        section = dict(kw.pop("model_config", None) or {})
        section.update({k: kw.pop(k) for k in list(kw) if k in SETTINGS})  # top level wins
        for f in fields(TrainConfig):
            if f.name != "model_config":
                setattr(self, f.name, kw.pop(f.name) if f.name in kw else f.default)
        if kw:
            raise TypeError(f"TrainConfig: unknown field(s) {', '.join(sorted(kw))}")
        self.model_config = {k: section.get(k, SETTINGS[k][1]) for k in settings_of(self.model)}

    def __getattr__(self, name: str):
        if name in SETTINGS:  # only reached for names that are not dataclass fields
            return self.__dict__.get("model_config", {}).get(name, SETTINGS[name][1])
        raise AttributeError(f"TrainConfig has no field {name!r}")

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
        """Raise :class:`ConfigError` for values no run can use; return ``self``
        (:func:`dng.train.configcheck.check`)."""
        check(self)
        return self


OPTIONAL_FIELDS = {f.name for f in fields(TrainConfig) if "Optional" in str(f.type)}


def run_fields() -> list[tuple[str, str, object]]:
    """``(name, type, default)`` of every run field (the model's settings apart)."""
    return [(f.name, str(f.type), f.default) for f in fields(TrainConfig)
            if f.name != "model_config"]

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
        names = [f.name for f in fields(TrainConfig) if f.name != "model_config"]
        return ConfigError(f"{where}: unknown config field {key!r}"
                           f"{suggest(str(key), names + list(SETTINGS))} (fields: "
                           f"{', '.join(names)}; model settings: {', '.join(SETTINGS)})")
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


def _split(layer: dict, where: str) -> tuple[dict, dict]:
    """A layer's run fields and its model settings (top-level names and ``model_config:``)."""
    run = dict(layer)
    section = run.pop("model_config", None) or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: model_config must be a mapping of settings")
    unknown = [k for k in section if k not in SETTINGS]
    if unknown:
        raise ConfigError(f"{where}: unknown model setting {unknown[0]!r}"
                          f"{suggest(str(unknown[0]), list(SETTINGS))} (settings: "
                          f"{', '.join(SETTINGS)})")
    return run, {**section, **{k: run.pop(k) for k in list(run) if k in SETTINGS}}


def _section_schema(model: str, values: dict):
    """A structured (typed) config of ``model``'s settings, starting from ``values``."""
    names = settings_of(model)
    cls = make_dataclass("ModelSettings", [(k, SETTINGS[k][0], field(default=values.get(
        k, SETTINGS[k][1]))) for k in names])
    return cls()


def load_config_layers(file: str | Path | None = None, overrides: list[str] | None = None,
                       base: TrainConfig | None = None, defaults: dict | None = None
                       ) -> TrainConfig:
    """Resolve a :class:`TrainConfig`: ``base`` (or the preset of the resolved ``model`` and
    ``preset``, which ``defaults``, the file or the overrides may set), then the file, then
    the ``NAME=VALUE`` overrides. Run fields and the model's settings are checked apart:
    unknown fields and wrong types are a :class:`ConfigError` naming the field; a setting the
    model does not take is left out (and said on stderr where its value is not the default)."""
    import sys

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
    parts = []
    for where, layer in layers:
        run, section = _split(layer, where)
        _no_interpolation({**run, **section}, where)
        parts.append((where, run, section))
    run_base = {k: v for k, v in base.to_dict().items() if k != "model_config"}
    hints = get_type_hints(TrainConfig)
    conf = oc.OmegaConf.structured(make_dataclass("RunFields", [
        (f.name, hints[f.name], field(default=run_base[f.name])) for f in fields(TrainConfig)
        if f.name != "model_config"])())
    for where, run, _ in parts:
        try:
            conf = oc.OmegaConf.merge(conf, run)
        except Exception as e:  # noqa: BLE001 - unknown keys, wrong types
            raise _to_omega_error(e, where) from None
    run = oc.OmegaConf.to_container(conf)
    model = str(run["model"])
    own = set(settings_of(model))
    sconf = oc.OmegaConf.structured(_section_schema(model, base.model_config))
    for where, _, section in parts:
        foreign = sorted(k for k in section if k not in own and section[k] != SETTINGS[k][1])
        if foreign and where != "defaults":
            verb = "is not a setting" if len(foreign) == 1 else "are not settings"
            print(f"note: {', '.join(foreign)} {verb} of {model} (left out)", file=sys.stderr)
        try:
            sconf = oc.OmegaConf.merge(sconf, {k: v for k, v in section.items() if k in own})
        except Exception as e:  # noqa: BLE001 - wrong types
            raise _to_omega_error(e, where) from None
    return TrainConfig(**run, model_config=oc.OmegaConf.to_container(sconf)).checked()


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
