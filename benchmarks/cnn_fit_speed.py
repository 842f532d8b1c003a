"""CNN zoo fitting speed: the same networks trained batched over networks (dng.zoo.cnnfit) and
one at a time with plain PyTorch (nn.Sequential + torch.optim), side by side in one run.

Both train the Small CNN Zoo network with the same per-network hyper-parameters, initial weights,
optimizer kind, L2 penalty, dropout and own fraction of the training images, for ``--steps``
steps of batch 32, on MNIST-sized inputs (random images: the speed does not depend on them).
Prints network-steps per second for each and the ratio, and the time a 1 000-network zoo of
the table's recipe (epochs 0,1,2,4,8 × 150 steps) takes at the batched rate.

    python benchmarks/cnn_fit_speed.py --networks 64 --steps 40 --threads 2 [--json OUT]

Measure on an otherwise idle machine (say so with the numbers).
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F
from torch import nn

from dng.arch import ACTIVATIONS, Arch
from dng.zoo.cnnfit import draw_hypers, init_cnns, train_cnns


def plain_one(arch, w, b, act: str, hyp, i, x, y, steps, batch, gen) -> None:
    """One network, the usual way."""
    A = nn.ReLU if act == "relu" else nn.Tanh
    p = float(hyp.dropout[i])
    layers = []
    for l, layer in enumerate(arch.layers[:-1]):
        conv = nn.Conv2d(layer.n_in, layer.n_out, layer.kernel, layer.stride)
        layers += [conv, A(), nn.Dropout(p)]
    dense = nn.Linear(arch.layers[-1].n_in, arch.layers[-1].n_out)
    net = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), dense)
    with torch.no_grad():
        mods = [m for m in net if isinstance(m, (nn.Conv2d, nn.Linear))]
        for m, wl, bl in zip(mods, w, b):
            m.weight.copy_(wl[i])
            m.bias.copy_(bl[i])
    kind = int(hyp.optimizer[i])
    lr = float(hyp.lr[i])
    opt = [lambda q: torch.optim.Adam(q, lr, eps=1e-7),
           lambda q: torch.optim.RMSprop(q, lr, alpha=0.9, eps=1e-7),
           lambda q: torch.optim.SGD(q, lr)][kind](net.parameters())
    n_own = max(1, int(float(hyp.train_fraction[i]) * len(x)))
    own = torch.randperm(len(x), generator=gen)[:n_own]
    l2 = float(hyp.l2[i])
    net.train()
    for _ in range(steps):
        idx = own[torch.randint(0, n_own, (batch,), generator=gen)]
        loss = F.cross_entropy(net(x[idx]), y[idx])
        loss = loss + l2 * sum(m.weight.pow(2).sum() for m in mods)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--networks", type=int, default=64)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(20000, 1, 28, 28, generator=g) * 2 - 1
    y = torch.randint(0, 10, (20000,), generator=g)
    tx, ty = x[:10], y[:10]
    arch = Arch.cnn(1, [16, 16, 16])
    ids = torch.arange(a.networks)
    hyp = draw_hypers(ids, 0)
    order = torch.argsort(hyp.act, stable=True)
    ids, hyp = ids[order], hyp.select(order)
    w0 = init_cnns(arch, hyp, ids, 0)

    t = time.perf_counter()
    list(train_cnns(arch, w0, hyp, x, y, tx, ty, [1], a.steps, 32,
                    torch.Generator().manual_seed(1)))
    batched = a.networks * a.steps / (time.perf_counter() - t)

    t = time.perf_counter()
    gen = torch.Generator().manual_seed(1)
    for i in range(a.networks):
        plain_one(arch, w0.weights, w0.biases, ACTIVATIONS[int(hyp.act[i])], hyp, i, x, y,
                  a.steps, 32, gen)
    plain = a.networks * a.steps / (time.perf_counter() - t)
    zoo_steps = 1000 * 8 * 150
    res = {"networks": a.networks, "steps": a.steps, "threads": a.threads,
           "batched_net_steps_per_s": round(batched, 1), "plain_net_steps_per_s": round(plain, 1),
           "ratio": round(batched / plain, 2),
           "zoo_1000_networks_minutes_batched": round(zoo_steps / batched / 60, 1),
           "zoo_1000_networks_minutes_plain": round(zoo_steps / plain / 60, 1),
           "command": f"python benchmarks/cnn_fit_speed.py --networks {a.networks} "
                      f"--steps {a.steps} --threads {a.threads}"}
    print(json.dumps(res, indent=2))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
