"""`dng zoo import` (and `dng import-zoo`): the field's published zoo layouts, the Small CNN
Zoo, the CNN Wild Park, plain state_dicts."""

from __future__ import annotations

import argparse

from dng.cli.common import NONNEG_INT, POS_FLOAT, POS_INT
from dng.errors import ConfigError


def _smallcnnzoo(args):
    from dng.zoo.smallcnnzoo import import_smallcnnzoo

    step = None if args.step == "all" else int(args.step)
    return import_smallcnnzoo(args.sources[0], args.out, step, args.split_file, args.stride)


def _park(args):
    from dng.zoo.parkzoo import import_park

    return import_park(args.sources[0], args.out, args.splits, args.follow_symlinks)


def _vit(args):
    from dng.zoo.vitzoo import import_vits

    return import_vits(args.sources[0], args.out, args.splits, args.vit_config,
                       args.follow_symlinks)


# --format NAME: (what the one folder holds, the suggested run name, the importer)
FOLDER_FORMATS = {
    "smallcnnzoo": ("weights.npy, layout.csv, metrics.csv.gz", "gen", _smallcnnzoo),
    "park": ("the splits file and checkpoints", "park", _park),
    "vit": ("splits file, vit.json, checkpoints", "vit", _vit),
}


def cmd_import_zoo(args) -> None:
    from dng.zoo import import_zoo

    folder = FOLDER_FORMATS.get(args.format)
    if folder is not None:  # one folder in a network-zoo layout → a format-3 zoo
        what, run, load = folder
        if len(args.sources) != 1:
            raise ConfigError(f"--format {args.format} takes one folder ({what})")
        zoo = load(args)
        print(zoo.summary())
        print(f"next: dng train --zoo {args.out} --model dng-encoder --task regress "
              f"--out runs/{run}")
        return

    images = None
    if args.images:
        from dng.data import load_dataset

        images = load_dataset(args.images, args.data_dir)
    if args.split_at:
        try:
            a, b = (int(x) for x in args.split_at.split(","))
        except ValueError:
            raise ConfigError(f"--split-at takes TRAIN_END,VAL_END (two integers), got "
                              f"{args.split_at!r}") from None
        if not 0 < a <= b:
            raise ConfigError(f"--split-at {args.split_at}: need 0 < TRAIN_END <= VAL_END")
    split_at = tuple(int(x) for x in args.split_at.split(",")) if args.split_at else \
        {"fashion-mnist": (55000, 60000)}.get(args.images or "", (45000, 50000))
    zoo = import_zoo(args.sources, args.out, tuple(args.image_size), args.omega,
                     format=args.format, images=images, split_at=split_at,
                     val_size=args.val_size, activation=args.activation,
                     follow_symlinks=args.follow_symlinks)
    print(zoo.summary())
    psnr = [v.get("psnr_mean") for v in zoo.manifest.get("stats", {}).values()
            if isinstance(v, dict) and isinstance(v.get("psnr_mean"), (int, float))]
    if images is not None and psnr and min(psnr) < LOW_PSNR:
        import sys

        print(f"dng zoo import: warning: the INRs render their images at only "
              f"{min(psnr):.1f} dB PSNR (fitted zoos reach > 30 dB): are the coordinates "
              "transposed, the copies or labels misread, or the output range different? "
              "See the README's published-layout spec.", file=sys.stderr)
    r = zoo.manifest["recipe"]
    print(f"wrote {args.out}; next: dng zoo show {args.out}   or   dng train --zoo {args.out} "
          "--model inr2jls --out runs/s1")
    print(f"activations: {r['activation']} in the hidden layers, linear output"
          + (" (assumed: state_dicts do not say; pass --activation if they are not SIRENs)"
             if r["activation_assumed"] else ""))


LOW_PSNR = 20.0  # dB: an import whose renderings match their images worse than this warns


def _step(v: str) -> str:
    if v != "all" and not v.isdigit():
        raise argparse.ArgumentTypeError("a step number or 'all'")
    return v


def _import_args(i) -> None:
    i.add_argument("sources", nargs="+", help="bundle .pt, state_dict files or directories")
    i.add_argument("--out", required=True)
    i.add_argument("--image-size", type=POS_INT, nargs=2, default=[28, 28],
                   help="height and width the INRs are rendered at")
    i.add_argument("--omega", type=POS_FLOAT, default=None,
                   help="sine frequency ω0 when the files do not say")
    i.add_argument("--format", default="auto",
                   choices=["auto", "nfn", "dwsnets", "state-dicts", "smallcnnzoo", "park", "vit"],
                   help="zoo layout (auto: from the directory structure; smallcnnzoo: the Small "
                        "CNN Zoo's weights.npy + layout.csv + metrics.csv.gz; park: the CNN Wild "
                        "Park release, a splits JSON + checkpoint_*/checkpoint.pt; vit: a splits "
                        "JSON + SimpleViT state_dicts + vit.json)")
    i.add_argument("--step", default="86", type=_step,
                   help="smallcnnzoo: the checkpoint step to import (default 86, the field's "
                        "choice), or 'all'")
    i.add_argument("--splits", default="splits.json",
                   help="park, vit: the splits file inside the folder (train/val/test path "
                        "and score lists)")
    i.add_argument("--vit-config", default="vit.json",
                   help="vit: the JSON of SimpleViT's hyper-parameters inside the folder")
    i.add_argument("--follow-symlinks", action="store_true",
                   help="allow files reached through links that lead outside the layout "
                        "(refused by default, naming the file)")
    i.add_argument("--split-file", help="smallcnnzoo: the published split (one row index per "
                   "line); default: the same rule on the file order")
    i.add_argument("--stride", type=POS_INT, default=2,
                   help="smallcnnzoo: the convolutions' stride (the layout does not say; 2)")
    i.add_argument("--images", help="attach the images of this dataset (same index), e.g. mnist")
    i.add_argument("--data-dir", help="where --images' dataset lies")
    i.add_argument("--split-at", help="nfn layout: TRAIN_END,VAL_END image indices "
                   "(default 45000,50000; 55000,60000 with --images fashion-mnist)")
    i.add_argument("--val-size", type=NONNEG_INT,
                   help="dwsnets layout: validation INRs carved from train (default 10 %%)")
    i.add_argument("--activation", choices=["sine", "relu", "tanh", "gelu", "sigmoid"],
                   help="the MLPs' hidden nonlinearity (state_dicts do not say; default: sine, "
                        "reported as assumed)")
    i.set_defaults(fn=cmd_import_zoo)
