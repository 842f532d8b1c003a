"""Where the time goes: torch.profiler tables for INR2JLS (paper MNIST settings, float32).

    python benchmarks/profile_models.py [--batch 64] [--rows 12]

Prints the top operators (self CPU time) for (1) classification inference (encoder + latent
generator + classifier, no grad) and (2) one stage-1 training step (forward, backward, Adam).
"""

from __future__ import annotations

import argparse
import sys

import torch
import torch.nn.functional as F
from torch.profiler import profile

from dng.bench import PAPER_ENCODER, random_weights
from dng.models import INR2JLS, INR2JLSConfig
from dng.models.encoder import EncoderConfig
from dng.models.heads import INR2JLSClassifier


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rows", type=int, default=12)
    args = ap.parse_args()
    torch.manual_seed(0)
    sizes, image = (2, 32, 32, 1), (1, 28, 28)
    stage1 = INR2JLS(sizes, image, INR2JLSConfig(encoder=EncoderConfig(**PAPER_ENCODER),
                                                  latent_dim=128))
    w = random_weights(sizes, args.batch, "cpu")
    clf = INR2JLSClassifier(INR2JLS(sizes, image, stage1.config), 10).eval()
    with torch.no_grad():
        for _ in range(2):
            clf.predict(w)
        with profile() as prof:
            for _ in range(3):
                clf.predict(w)
    print(f"## classification inference, batch {args.batch}, 3 calls")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))

    targets = torch.rand(args.batch, 6, 28, 28) * 2 - 1
    opt = torch.optim.Adam(stage1.parameters(), lr=1e-5)

    def step():
        loss = F.mse_loss(stage1(w), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    with profile() as prof:
        for _ in range(2):
            step()
    print(f"## stage-1 training step, batch {args.batch}, 2 steps")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))
    print("reproduce: python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
