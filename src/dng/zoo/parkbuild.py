"""Build a zoo of heterogeneous CNNs here (``dng zoo fit --kind park``), after the published
CNN Wild Park generator (neural-graphs ``cnn_sampler.py``; Kofinas et al. 2024). Each network
draws, from its id and the zoo seed alone:

* 2, 3, 4 or 5 conv layers, each with its own channel count (4, 8, 16 or 32), kernel size (3, 5
  or 7; stride 1, "same" padding) and activation (relu, gelu, tanh, sigmoid, leaky_relu);
* for each layer ``i ≥ 1`` a residual source uniformly among "none" and the layers
  ``0..i-2`` (their output added to the first ``min(C_j, C_i)`` channels of layer ``i``
  before its activation);
* global average pooling and a dense layer to the classes; PyTorch's default initialisation;
* a learning rate log-uniform in ``lr`` (Adam) — the published trainer's optimiser settings are
  not in the sampler; ours are said in the zoo's recipe.

(The paper's text says "2–8 layers, 4–64 channels"; the published sampler draws the ranges
above, which we follow; ``ranges`` changes them.) Networks of one unit that share an
architecture train together (:func:`~dng.zoo.cnnfit.train_cnns`, grouped convolutions); the zoo
keeps every network's checkpoints at ``epochs`` with their test accuracy, as the CNN zoo does,
in a mixed-architecture format-3 zoo (:class:`~dng.mixed.MixedNets`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import torch

from dng.arch import Arch
from dng.data.datasets import ImageSet, normalize_images
from dng.errors import ZooError
from dng.mixed import MixedArch, MixedNets
from dng.weights import NetWeights
from dng.zoo.cnnbuild import build_units, data_subsets, network_splits
from dng.zoo.cnnfit import OPTIMIZERS, CNNHypers, _seed, train_cnns
from dng.zoo.netzoo import manifest, trained_on
from dng.zoo.store import Zoo

PARK_RANGES = {"layers": (2, 5), "channels": (4, 8, 16, 32), "kernels": (3, 5, 7),
               "activations": ("relu", "gelu", "tanh", "sigmoid", "leaky_relu"),
               "lr": (5e-4, 5e-3)}


def draw_park_net(net_id: int, seed: int, in_channels: int, classes: int,
                  ranges: dict = PARK_RANGES) -> tuple[Arch, float]:
    """Network ``net_id``'s architecture and learning rate."""
    g = torch.Generator().manual_seed(_seed(seed, f"park:{net_id}"))
    pick = lambda seq: seq[int(torch.randint(len(seq), (1,), generator=g))]  # noqa: E731
    lo, hi = ranges["layers"]
    n = int(torch.randint(lo, hi + 1, (1,), generator=g))
    channels = [in_channels] + [pick(ranges["channels"]) for _ in range(n)]
    kernels = [pick(ranges["kernels"]) for _ in range(n)]
    acts = [pick(ranges["activations"]) for _ in range(n)]
    residual = [-1] + [pick([-1, *range(i - 1)]) for i in range(1, n)]
    a, b = (math.log(v) for v in ranges["lr"])
    lr = math.exp(a + (b - a) * float(torch.rand(1, generator=g)))
    return Arch.park(channels, kernels, acts, residual, classes), lr


def init_park(arch: Arch, ids: list[int], seed: int) -> NetWeights:
    """PyTorch's default initialisation (``U(±1/√fan_in)`` for weights and biases)."""
    ws, bs = [], []
    gens = [torch.Generator().manual_seed(_seed(seed, f"park-init:{i}")) for i in ids]
    for layer in arch.layers:
        bound = 1 / math.sqrt(layer.n_in * layer.taps)
        ws.append(torch.stack([(torch.rand(layer.weight_shape(), generator=g) * 2 - 1) * bound
                               for g in gens]))
        bs.append(torch.stack([(torch.rand(layer.n_out, generator=g) * 2 - 1) * bound
                               for g in gens]))
    return NetWeights(ws, bs, arch)


