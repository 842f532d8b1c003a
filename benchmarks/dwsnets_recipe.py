"""Which fitting schedule reproduces the DWSNets MNIST INRs' published per-layer statistics?

Fits the first N MNIST training images with the DWSNets INR (every layer initialised like a
hidden SIREN layer, zero biases, output + 0.5, images in [0, 1]) under each (lr, steps) of a
grid, with Adam and a constant learning rate, and prints every layer's weight and bias std as a
ratio to ``dwsnets_mnist`` (the published figures in ``dng.zoo.stats``) and the mean PSNR.

    OMP_NUM_THREADS=1 python benchmarks/dwsnets_recipe.py --data-dir DATA --n 128 \\
        --lrs 1e-4,3e-4,1e-3 --steps 300,1000,3000 --out results/dwsnets_recipe.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from command import command_line
from dng.data import load_dataset, normalize_images
from dng.zoo.build import init_by_id
from dng.zoo.fit import FitRecipe, fit_sirens
from dng.zoo.siren import SirenSpec
from dng.zoo.stats import compare, layer_stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--lrs", default="1e-4,3e-4,1e-3")
    ap.add_argument("--steps", default="300,1000,3000")
    ap.add_argument("--out")
    args = ap.parse_args()
    images = load_dataset("mnist", args.data_dir)
    train = (images.split == 0).nonzero().flatten()[:args.n]
    targets = normalize_images(images.images[train])
    spec = SirenSpec(2, (32, 32), 1, 30.0, 30.0, output_offset=0.5, image_range=(0.0, 1.0),
                     init="dwsnets")
    init = init_by_id(spec, torch.arange(args.n), 0)
    rows = []
    for lr in map(float, args.lrs.split(",")):
        for steps in map(int, args.steps.split(",")):
            t0 = time.perf_counter()
            w, p = fit_sirens(targets, spec, FitRecipe(steps=steps, lr=lr), init=init)
            rep = compare(layer_stats(w), spec.layer_sizes, "dwsnets_mnist")
            worst = max(abs(r[k] - 1) for r in rep["ratios"] for k in r)
            rows.append({"lr": lr, "steps": steps, "psnr": float(p.mean()),
                         "ratios": rep["ratios"], "layers": rep["layers"],
                         "worst_deviation": worst, "seconds": time.perf_counter() - t0})
            r = rep["ratios"]
            print(f"lr {lr:g} steps {steps}: PSNR {float(p.mean()):.2f} dB; std ratios W "
                  + " ".join(f"{x['weight_std']:.3f}" for x in r) + " | b "
                  + " ".join(f"{x['bias_std']:.3f}" for x in r)
                  + f" | worst {100 * worst:.1f} %", flush=True)
    best = min(rows, key=lambda r: r["worst_deviation"])
    print(f"closest: lr {best['lr']:g}, {best['steps']} steps "
          f"(worst layer {100 * best['worst_deviation']:.1f} % off)")
    print(f"machine: {platform.machine()}; reproduce: {command_line()}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"n": args.n, "rows": rows, "command": command_line()}, f, indent=1)


if __name__ == "__main__":
    main()
