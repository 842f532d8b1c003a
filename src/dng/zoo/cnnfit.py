r"""Training many small CNNs **at once**: the Small CNN Zoo's networks, batched over networks.

``B`` networks of one :class:`~dng.arch.Arch` are trained together: their weights are
``(B, …)`` tensors, their forward is :meth:`Arch.run` (grouped convolutions, one group per
network), each draws its own batches from its own fraction of the training images, and a
batched optimizer updates every network with its own optimizer kind and learning rate. No
Python loop runs over networks in a step.

Hyper-parameters per network (drawn from a generator seeded with the zoo seed and the network's
id alone, so a resumed or re-chunked job draws the same networks), after the Small CNN Zoo's
description (Unterthiner et al. 2020):

* activation: ReLU or tanh (one for all layers);
* initialisation: He normal, Glorot normal or N(0, σ²) with σ log-uniform in [1e-3, 0.5];
  biases zero;
* learning rate log-uniform in [5e-4, 5e-2]; optimizer Adam, RMSProp or SGD;
* L2 weight penalty (on kernels) log-uniform in [1e-8, 1e-2]; dropout uniform in [0, 0.7]
  after every hidden layer; fraction of the training images uniform in [0.1, 1].

He/Glorot normals are plain (not truncated) normals here; batches are drawn with replacement.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
import torch.nn.functional as F

from dng.arch import ACTIVATIONS, Arch
from dng.weights import NetWeights

OPTIMIZERS = ("adam", "rmsprop", "sgd")
INITS = ("he_normal", "glorot_normal", "normal")
HYPER_COLUMNS = ("lr", "l2", "dropout", "train_fraction", "init_std", "init", "optimizer")


def _seed(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "little") >> 1


@dataclass
class CNNHypers:
    """Per-network hyper-parameters, each ``(B,)``: ``act`` (ACTIVATIONS index), ``init``
    (INITS index), ``init_std``, ``lr``, ``l2``, ``dropout``, ``train_fraction``,
    ``optimizer`` (OPTIMIZERS index)."""

    act: torch.Tensor
    init: torch.Tensor
    init_std: torch.Tensor
    lr: torch.Tensor
    l2: torch.Tensor
    dropout: torch.Tensor
    train_fraction: torch.Tensor
    optimizer: torch.Tensor

    def __len__(self) -> int:
        return len(self.act)

    def select(self, index: torch.Tensor) -> "CNNHypers":
        """The hyper-parameters of the networks at ``index`` (in that order)."""
        return CNNHypers(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    def columns(self) -> dict[str, torch.Tensor]:
        """The hyper-parameters as float64 target columns of a zoo."""
        return {k: getattr(self, k).double() for k in HYPER_COLUMNS}


def draw_hypers(ids: torch.Tensor, seed: int) -> CNNHypers:
    """One draw per network id (its own generator: independent of batching)."""
    rows = []
    for i in ids.tolist():  # a handful of scalars per network, not compute
        g = torch.Generator().manual_seed(_seed(seed, f"cnn{i}"))
        u = torch.rand(8, generator=g, dtype=torch.float64)
        log_uniform = lambda x, lo, hi: math.exp(math.log(lo) + x * (math.log(hi) - math.log(lo)))  # noqa: E731
        rows.append((ACTIVATIONS.index("relu" if u[0] < 0.5 else "tanh"), int(u[1] * 3),
                     log_uniform(float(u[2]), 1e-3, 0.5), log_uniform(float(u[3]), 5e-4, 5e-2),
                     log_uniform(float(u[4]), 1e-8, 1e-2), 0.7 * float(u[5]),
                     0.1 + 0.9 * float(u[6]), int(u[7] * 3)))
    c = list(zip(*rows))
    return CNNHypers(torch.tensor(c[0]), torch.tensor(c[1]), torch.tensor(c[2]),
                     torch.tensor(c[3]), torch.tensor(c[4]), torch.tensor(c[5]),
                     torch.tensor(c[6]), torch.tensor(c[7]))


def init_cnns(arch: Arch, hypers: CNNHypers, ids: torch.Tensor, seed: int) -> NetWeights:
    """Initial weights: a unit normal per network (its own generator) scaled by its init's std
    (He: ``√(2/fan_in)``, Glorot: ``√(2/(fan_in+fan_out))``, normal: ``σ``); zero biases."""
    B = len(ids)
    ws = []
    for l, layer in enumerate(arch.layers):
        z = torch.stack([torch.randn(layer.weight_shape(), generator=torch.Generator()
                                     .manual_seed(_seed(seed, f"cnn{i}:w{l}")))
                         for i in ids.tolist()])
        fan_in, fan_out = layer.n_in * layer.taps, layer.n_out * layer.taps
        std = torch.where(hypers.init == 0, math.sqrt(2 / fan_in),
                          torch.where(hypers.init == 1, math.sqrt(2 / (fan_in + fan_out)),
                                      hypers.init_std)).float()
        ws.append(z * std.view(B, *[1] * (z.dim() - 1)))
    bs = [torch.zeros(B, layer.n_out) for layer in arch.layers]
    act = hypers.act[:, None].repeat(1, len(arch.layers))
    act[:, -1] = ACTIVATIONS.index("linear")
    return NetWeights(ws, bs, arch, act)


class BatchedOptimizer:
    """Adam (β 0.9/0.999), RMSProp (ρ 0.9) or SGD per network, all at once: every state is
    ``(B, …)``; each network takes the update of its own kind and learning rate (ε = 1e-7,
    Keras's)."""

    def __init__(self, params: list[torch.Tensor], kind: torch.Tensor, lr: torch.Tensor):
        self.params, self.t = params, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.s = [torch.zeros_like(p) for p in params]
        self.kind, self.lr = kind, lr.float()

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        self.t += 1
        b1, b2, rho, eps = 0.9, 0.999, 0.9, 1e-7
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, g, m, v, s in zip(self.params, grads, self.m, self.v, self.s):
            shape = (len(p),) + (1,) * (p.dim() - 1)
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            s.mul_(rho).addcmul_(g, g, value=1 - rho)
            adam = (m / c1) / ((v / c2).sqrt() + eps)
            rms = g / (s.sqrt() + eps)
            k = self.kind.view(shape)
            upd = torch.where(k == 0, adam, torch.where(k == 1, rms, g))
            p.sub_(upd * self.lr.view(shape))


@dataclass
class Checkpoint:
    """The networks after ``epoch`` epochs, with their scores on the test images."""

    epoch: int
    weights: NetWeights
    test_accuracy: torch.Tensor
    test_loss: torch.Tensor
    train_loss: torch.Tensor


@torch.no_grad()
def score(arch: Arch, w: NetWeights, x: torch.Tensor, y: torch.Tensor,
          chunk: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Test accuracy and mean cross-entropy ``(B,)`` of every network on shared images, in
    chunks of images sized so that one layer's activations stay near 256 MB."""
    per_image = len(w) * max(l.n_out for l in arch.layers) * x[0, 0].numel()
    chunk = chunk or max(1, min(1000, (64 << 20) // max(per_image, 1)))
    dev = w.device
    correct = torch.zeros(len(w), device=dev)
    loss = torch.zeros(len(w), device=dev)
    act = None if w.act is None else w.act.to(dev)
    for i in range(0, len(x), chunk):
        logits = arch.run(w, x[i:i + chunk].to(dev), act_ids=act)  # (B, n, classes)
        yy = y[i:i + chunk].to(dev).expand(len(w), -1)
        correct += (logits.argmax(-1) == yy).sum(1)
        loss += F.cross_entropy(logits.transpose(1, 2), yy, reduction="none").sum(1)
    return (correct / len(x)).cpu(), (loss / len(x)).cpu()


def train_cnns(arch: Arch, weights: NetWeights, hypers: CNNHypers, train_x: torch.Tensor,
               train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
               checkpoints: list[int], steps_per_epoch: int, batch_size: int = 32,
               generator: torch.Generator | None = None,
               progress: Callable[[int], None] | None = None,
               device: torch.device | str | None = None) -> Iterator[Checkpoint]:
    """Train ``B`` networks together; yield a :class:`Checkpoint` at each epoch of
    ``checkpoints`` (0: the initial weights). Inputs: images ``(N, C, H, W)`` in [-1, 1],
    labels ``(N,)``. ``device``: where the networks train (batches are drawn on the CPU
    from ``generator``, so a zoo's networks see the same images on any device; checkpoints
    come back to the CPU)."""
    dev = torch.device(device or "cpu")
    B, N = len(weights), len(train_x)
    params = [t.to(dev).clone().requires_grad_(True)
              for t in (*weights.weights, *weights.biases)]
    L = len(arch.layers)
    opt = BatchedOptimizer(params, hypers.optimizer.to(dev), hypers.lr.to(dev))
    # each network's own images: the first ⌈fraction · N⌉ of its own permutation
    perm = torch.argsort(torch.rand(B, N, generator=generator), dim=1)
    n_own = (hypers.train_fraction * N).ceil().clamp(1, N).float()
    l2 = hypers.l2.float().to(dev)
    dropout = hypers.dropout.float().to(dev)
    act = None if weights.act is None else weights.act.to(dev)
    train_x, train_y = train_x.to(dev), train_y.to(dev)
    drop_gen = generator
    if dev.type != "cpu":  # dropout masks are drawn where the activations are
        drop_gen = torch.Generator(device=dev).manual_seed(
            int(torch.randint(2 ** 62, (1,), generator=generator)))
    running = torch.zeros(B, device=dev)
    for epoch in range(max(checkpoints) + 1):
        if epoch > 0:
            running.zero_()
            for _ in range(steps_per_epoch):
                pick = (torch.rand(B, batch_size, generator=generator) * n_own[:, None]).long()
                idx = torch.gather(perm, 1, pick).to(dev)  # (B, batch)
                w = NetWeights(params[:L], params[L:], arch, act, check=False)
                logits = arch.run(w, train_x[idx], act_ids=act, dropout=dropout,
                                  generator=drop_gen)
                ce = F.cross_entropy(logits.transpose(1, 2), train_y[idx],
                                     reduction="none").mean(1)  # (B,)
                reg = sum((p.pow(2).flatten(1).sum(1) for p in params[:L]),
                          torch.zeros(B, device=dev))
                loss = (ce + l2 * reg).sum()
                grads = torch.autograd.grad(loss, params)
                opt.step(list(grads))
                running += ce.detach()
                if progress:
                    progress(1)
        if epoch in checkpoints:
            w = NetWeights([p.detach().clone() for p in params[:L]],
                           [p.detach().clone() for p in params[L:]], arch, act, check=False)
            acc, tl = score(arch, w, test_x, test_y)
            yield Checkpoint(epoch, w.to("cpu") if dev.type != "cpu" else w, acc, tl,
                             (running / max(steps_per_epoch, 1)).cpu()
                             if epoch > 0 else torch.full((B,), float("nan")))
