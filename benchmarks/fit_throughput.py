"""Zoo-fitting throughput: batched fitter (end to end, shards written) vs a plain loop.

    python benchmarks/fit_throughput.py --data-dir DIR [--n 2048] [--baseline-n 8]

Measures, in one run:
1. ``dng.zoo.build_zoo`` on the first ``n`` MNIST images (2→32→32→1, `fast` recipe by default): INR/s
   end to end (reading images, fitting, writing safetensors shards, statistics), PSNR mean/p5.
2. A plain one-image-at-a-time loop — ``nn.Module`` SIREN + ``torch.optim.Adam`` (lr 1e-3,
   the reference recipe) — on ``baseline-n`` of the same images, each trained until its PSNR
   reaches the batched run's mean PSNR (at most ``--max-steps`` steps); INR/s and the ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time

import torch
from torch import nn

from dng.data import load_dataset, normalize_images
from dng.zoo import FitRecipe, build_zoo
from dng.zoo.fit import RECIPES
from dng.zoo.parallel import default_workers
from dng.zoo.siren import SirenSpec, grid_coords


class PlainSiren(nn.Module):
    def __init__(self, spec: SirenSpec):
        super().__init__()
        s = spec.layer_sizes
        self.lins = nn.ModuleList(nn.Linear(a, b) for a, b in zip(s[:-1], s[1:]))
        self.omegas = spec.omegas
        with torch.no_grad():
            for l, lin in enumerate(self.lins):
                bound = 1 / s[l] if l == 0 else (6 / s[l]) ** 0.5 / spec.hidden_omega
                lin.weight.uniform_(-bound, bound)

    def forward(self, x):
        for l, lin in enumerate(self.lins):
            x = lin(x)
            if l < len(self.omegas):
                x = torch.sin(self.omegas[l] * x)
        return x


def plain_fit(img: torch.Tensor, spec: SirenSpec, target_psnr: float, max_steps: int):
    C, H, W = img.shape
    x = grid_coords(H, W)
    y = img.permute(1, 2, 0).reshape(-1, C)
    net = PlainSiren(spec)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for step in range(1, max_steps + 1):
        loss = ((net(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if 10 * torch.log10(4 / loss.detach()) >= target_psnr:
            break
    with torch.no_grad():
        p = float(10 * torch.log10(4 / ((net(x) - y) ** 2).mean()))
    return step, p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=os.environ.get("DNG_DATA_DIR"))
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--baseline-n", type=int, default=8)
    ap.add_argument("--max-steps", type=int, default=3000)
    ap.add_argument("--steps", type=int, default=RECIPES["fast"]["steps"])
    ap.add_argument("--lr", type=float, default=RECIPES["fast"]["lr"])
    ap.add_argument("--schedule", default=RECIPES["fast"]["schedule"])
    ap.add_argument("--workers", type=int, default=default_workers())
    args = ap.parse_args()

    t_load = time.perf_counter()
    images = load_dataset("mnist", args.data_dir)
    sub = images.subset(torch.arange(args.n))
    t_load = time.perf_counter() - t_load
    spec = SirenSpec.for_image(1)
    out = tempfile.mkdtemp(prefix="dng-fit-bench-")
    try:
        t0 = time.perf_counter()
        zoo = build_zoo(sub, os.path.join(out, "zoo"), spec, FitRecipe(steps=args.steps, lr=args.lr,
                                                                  schedule=args.schedule),
                        shard_size=256, workers=args.workers)
        dt = time.perf_counter() - t0
        psnr = zoo.arrays().psnr.double()
    finally:
        shutil.rmtree(out, ignore_errors=True)
    rate = args.n / dt
    mean, p5 = float(psnr.mean()), float(torch.quantile(psnr, 0.05))
    print(f"batched fitter: {args.n} INRs in {dt:.1f} s = {rate:.1f} INR/s end to end "
          f"(+{t_load:.1f} s reading MNIST once); PSNR mean {mean:.2f} dB, p5 {p5:.2f} dB, "
          f"{args.steps} steps, lr {args.lr}, {args.workers} worker process(es)")

    targets = normalize_images(sub.images[:args.baseline_n])
    t0 = time.perf_counter()
    steps, reached = [], []
    for img in targets:
        s, p = plain_fit(img, spec, mean, args.max_steps)
        steps.append(s)
        reached.append(p)
    bdt = time.perf_counter() - t0
    brate = args.baseline_n / bdt
    print(f"plain loop (nn.Module + Adam lr 1e-3, one image at a time, until PSNR >= {mean:.2f} "
          f"dB or {args.max_steps} steps): {args.baseline_n} INRs in {bdt:.1f} s = "
          f"{brate:.2f} INR/s; steps {steps}; PSNR reached mean {sum(reached) / len(reached):.2f}")
    print(f"ratio batched / plain: {rate / brate:.0f}x")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("reproduce: python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
