"""Command line: ``dng <command> …``. Parses arguments and calls the library; nothing else."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dng.errors import DNGError


def _progress_bar(total: int, desc: str):
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="INR", dynamic_ncols=True, file=sys.stderr)
    state = {"n": 0, "psnr": 0.0, "t0": time.perf_counter()}

    def update(n: int, mean_psnr: float) -> None:
        state["psnr"] = (state["psnr"] * state["n"] + mean_psnr * n) / (state["n"] + n)
        state["n"] += n
        rate = state["n"] / max(time.perf_counter() - state["t0"], 1e-9)
        bar.set_postfix_str(f"{rate:.1f} INR/s, PSNR {state['psnr']:.2f} dB", refresh=False)
        bar.update(n)

    return bar, update


def cmd_fit(args) -> None:
    from dng.data import load_dataset
    from dng.zoo import FitRecipe, SirenSpec, build_zoo, limit_per_split
    from dng.zoo.build import plan_units

    images = limit_per_split(load_dataset(args.dataset, args.data_dir), args.limit)
    spec = SirenSpec.for_image(images.image_shape[0], tuple(args.hidden), args.omega)
    recipe = FitRecipe(steps=args.steps, lr=args.lr, chunk=args.chunk)
    total = len(plan_units(images, args.copies)[0])
    bar, update = _progress_bar(total, f"fit {images.name}")
    t0 = time.perf_counter()
    try:
        zoo = build_zoo(images, args.out, spec, recipe, args.copies, args.seed,
                        args.shard_size, update)
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
    imgs = sub.target_images().float() / 127.5 - 1
    titles = [f"{zoo.classes[int(l)] if 0 <= l < zoo.num_classes else '?'} "
              f"{float(p):.1f}dB" for l, p in zip(sub.label, sub.psnr)]
    out = image_grid([("image", imgs), ("INR", rec)], args.out or Path(args.dir) / "show.png",
                     titles)
    print(f"wrote {out}")


def cmd_import_zoo(args) -> None:
    from dng.zoo import import_zoo

    zoo = import_zoo(args.sources, args.out, tuple(args.image_size), args.omega)
    print(zoo.summary())


def cmd_datasets(args) -> None:
    from dng.data import dataset_names

    print("\n".join(dataset_names()))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dng", description="Dynamic Neural Graphs: learning on "
                                "neural-network weights.")
    sub = p.add_subparsers(dest="command", required=True)

    f = sub.add_parser("fit", help="fit an INR zoo (one SIREN per image), resumable")
    f.add_argument("--dataset", required=True, help="digits, mnist, fashion-mnist, cifar10, "
                   "cifar100, or folder:PATH (an image folder or tar)")
    f.add_argument("--data-dir", help="directory with the dataset files (else $DNG_DATA_DIR, "
                   "else download into $DNG_HOME)")
    f.add_argument("--out", required=True, help="zoo directory")
    f.add_argument("--steps", type=int, default=70)
    f.add_argument("--lr", type=float, default=1.2e-2)
    f.add_argument("--copies", type=int, default=0, help="extra random-init INRs per training image")
    f.add_argument("--limit", type=int, help="use at most N images of each split")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--hidden", type=int, nargs="+", default=[32, 32])
    f.add_argument("--omega", type=float, default=30.0)
    f.add_argument("--chunk", type=int, default=32, help="INRs fitted together")
    f.add_argument("--shard-size", type=int, default=4096)
    f.set_defaults(fn=cmd_fit)

    z = sub.add_parser("zoo-info", help="summarise a zoo")
    z.add_argument("dir")
    z.add_argument("--verify", action="store_true", help="check every file's sha256")
    z.set_defaults(fn=cmd_zoo_info)

    s = sub.add_parser("show", help="PNG grid of images vs INR renderings")
    s.add_argument("dir")
    s.add_argument("--n", type=int, default=10)
    s.add_argument("--out", help="PNG path (default DIR/show.png)")
    s.set_defaults(fn=cmd_show)

    i = sub.add_parser("import-zoo", help="import SIREN state_dicts as a zoo")
    i.add_argument("sources", nargs="+", help="bundle .pt, state_dict files or directories")
    i.add_argument("--out", required=True)
    i.add_argument("--image-size", type=int, nargs=2, default=[28, 28])
    i.add_argument("--omega", type=float, default=None)
    i.set_defaults(fn=cmd_import_zoo)

    d = sub.add_parser("datasets", help="list dataset names")
    d.set_defaults(fn=cmd_datasets)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return p


_EXTRA_COMMANDS: list = []


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.fn(args)
    except DNGError as e:
        print(f"dng {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dng {args.command}: interrupted (rerun the same command to resume)",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
