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
    """One flag per :class:`~dng.train.TrainConfig` field (``--batch-size`` for
    ``batch_size``; booleans as ``--x/--no-x``), default "not given"."""
    import dataclasses

    from dng.train.config import TrainConfig
    from dng.train.presets import HELP

    for f in dataclasses.fields(TrainConfig):
        names = [f"--{f.name.replace('_', '-')}", *FLAG_ALIASES.get(f.name, [])]
        t = str(f.type)
        kw = {"dest": f"cfg_{f.name}", "default": None, "help": HELP.get(f.name, ""),
              "metavar": f.name.upper()}
        if f.default is not dataclasses.MISSING and f.default is not None:
            kw["help"] += f" (field default {f.default}; presets may set it)"
        if t == "bool":
            kw.pop("metavar")
            parser.add_argument(*names, action=argparse.BooleanOptionalAction, **kw)
            continue
        if "int" in t:
            kw["type"] = NONNEG_INT if f.name in NONNEG_FIELDS else POS_INT
        elif "float" in t:
            kw["type"] = _number(float, 0.0, f.name) if f.name in NONNEG_FIELDS else POS_FLOAT
        parser.add_argument(*names, **kw)


def train_overrides(args) -> list[str]:
    """The config flags of `dng train` as ``FIELD=VALUE`` overrides (applied after
    ``--config``, before ``--set``)."""
    pairs = []
    for k, v in vars(args).items():
        if k.startswith("cfg_") and v is not None:
            pairs.append(f"{k[4:]}={str(v).lower() if isinstance(v, bool) else v}")
    return pairs + list(args.set)


def cmd_train(args) -> None:
    from dng.train import load_config, load_config_layers, train

    out = Path(args.out)
    overrides = train_overrides(args)
    if getattr(args, "output", None) == "inr":  # editing into INRs: the INR-output model
        overrides.append("model=inr-editor")
    if args.resume and (out / "config.json").exists():
        saved = load_config(out)
        cfg = load_config_layers(args.config, overrides, base=saved)
        if cfg.model != saved.model:
            raise ConfigError(f"{out} is a {saved.model} run; --resume cannot make it "
                           f"{cfg.model}")
    else:
        cfg = load_config_layers(args.config, overrides)
    train(args.zoo, out, cfg, resume=args.resume, device=args.device, verify=not args.no_verify,
          force=args.force)
    print(f"wrote {out}/ (best.pt, last.pt, metrics.csv, config.json, train.json); "
          f"next: dng eval {out}")
    if args.eval:
        cmd_eval(argparse.Namespace(run=str(out), zoo=args.zoo, limit=None, device=args.device))


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