def build_park_zoo(images: ImageSet, out: str | Path, count: int,
                   epochs: tuple[int, ...] = (0, 1, 2, 4), unit: int = 16,
                   batch_size: int = 32, seed: int = 0, train_size: int | None = None,
                   test_size: int | None = None, steps_per_epoch: int | None = None,
                   ranges: dict = PARK_RANGES,
                   progress: Callable[[int], None] | None = None, device=None) -> Zoo:
    """Train ``count`` heterogeneous CNNs on ``images`` and keep their checkpoints at
    ``epochs`` (see the module docstring)."""
    out = Path(out)
    if count < 1 or unit < 1 or not epochs or min(epochs) < 0:
        raise ZooError("count and unit must be >= 1 and epochs non-negative")
    epochs = tuple(sorted(set(int(e) for e in epochs)))
    C, classes = images.image_shape[0], len(images.classes)
    (tr_x, tr_y), (te_x, te_y) = data_subsets(images, train_size, test_size, seed)
    if len(tr_x) == 0 or len(te_x) == 0:
        raise ZooError(f"{images.name}: CNNs need training and test images")
    spe = steps_per_epoch or max(1, len(tr_x) // batch_size)
    drawn = [draw_park_net(i, seed, C, classes, ranges) for i in range(count)]
    archs: list[Arch] = []
    arch_of: list[int] = []
    index: dict[tuple, int] = {}
    for arch, _ in drawn:
        k = index.setdefault(arch.signature(), len(archs))
        if k == len(archs):
            archs.append(arch)
        arch_of.append(k)
    mixed = MixedArch(archs)
    recipe = {"kind": "park", "count": count, "epochs": list(epochs), "unit": unit,
              "batch_size": batch_size, "steps_per_epoch": spe, "train_images": len(tr_x),
              "test_images": len(te_x), "subsets": "seeded random", "optimizer": "adam",
              "ranges": {k: list(v) if isinstance(v, tuple) else v for k, v in ranges.items()}}
    dataset = trained_on(images)
    targets = ["test_accuracy", "test_loss", "train_loss", "epoch", "net_id", "lr"]
    n_units = -(-count // unit)
    identity = manifest(mixed, targets, dataset, recipe, seed, count * len(epochs), n_units)
    split_of = network_splits(count, seed)
    x, tx = normalize_images(tr_x).float(), normalize_images(te_x).float()

    def unit_rows(u: int):
        ids = list(range(u * unit, min(count, (u + 1) * unit)))
        by_arch: dict[int, list[int]] = {}
        for i in ids:
            by_arch.setdefault(arch_of[i], []).append(i)
        nets, cols = [], {k: [] for k in targets}
        gen = torch.Generator().manual_seed(seed * 1_000_003 + u)
        for k, members in by_arch.items():
            B = len(members)
            lr = torch.tensor([drawn[i][1] for i in members])
            hyp = CNNHypers(torch.zeros(B, dtype=torch.int64), torch.zeros(B, dtype=torch.int64),
                            torch.zeros(B), lr, torch.zeros(B), torch.zeros(B), torch.ones(B),
                            torch.full((B,), OPTIMIZERS.index("adam")))
            w0 = init_park(archs[k], members, seed)
            for cp in train_cnns(archs[k], w0, hyp, x, tr_y, tx, te_y, list(epochs), spe,
                                 batch_size, gen, progress, device):
                nets.append(cp.weights)
                for name, v in (("test_accuracy", cp.test_accuracy), ("test_loss", cp.test_loss),
                                ("train_loss", cp.train_loss),
                                ("epoch", torch.full((B,), float(cp.epoch))),
                                ("net_id", torch.tensor(members, dtype=torch.float64)),
                                ("lr", lr.double())):
                    cols[name].append(v.double())
        weights = MixedNets.from_nets(nets)
        # MixedNets numbers its own architectures: map back to the zoo's list
        local = torch.tensor([index[a.signature()] for a in weights.arch.archs])
        groups = [None] * len(archs)
        for j, g in enumerate(weights.groups):
            groups[int(local[j])] = g
        weights = MixedNets(mixed, local[weights.arch_id], groups)
        ids_t = torch.cat(cols["net_id"]).long()
        meta = {"split": split_of[ids_t].to(torch.int8),
                **{f"t.{k}": torch.cat(v) for k, v in cols.items()}}
        return weights, meta

    return build_units(out, identity, n_units, unit_rows)
