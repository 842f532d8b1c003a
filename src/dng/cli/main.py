"""The parser of every verb, and :func:`main`."""

from __future__ import annotations

import argparse
import sys

from dng.errors import ConfigError, DNGError

from dng.cli.common import POS_FLOAT, POS_INT, _device_arg, _number, _Parser
from dng.cli.run import (add_config_flags, cmd_demo, cmd_edit, cmd_eval, cmd_reproduce,
                         cmd_train)
from dng.cli.zoo import ZOO_VERBS, cmd_datasets


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dng", description="Dynamic Neural Graphs: learning on "
                                "neural-network weights.")
    from dng import __version__

    p.add_argument("--version", action="version", version=f"dng {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    zp = sub.add_parser("zoo", help="INR zoos: fit | info | show | import")
    zsub = zp.add_subparsers(dest="zoo_command", required=True)
    for verb, old, add, text in ZOO_VERBS:
        add(zsub.add_parser(verb, help=text))
        add(sub.add_parser(old, help=f"(older spelling of `dng zoo {verb}`) {text}"))

    d = sub.add_parser("datasets", help="list dataset names")
    d.set_defaults(fn=cmd_datasets)

    t = sub.add_parser("train", help="train a model on a zoo: classify, reconstruct, regress "
                       "(e.g. a CNN's test accuracy) or edit (--task)")
    t.add_argument("--zoo", help="zoo directory (or `zoo:` in the --config file)")
    t.add_argument("--out", help="run directory (or `out:` in the --config file)")
    t.add_argument("--config", help="YAML file of config fields (any field, model included, "
                   "and zoo, out, device); flags and --set override it")
    add_config_flags(t)
    t.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override any config field (repeatable)")
    t.add_argument("--resume", action="store_true", help="continue a killed run (a larger "
                   "--steps or --budget-minutes extends it)")
    t.add_argument("--force", action="store_true",
                   help="with --resume: continue even on another zoo")
    t.add_argument("--no-verify", action="store_true",
                   help="skip the sha256 check of the zoo's files as they are read")
    t.add_argument("--eval", action="store_true", help="run `dng eval` afterwards")
    t.add_argument("--print-config", action="store_true",
                   help="print the resolved config, each value with where it came from "
                        "(field default, preset, --config file, flag, --set), and exit")
    t.add_argument("--output", choices=["image", "inr"],
                   help="--task edit: output the edited image (the paper's; --model inr2jls) "
                        "or an edited INR (--model inr-editor)")
    _device_arg(t)
    t.set_defaults(fn=cmd_train)

    ed = sub.add_parser("edit", help="write the edited INRs of a zoo (an --output inr run)")
    ed.add_argument("run")
    ed.add_argument("--zoo", required=True, help="the zoo whose INRs are edited")
    ed.add_argument("--out", required=True, help="the new zoo")
    ed.set_defaults(fn=cmd_edit)

    e = sub.add_parser("eval", help="metrics.json and pictures for a run")
    e.add_argument("run")
    e.add_argument("--zoo", help="zoo directory (default: the one the run trained on)")
    e.add_argument("--limit", type=POS_INT, help="evaluate on the first N val/test INRs only")
    _device_arg(e)
    e.set_defaults(fn=cmd_eval)

    dm = sub.add_parser("demo", help="the full pipeline on the embedded digits set (offline)")
    dm.add_argument("--out", default="runs/demo")
    dm.add_argument("--stage1-steps", type=POS_INT, default=400,
                    help="INR2JLS stage-1 steps of each of the two runs")
    dm.add_argument("--stage2-steps", type=POS_INT, default=150,
                    help="stage-2 (classifier) steps of each run")
    dm.add_argument("--copies", type=_number(int, 0, "copies", 100), default=1,
                    help="extra random-init INRs per training image")
    dm.add_argument("--limit", type=POS_INT, help="images per split (quick runs)")
    _device_arg(dm)
    dm.set_defaults(fn=cmd_demo)

    r = sub.add_parser("reproduce", help="the paper's comparison on this machine's budget")
    r.add_argument("--data-dir", required=False)
    r.add_argument("--datasets", default="mnist,fashion-mnist,cifar10")
    r.add_argument("--budget-minutes", type=POS_FLOAT, default=20.0,
                   help="wall-clock minutes per model")
    r.add_argument("--out", required=True)
    r.add_argument("--seeds", type=POS_INT, default=1, help="seeds per method")
    r.add_argument("--methods", help="comma list (default inr2jls,dng-encoder,ng-gnn,mlp)")
    r.add_argument("--zoo-root", help="where zoos are built/reused (default OUT/zoos)")
    r.add_argument("--limit", type=POS_INT, help="images per split when a zoo is built (quick runs)")
    r.add_argument("--recipe", default="nfn", choices=["nfn", "reference", "dwsnets", "fast"],
                   help="fit recipe of zoos that have to be built, as `dng zoo fit --recipe` "
                        "(nfn = reference, the default)")
    _device_arg(r)
    r.set_defaults(fn=cmd_reproduce)

    from dng.cli.bench import register as register_bench
    register_bench(sub)
    return p


HEAVY = ("train", "demo", "reproduce", "eval", "edit")


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit status: 0 done, 2 bad usage (flags, config, names), 1 any other
    error (data, files, a diverged run, a busy directory), 130 interrupted. Errors are one line; ``DNG_DEBUG=1`` shows the traceback."""
    import os

    args = build_parser().parse_args(argv)  # before any torch import: `--help` stays fast
    from dng.memory import keep_freed_memory

    keep_freed_memory()  # CPU steps reuse freed tensors' memory instead of faulting it in
    if args.command in HEAVY:  # threads for the CPUs actually free (dng.threads)
        from dng.threads import configure_threads

        configure_threads()  # (recorded in a run's train.json, not printed)
    debug = os.environ.get("DNG_DEBUG", "") not in ("", "0")
    try:
        args.fn(args)
    except DNGError as e:
        if debug:
            raise
        print(f"dng {args.command}: error: {e}", file=sys.stderr)
        return 2 if isinstance(e, ConfigError) else 1
    except OSError as e:  # a file the command had to read or write: one line
        if debug:
            raise
        where = f"{e.filename}: " if getattr(e, "filename", None) else ""
        print(f"dng {args.command}: error: {where}{e.strerror or e} "
              f"({type(e).__name__})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"dng {args.command}: interrupted (rerun the same command to resume)",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
