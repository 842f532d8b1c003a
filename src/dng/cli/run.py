"""`dng train | eval | demo | reproduce`: jobs on zoos. Train flags come from the config."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dng.errors import ConfigError

from dng.cli.common import NONNEG_INT, POS_FLOAT, POS_INT, _number


FLAG_ALIASES = {"passes": ["--rnn-layers"], "from_run": ["--from"]}
NONNEG_FIELDS = {"seed", "copies", "probes", "weight_decay", "dropout", "encoder_dropout",
                 "warmup_base", "warmup_inc"}


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`~dng.train.TrainConfig` field and per model setting
    (``--batch-size`` for ``batch_size``; booleans as ``--x/--no-x``), default "not given"."""
    from dng.models.settings import SETTINGS
    from dng.train.config import run_fields
    from dng.train.presets import HELP

    for name, t, default in [*run_fields(), *((k, v[0].__name__, v[1])
                                               for k, v in SETTINGS.items())]:
        names = [f"--{name.replace('_', '-')}", *FLAG_ALIASES.get(name, [])]
        kw = {"dest": f"cfg_{name}", "default": None, "help": HELP.get(name, ""),
              "metavar": name.upper()}
        if default is not None:
            kw["help"] += f" (default {default}; presets may set it)"
        if t == "bool":
            kw.pop("metavar")
            parser.add_argument(*names, action=argparse.BooleanOptionalAction, **kw)
            continue
        if "int" in t:
            kw["type"] = NONNEG_INT if name in NONNEG_FIELDS else POS_INT
        elif "float" in t:
            kw["type"] = _number(float, 0.0, name) if name in NONNEG_FIELDS else POS_FLOAT
        parser.add_argument(*names, **kw)


def train_overrides(args) -> list[str]:
    """The config flags of `dng train` as ``FIELD=VALUE`` overrides (applied after
    ``--config``, before ``--set``)."""
    pairs = []
    for k, v in vars(args).items():
        if k.startswith("cfg_") and v is not None:
            pairs.append(f"{k[4:]}={str(v).lower() if isinstance(v, bool) else v}")
    return pairs + list(args.set)


# run settings a --config file may hold besides the config fields (every flag of dng train)
RUN_KEYS = ("zoo", "out", "device", "resume", "force", "no_verify", "eval")


def _run_settings(args) -> str | None:
    """Fill ``--zoo``/``--out``/``--device`` from the --config file where not given; return a
    temporary copy of the file without them (the config proper), or the file itself."""
    if not args.config:
        return None
    from dng.train.config import _read_file

    data = _read_file(args.config)
    extra = {k: data.pop(k) for k in RUN_KEYS if k in data}
    for k, v in extra.items():
        if k in ("resume", "force", "no_verify", "eval"):
            if not isinstance(v, bool):
                raise ConfigError(f"{args.config}: {k} must be true or false, got {v!r}")
            setattr(args, k, getattr(args, k, False) or v)
        elif getattr(args, k, None) in (None, "auto"):
            setattr(args, k, str(v))
    if not extra:
        return args.config
    import tempfile

    import yaml

    f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    yaml.safe_dump(data, f)
    f.close()
    return f.name


def cmd_train(args) -> None:
    from dng.train import load_config, load_config_layers, train

    config_file = _run_settings(args)
    missing = [f"--{k}" for k in ("zoo", "out") if not getattr(args, k)]
    if missing:
        raise ConfigError(f"dng train needs {' and '.join(missing)} (flags or keys of --config)")
    if config_file != args.config:
        import os

        try:
            return _train_with(args, config_file, load_config, load_config_layers, train)
        finally:
            os.unlink(config_file)
    return _train_with(args, config_file, load_config, load_config_layers, train)


def _train_with(args, config_file, load_config, load_config_layers, train) -> None:
    out = Path(args.out)
    overrides = train_overrides(args)
    if getattr(args, "output", None) == "inr":  # editing into INRs: the INR-output model
        overrides.append("model=inr-editor")
    if args.resume and (out / "config.json").exists():
        saved = load_config(out)
        cfg = load_config_layers(config_file, overrides, base=saved)
        if cfg.model != saved.model:
            raise ConfigError(f"{out} is a {saved.model} run; --resume cannot make it "
                           f"{cfg.model}")
    else:
        cfg = load_config_layers(config_file, overrides)
    if getattr(args, "print_config", False):
        return print_config(cfg, args)
    train(args.zoo, out, cfg, resume=args.resume, device=args.device, verify=not args.no_verify,
          force=args.force)
    print(f"wrote {out}/ (best.pt, last.pt, metrics.csv, config.json, train.json); "
          f"next: dng eval {out}")
    if args.eval:
        cmd_eval(argparse.Namespace(run=str(out), zoo=args.zoo, limit=None, device=args.device))


def print_config(cfg, args) -> None:
    """Each field of the resolved config, then the model's settings, and the layer each came
    from."""
    from dng.models.settings import SETTINGS
    from dng.train.config import TrainConfig, _read_file, run_fields

    preset = TrainConfig.preset_config(cfg.preset, cfg.model)
    data = _read_file(args.config) if args.config else {}
    from_file = set(data) | set(data.get("model_config") or {})
    flags = {k[4:] for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}
    sets = {o.split("=", 1)[0].strip().removeprefix("model_config.") for o in args.set}
    print(f"# dng train config (model {cfg.model}, preset {cfg.preset})")
    rows = [(name, default) for name, _, default in run_fields()]
    rows += [(k, SETTINGS[k][1]) for k in cfg.model_config]
    for i, (name, default) in enumerate(rows):
        if i == len(rows) - len(cfg.model_config):
            print(f"# model_config: the settings of {cfg.model}")
        v = getattr(cfg, name)
        src = ("--set" if name in sets else "flag" if name in flags else
               f"--config {args.config}" if name in from_file else
               f"preset {cfg.preset}" if getattr(preset, name) != default else "field default")
        print(f"{name:22s} = {v!r:28}  # {src}")


def cmd_edit(args) -> None:
    from dng.edit import edit_zoo

    zoo = edit_zoo(args.run, args.zoo, args.out)
    print(zoo.summary())
    print(f"next: dng zoo show {args.out}")


def cmd_eval(args) -> None:
    from dng.eval import evaluate_run

    m = evaluate_run(args.run, args.zoo, args.limit, device=args.device)
    print(json.dumps(m, indent=2))
    pictures = sorted(p.name for p in Path(args.run).glob("*.png"))
    print(f"wrote {args.run}/metrics.json and {', '.join(pictures)}")


def cmd_demo(args) -> None:
    from dng.pipeline import demo

    demo(args.out, (args.stage1_steps, args.stage2_steps), args.limit, args.copies,
         device=args.device)


def cmd_reproduce(args) -> None:
    from dng.pipeline import METHODS, reproduce
    from dng.zoo import FitRecipe

    methods = tuple(args.methods.split(",")) if args.methods else METHODS
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ConfigError(f"unknown method(s) {', '.join(unknown)} (choose {', '.join(METHODS)})")
    path = reproduce(args.data_dir, args.datasets.split(","), args.budget_minutes, args.out,
                     args.seeds, methods, args.zoo_root, limit=args.limit, device=args.device,
                     recipe=FitRecipe.named(args.recipe))
    print(path.read_text())
