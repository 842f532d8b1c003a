"""`dng zoo fit --kind cnn | vit | park`: zoos of networks trained here (parses and calls)."""

from __future__ import annotations

import sys
import time

from dng.errors import ConfigError


def _epochs(text: str) -> tuple[int, ...]:
    try:
        ep = tuple(int(e) for e in text.split(","))
    except ValueError:
        raise ConfigError(f"--epochs takes comma-separated integers, got {text!r}") from None
    if not ep or min(ep) < 0:
        raise ConfigError(f"--epochs must be non-negative, got {text!r}")
    return ep


def _images(args):
    from dng.data import load_dataset
    from dng.zoo.cnnbuild import grayscale

    gs = args.kind == "cnn" and args.dataset.endswith("-gs")  # CIFAR10-GS and the like
    images = load_dataset(args.dataset[:-3] if gs else args.dataset, args.data_dir)
    return grayscale(images) if gs else images


def fit_networks(args) -> None:
    """Build the zoo of ``args.kind``, then print its summary, a line on its test accuracies
    and the next command."""
    import torch
    from tqdm import tqdm

    images = _images(args)
    what = {"cnn": "CNNs", "vit": "ViTs", "park": "heterogeneous CNNs"}[args.kind]
    bar = tqdm(desc=f"train {args.count} {what} on {args.dataset}", unit="step",
               file=sys.stderr, mininterval=0.5 if sys.stderr.isatty() else 30.0)
    common = dict(batch_size=args.batch_size, seed=args.seed, train_size=args.train_size,
                  test_size=args.test_size, steps_per_epoch=args.steps_per_epoch,
                  progress=bar.update, device=args.fit_device)
    t0 = time.perf_counter()
    try:
        if args.kind == "vit":
            from dng.zoo.vitbuild import build_vit_zoo
            from dng.zoo.vitfit import EPOCH_CHOICES

            epochs = _epochs(args.epochs) if args.epochs else EPOCH_CHOICES
            zoo = build_vit_zoo(images, args.out, args.count, epochs=epochs, unit=args.unit,
                                **common)
        else:
            from dng.zoo.cnnbuild import build_cnn_zoo
            from dng.zoo.parkbuild import build_park_zoo

            epochs = _epochs(args.epochs or "0,1,2,4")
            build = build_cnn_zoo if args.kind == "cnn" else build_park_zoo
            zoo = build(images, args.out, args.count, epochs, args.unit, **common)
    finally:
        bar.close()
    a = zoo.arrays()
    acc = a.column("test_accuracy").double()
    if args.kind != "vit":  # each network's last checkpoint
        acc = acc[a.column("epoch") == max(epochs)]
    qs = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)
    q = torch.quantile(acc, torch.tensor(qs, dtype=torch.float64))
    print(zoo.summary())
    print(f"trained {args.count} {what} in {time.perf_counter() - t0:.1f} s; test accuracy"
          f"{'' if args.kind == 'vit' else f' at epoch {max(epochs)}'}: quantiles "
          f"{'/'.join(str(int(100 * x)) for x in qs)} % = "
          + " / ".join(f"{v:.3f}" for v in q.tolist()))
    print(f"wrote {args.out}; next: dng train --zoo {args.out} --model dng-encoder "
          f"--task regress --out runs/{args.kind}")
