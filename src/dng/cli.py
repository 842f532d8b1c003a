"""Command line: ``dng <command> …``. Parses arguments and calls the library; nothing else."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from dng.errors import ConfigError, DNGError


def _number(kind, low, name: str, high=None):
    """argparse type: a finite number ``>= low`` (and ``<= high``), else one usage error."""
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if v != v or v in (float("inf"), float("-inf")) or v < low or (high is not None and v > high):
            bound = f">= {low}" + (f" and <= {high}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"{text} is out of range (must be {bound})")
        return v
    parse.__name__ = name
    return parse


class _Parser(argparse.ArgumentParser):
    """Usage errors on one line (the usage text is one ``--help`` away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


POS_INT = _number(int, 1, "positive integer")
NONNEG_INT = _number(int, 0, "non-negative integer")
POS_FLOAT = _number(float, 1e-12, "positive number")


def cmd_fit(args) -> None:
    from dng.data import load_dataset
    from dng.device import resolve_device
    from dng.zoo import FitRecipe, SirenSpec, build_zoo, limit_per_split
    from dng.pipeline import fit_progress
    from dng.zoo.build import default_workers, plan_units

    dev = resolve_device(args.device)  # a bad --device fails before any output
    if args.chunk is None:  # the chunk does not change the zoo (format 2), only the speed
        args.chunk = 1024 if dev.type == "cuda" else 32
    images = limit_per_split(load_dataset(args.dataset, args.data_dir), args.limit)
    spec = SirenSpec.for_image(images.image_shape[0], tuple(args.hidden), args.omega)
    recipe = FitRecipe.named(args.recipe, steps=args.steps, lr=args.lr, schedule=args.schedule,
                             chunk=args.chunk)
    args.workers = args.workers or default_workers()
    total = len(plan_units(images, args.copies)[0])
    bar, update = fit_progress(total, f"fit {images.name}")
    t0 = time.perf_counter()
    try:
        zoo = build_zoo(images, args.out, spec, recipe, args.copies, args.seed,
                        args.shard_size, update, args.workers, args.device)
    finally:
        bar.close()
    m = zoo.manifest
    parts = ", ".join(f"{k} {v['count']}: {v['psnr_mean']:.2f}/{v['psnr_p5']:.2f} dB"
                      for k, v in m["stats"].items())
    print(f"fitted {len(zoo)} INRs in {time.perf_counter() - t0:.1f} s "
          f"({m['inr_per_second']:.1f} INR/s fitting); PSNR mean/p5 {parts} → {args.out}")


def cmd_zoo_info(args) -> None:
    from dng.zoo import Zoo

    zoo = Zoo(args.dir)
    if args.verify:
        zoo.verify()
    if args.stats:
        from dng.zoo.stats import compare, layer_stats, stats_table

        a = zoo.arrays() if args.split == "all" else zoo.load(args.split, max_copy=None)
        ref = None if args.reference == "none" else args.reference
        report = compare(layer_stats(a.weights), zoo.spec.layer_sizes, ref)
        if args.json:
            print(json.dumps(report, indent=2))
            return
        print(zoo.summary())
        print(stats_table(report))
    else:
        print(zoo.summary())
    if args.verify:
        print("  all files match their sha256")


def cmd_show(args) -> None:
    import torch

    from dng.report import image_grid
    from dng.zoo import Zoo, render

    zoo = Zoo(args.dir)
    a = zoo.arrays()
    idx = torch.arange(min(args.n, len(a)))
    sub = a.select(idx)
    C, H, W = zoo.image_shape
    with torch.no_grad():
        rec = render(sub.weights, zoo.spec, H, W)
    from dng.data.datasets import normalize_images

    imgs = normalize_images(sub.target_images())
    titles = [f"{zoo.classes[int(l)] if 0 <= l < zoo.num_classes else '?'} "
              f"{float(p):.1f}dB" for l, p in zip(sub.label, sub.psnr)]
    target = Path(args.out) if args.out else Path(args.dir) / "show.png"
    if target.is_dir() or (args.out and args.out.endswith(("/", "\\"))):
        target = target / "show.png"  # --out DIR: the picture goes inside it
    out = image_grid([("image", imgs), ("INR", rec)], target,
                     titles)
    print(f"wrote {out}")


def cmd_import_zoo(args) -> None:
    from dng.zoo import import_zoo

    images = None
    if args.images:
        from dng.data import load_dataset

        images = load_dataset(args.images, args.data_dir)
    split_at = tuple(int(x) for x in args.split_at.split(",")) if args.split_at else \
        {"fashion-mnist": (55000, 60000)}.get(args.images or "", (45000, 50000))
    zoo = import_zoo(args.sources, args.out, tuple(args.image_size), args.omega,
                     format=args.format, images=images, split_at=split_at,
                     val_size=args.val_size)
    print(zoo.summary())


def cmd_datasets(args) -> None:
    from dng.data import dataset_names

    print("\n".join(dataset_names()))


# `dng train`'s config flags come from the TrainConfig fields (one table: dng.train.config.HELP)
FLAG_ALIASES = {"passes": ["--rnn-layers"], "from_run": ["--from"]}
NONNEG_FIELDS = {"seed", "copies", "probes", "weight_decay", "dropout", "encoder_dropout",
                 "warmup_base", "warmup_inc"}


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`~dng.train.TrainConfig` field (``--batch-size`` for
    ``batch_size``; booleans as ``--x/--no-x``), default "not given"."""
    import dataclasses

    from dng.train.config import HELP, TrainConfig

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
    if args.eval:
        cmd_eval(argparse.Namespace(run=str(out), zoo=args.zoo, limit=None, device=args.device))


def cmd_eval(args) -> None:
    from dng.eval import evaluate_run

    m = evaluate_run(args.run, args.zoo, args.limit, device=args.device)
    print(json.dumps(m, indent=2))


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


def _device_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto",
                        help="cpu, cuda, cuda:N, mps or auto (default: a GPU when there is one)")


def _fit_args(f) -> None:
    f.add_argument("--dataset", required=True, help="digits, mnist, fashion-mnist, cifar10, "
                   "cifar100, or folder:PATH (an image folder or tar)")
    f.add_argument("--data-dir", help="directory with the dataset files (else $DNG_DATA_DIR, "
                   "else download into $DNG_HOME)")
    f.add_argument("--out", required=True, help="zoo directory")
    f.add_argument("--recipe", default="nfn", choices=["nfn", "reference", "fast"],
                   help="nfn (= reference): the paper's zoo (300 steps, lr 1e-3, constant); "
                        "fast: 70 steps, lr 1.2e-2, cosine — 4x quicker, not the paper's data, "
                        "much harder to classify")
    f.add_argument("--steps", type=POS_INT, help="override the recipe's steps")
    f.add_argument("--lr", type=POS_FLOAT, help="override the recipe's learning rate")
    f.add_argument("--schedule", choices=["cosine", "constant"],
                   help="override the recipe's learning-rate schedule")
    f.add_argument("--copies", type=_number(int, 0, "copies", 1000), default=0, help="extra random-init INRs per training image")
    f.add_argument("--limit", type=POS_INT, help="use at most N images of each split")
    f.add_argument("--seed", type=NONNEG_INT, default=0, help="seed of the initial weights")
    f.add_argument("--hidden", type=POS_INT, nargs="+", default=[32, 32],
                   help="hidden widths of the SIRENs")
    f.add_argument("--omega", type=POS_FLOAT, default=30.0, help="sine frequency ω0")
    f.add_argument("--chunk", type=POS_INT, default=None,
                   help="INRs optimised together (default 32 on a CPU, 1024 on a GPU; the zoo "
                        "is the same whatever the chunk)")
    f.add_argument("--shard-size", type=POS_INT, default=1024,
                   help="INRs per shard file")
    f.add_argument("--workers", type=POS_INT, default=None,
                   help="fitting processes on the CPU (default: one per core)")
    _device_arg(f)
    f.set_defaults(fn=cmd_fit)


def _info_args(z) -> None:
    z.add_argument("dir")
    z.add_argument("--verify", action="store_true",
                   help="check the manifest and every file's sha256")
    z.add_argument("--stats", action="store_true",
                   help="per-layer weight and bias mean/std, with the ratio to published ones")
    z.add_argument("--reference", default="auto",
                   help="nfn_mnist | dwsnets_mnist | none (default: nfn_mnist when the "
                        "shapes match)")
    z.add_argument("--split", default="all", choices=["all", "train", "val", "test"])
    z.add_argument("--json", action="store_true", help="with --stats: JSON on stdout")
    z.set_defaults(fn=cmd_zoo_info)


def _show_args(s) -> None:
    s.add_argument("dir")
    s.add_argument("--n", type=POS_INT, default=10, help="INRs shown")
    s.add_argument("--out", help="PNG path (default DIR/show.png)")
    s.set_defaults(fn=cmd_show)


def _import_args(i) -> None:
    i.add_argument("sources", nargs="+", help="bundle .pt, state_dict files or directories")
    i.add_argument("--out", required=True)
    i.add_argument("--image-size", type=POS_INT, nargs=2, default=[28, 28],
                   help="height and width the INRs are rendered at")
    i.add_argument("--omega", type=POS_FLOAT, default=None,
                   help="sine frequency ω0 when the files do not say")
    i.add_argument("--format", default="auto", choices=["auto", "nfn", "dwsnets", "state-dicts"],
                   help="zoo layout (auto: from the directory structure)")
    i.add_argument("--images", help="attach the images of this dataset (same index), e.g. mnist")
    i.add_argument("--data-dir", help="where --images' dataset lies")
    i.add_argument("--split-at", help="nfn layout: TRAIN_END,VAL_END image indices "
                   "(default 45000,50000; 55000,60000 with --images fashion-mnist)")
    i.add_argument("--val-size", type=NONNEG_INT,
                   help="dwsnets layout: validation INRs carved from train (default 10 %%)")
    i.set_defaults(fn=cmd_import_zoo)


ZOO_VERBS = (("fit", "fit", _fit_args, "fit an INR zoo (one SIREN per image), resumable"),
             ("info", "zoo-info", _info_args, "summarise a zoo (--stats, --verify)"),
             ("show", "show", _show_args, "PNG grid of images vs INR renderings"),
             ("import", "import-zoo", _import_args,
              "import a zoo: NFN / DWSNets layouts or SIREN state_dicts"))


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

    t = sub.add_parser("train", help="train INR2JLS (stage 1/2) or a direct classifier")
    t.add_argument("--zoo", required=True, help="zoo directory")
    t.add_argument("--out", required=True, help="run directory")
    t.add_argument("--config", help="YAML file of config fields (any field, model included); "
                   "flags and --set override it")
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
    _device_arg(t)
    t.set_defaults(fn=cmd_train)

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
    r.add_argument("--recipe", default="reference", choices=["reference", "fast"],
                   help="fit recipe of zoos that have to be built (see `dng fit --help`)")
    _device_arg(r)
    r.set_defaults(fn=cmd_reproduce)

    from dng.bench import register as register_bench
    register_bench(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit status: 0 done, 2 bad usage (flags, config, names), 1 any other
    error (data, files, a diverged run, a busy directory), 130 interrupted. Errors are one line; ``DNG_DEBUG=1`` shows the traceback."""
    import os

    args = build_parser().parse_args(argv)
    debug = os.environ.get("DNG_DEBUG", "") not in ("", "0")
    try:
        args.fn(args)
    except DNGError as e:
        if debug:
            raise
        print(f"dng {args.command}: error: {e}", file=sys.stderr)
        return 2 if isinstance(e, ConfigError) else 1
    except KeyboardInterrupt:
        print(f"dng {args.command}: interrupted (rerun the same command to resume)",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
