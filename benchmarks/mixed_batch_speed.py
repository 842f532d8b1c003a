"""Mixed-architecture batches (issue 23): the DNG-Encoder's training step on batches of
heterogeneous CNNs drawn by the CNN Wild Park sampler, run in buckets of equal node counts (the
paper's grouping) vs one padded batch (``mixed_batches="padded"``). Both on the same batches,
interleaved, in one process; prints steps/s of each, their ratio, and the buckets per batch.

    OMP_NUM_THREADS=1 python benchmarks/mixed_batch_speed.py --batch 32 --steps 6
"""

from __future__ import annotations

import argparse
import time

import torch

from command import command_line
from dng.mixed import MixedNets
from dng.models import create
from dng.zoo.parkbuild import PARK_RANGES, draw_park_net, init_park


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--nets", type=int, default=200)
    ap.add_argument("--emb-dim", type=int, default=64)
    ap.add_argument("--att-dim", type=int, default=16)
    ap.add_argument("--fourier-dim", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    from dng.device import synchronize

    dev = torch.device(args.device)
    nets = [init_park(draw_park_net(i, 0, 3, 10, PARK_RANGES)[0], [i], 0)
            for i in range(args.nets)]
    zoo = MixedNets.from_nets(nets).to(dev)
    torch.manual_seed(0)
    model = create("dng-encoder", zoo.arch, num_classes=1, emb_dim=args.emb_dim,
                   att_dim=args.att_dim, fourier_dim=args.fourier_dim).to(dev)
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    enc = model.encoder
    g = torch.Generator().manual_seed(0)
    times = {"buckets": 0.0, "padded": 0.0}
    nbuckets = []
    for step in range(args.steps + 1):
        batch = zoo[torch.randperm(len(zoo), generator=g)[:args.batch].tolist()]
        nbuckets.append(sum(1 for _ in batch.buckets()))
        for mode in ("buckets", "padded") if step % 2 else ("padded", "buckets"):
            enc.config.mixed_batches = mode
            synchronize(dev)
            t = time.perf_counter()
            loss = model(batch).square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            synchronize(dev)
            if step:  # step 0 warms up
                times[mode] += time.perf_counter() - t
    rate = {k: args.steps / v for k, v in times.items()}
    print(f"batch {args.batch}, {sum(nbuckets) / len(nbuckets):.1f} buckets per batch; "
          f"steps/s buckets {rate['buckets']:.3f}, padded {rate['padded']:.3f}, "
          f"padded/buckets {rate['padded'] / rate['buckets']:.2f}x "
          f"(device {dev}, threads {torch.get_num_threads()})")
    print("reproduce:", command_line())


if __name__ == "__main__":
    main()
