"""`dng zoo fit | info | show | import` (and their older spellings), `dng datasets`."""

from __future__ import annotations

import json
import time
from pathlib import Path

from dng.errors import ConfigError


from dng.cli.common import NONNEG_INT, POS_FLOAT, POS_INT, _device_arg, _number


def cmd_fit(args) -> None:
    from dng.data import load_dataset
    from dng.device import resolve_device
    from dng.zoo import FitRecipe, build_zoo, limit_per_split
    from dng.zoo.fit import recipe_spec
    from dng.pipeline import fit_progress
    from dng.zoo.build import plan_units
    from dng.zoo.parallel import default_workers

    dev = resolve_device(args.device)  # a bad --device fails before any output
    if args.kind != "inr":  # networks trained on `dev` (the CPU by default)
        args.fit_device = dev
        from dng.cli.netfit import fit_networks

        return fit_networks(args)
    if args.chunk is None:  # the chunk does not change the zoo (format ≥ 2), only the speed
        args.chunk = 1024 if dev.type == "cuda" else 32
    images = limit_per_split(load_dataset(args.dataset, args.data_dir), args.limit)
    spec = recipe_spec(args.recipe, images.image_shape[0], tuple(args.hidden), args.omega)
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
    print(f"next: dng zoo show {args.out}   or   dng train --zoo {args.out} --model inr2jls "
          f"--out runs/s1")


def cmd_zoo_info(args) -> None:
    from dng.zoo import Zoo

    zoo = Zoo(args.dir)
    if args.verify:
        zoo.verify()
    if args.stats and not zoo.renders:
        raise ConfigError(f"--stats compares INR layers with the published INR datasets; "
                          f"{args.dir} holds {zoo.arch.describe()} (its targets are in the "
                          "summary: dng zoo info without --stats)")
    if args.stats:
        from dng.zoo.stats import compare, layer_stats, stats_table

        a = zoo.arrays() if args.split == "all" else zoo.load(args.split, max_copy=None)
        ref = None if args.reference == "none" else args.reference
        report = compare(layer_stats(a.weights), zoo.spec.layer_sizes, ref, zoo.spec.init)
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
    if not zoo.renders:
        raise ConfigError(f"dng zoo show draws INRs beside their images; {args.dir} holds "
                          f"{zoo.arch.describe()} (no images to draw)")
    a = zoo.arrays()
    idx = torch.arange(min(args.n, len(a)))
    sub = a.select(idx)
    C, H, W = zoo.image_shape
    with torch.no_grad():
        rec = render(sub.weights, zoo.spec, H, W)
    from dng.data.datasets import normalize_images

    imgs = normalize_images(sub.target_images())
    from dng.report import inr_titles

    titles = inr_titles(sub.label, sub.psnr, zoo.classes)
    target = Path(args.out) if args.out else Path(args.dir) / "show.png"
    if target.is_dir() or (args.out and args.out.endswith(("/", "\\"))):
        target = target / "show.png"  # --out DIR: the picture goes inside it
    out = image_grid([("image", imgs), ("INR", rec)], target,
                     titles)
    print(f"wrote {out}")


def cmd_datasets(args) -> None:
    from dng.data import dataset_names

    print("\n".join(dataset_names()))


def _fit_args(f) -> None:
    f.add_argument("--kind", default="inr", choices=["inr", "cnn", "vit", "park"],
                   help="inr: one SIREN per image (default); cnn: --count small CNNs trained "
                        "on the dataset (the Small CNN Zoo's networks); vit: --count small "
                        "vision transformers (the DNG paper's ViT zoo); park: heterogeneous CNNs with residuals "
                        "(the CNN Wild Park generator)")
    f.add_argument("--dataset", required=True, help="digits, mnist, fashion-mnist, cifar10, "
                   "cifar100, or folder:PATH (an image folder or tar); --kind cnn: also "
                   "cifar10-gs (grayscale)")
    f.add_argument("--count", type=POS_INT, default=1000, help="--kind cnn: networks")
    f.add_argument("--epochs", default=None,
                   help="--kind cnn: epochs whose checkpoints are kept (0: the initial weights;"
                        " default 0,1,2,4); --kind vit: the epochs each network draws from "
                        "(default the paper's 0,1,2,3,5,10,13,18,23)")
    f.add_argument("--unit", type=POS_INT, default=64,
                   help="--kind cnn/vit: networks trained at once (one shard each)")
    f.add_argument("--batch-size", type=POS_INT, default=32, help="--kind cnn: batch per network")
    f.add_argument("--train-size", type=POS_INT, help="--kind cnn: use the first N training "
                   "images")
    f.add_argument("--test-size", type=POS_INT, help="--kind cnn: score on the first N test "
                   "images")
    f.add_argument("--steps-per-epoch", type=POS_INT,
                   help="--kind cnn: steps per epoch (default: training images / batch)")
    f.add_argument("--data-dir", help="directory with the dataset files (else $DNG_DATA_DIR, "
                   "else download into $DNG_HOME)")
    f.add_argument("--out", required=True, help="zoo directory")
    f.add_argument("--recipe", default="nfn", choices=["nfn", "reference", "dwsnets", "fast"],
                   help="nfn (= reference): the paper's zoo (300 steps, lr 1e-3, constant); "
                        "dwsnets: the DWSNets / neural-graphs INRs (hidden-style init, zero "
                        "biases, output + 0.5, images in [0, 1]); "
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


from dng.cli.zooimport import _import_args  # noqa: E402  (the import verb, its own module)

ZOO_VERBS = (("fit", "fit", _fit_args, "fit an INR zoo (one SIREN per image), resumable"),
             ("info", "zoo-info", _info_args, "summarise a zoo (--stats, --verify)"),
             ("show", "show", _show_args, "PNG grid of images vs INR renderings"),
             ("import", "import-zoo", _import_args,
              "import a zoo: NFN / DWSNets layouts or SIREN state_dicts"))
