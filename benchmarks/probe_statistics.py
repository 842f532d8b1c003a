"""How much of a zoo's labels do simple weight statistics explain?

A diagnostic for short training budgets: per-layer, permutation-invariant statistics of the
weights and biases (mean, std, mean |x|, min/quartiles/max; the output bias; the sorted
output-layer weights) → a linear classifier and a small MLP, trained for a few epochs. A
weight-space model that scores no better than this has so far learned weight *statistics*,
not the function the INR computes.

    python benchmarks/probe_statistics.py --zoo zoos/mnist [--epochs 15]
"""
from __future__ import annotations

import argparse
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from dng.zoo import Zoo

QUANTILES = torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0])


def statistics(weights) -> torch.Tensor:
    """``MLPWeights`` → ``(B, k)`` invariant features (hidden-neuron order does not matter)."""
    cols = []
    for W, b in zip(weights.weights, weights.biases):
        for t in (W.flatten(1), b.flatten(1)):
            if t.shape[1] == 1:
                cols.append(t)
                continue
            cols += [t.mean(1, keepdim=True), t.std(1, keepdim=True), t.abs().mean(1, keepdim=True),
                     torch.quantile(t, QUANTILES, dim=1).T]
    cols.append(weights.weights[-1].sort(-1).values.flatten(1))  # output layer, sorted per row
    return torch.cat(cols, 1)


def fit(model: nn.Module, x, y, xv, yv, epochs: int, seed: int = 0) -> tuple[float, float]:
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(epochs):
        perm = torch.randperm(len(y))
        for i in range(0, len(y), 256):
            idx = perm[i:i + 256]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        train_acc = float((model(x).argmax(1) == y).float().mean())
        val_acc = float((model(xv).argmax(1) == yv).float().mean())
    return train_acc, val_acc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zoo", required=True)
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args(argv)
    zoo = Zoo(args.zoo)
    tr, va, te = (zoo.load(s, max_copy=0) for s in ("train", "val", "test"))
    x, xv, xt = statistics(tr.weights), statistics(va.weights), statistics(te.weights)
    mu, sd = x.mean(0), x.std(0) + 1e-8
    x, xv, xt = (x - mu) / sd, (xv - mu) / sd, (xt - mu) / sd
    k, c = x.shape[1], zoo.num_classes
    print(f"zoo {args.zoo}: {len(tr)} train / {len(va)} val / {len(te)} test INRs, "
          f"{k} statistics per INR, {c} classes")
    for name, model in (("linear", nn.Linear(k, c)),
                        ("mlp 256×2", nn.Sequential(nn.Linear(k, 256), nn.ReLU(),
                                                    nn.Linear(256, 256), nn.ReLU(),
                                                    nn.Linear(256, c)))):
        t0 = time.perf_counter()
        tr_acc, va_acc = fit(model, x, tr.label, xv, va.label, args.epochs)
        with torch.no_grad():
            te_acc = float((model(xt).argmax(1) == te.label).float().mean())
        print(f"{name:10s} train {100 * tr_acc:5.2f} %  val {100 * va_acc:5.2f} %  "
              f"test {100 * te_acc:5.2f} %  ({time.perf_counter() - t0:.0f} s)")
    print(f"command: python {' '.join(sys.argv)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
