r"""Training many small vision transformers **at once** (the DNG paper's ViT zoo generator).

``B`` SimpleViTs of one :class:`~dng.vit.ViTSpec` train together: their parameters are
``(B, …)`` tensors, their forward is :meth:`ViTWeights.run` (one batched einsum per layer, no
loop over networks), one Adam state per network. As the paper's generator: random
initialisation (PyTorch's defaults: Linear ``U(±1/√fan_in)``, LayerNorm 1/0), CIFAR-10, and a
per-network number of epochs drawn from :data:`EPOCH_CHOICES`; each network's row in the zoo is
its weights after its own number of epochs, with its test accuracy. The networks of a unit are
ordered by epochs (longest first) so that those still training are a prefix: a network that has
reached its epochs stops costing compute.

Simplifications (said in the zoo's recipe): the networks of a unit see the same minibatches;
an "epoch" is ``steps_per_epoch`` steps on the (possibly subsampled) training images.
"""

from __future__ import annotations

import hashlib
import math
from typing import Callable, Iterator

import torch
import torch.nn.functional as F

from dng.vit import ViTSpec, ViTWeights

EPOCH_CHOICES = (0, 1, 2, 3, 5, 10, 13, 18, 23)


def _seed(seed: int, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "little") >> 1


def draw_epochs(ids: torch.Tensor, seed: int, choices=EPOCH_CHOICES) -> torch.Tensor:
    """Each network's epochs ``(B,)``, from its id and the zoo seed alone."""
    out = [choices[torch.randint(len(choices), (1,), generator=torch.Generator().manual_seed(
        _seed(seed, f"vit-epochs:{int(i)}"))).item()] for i in ids]
    return torch.tensor(out, dtype=torch.int64)


def init_vits(spec: ViTSpec, ids: torch.Tensor, seed: int) -> ViTWeights:
    """PyTorch's default initialisation, one generator per network id."""
    params: dict[str, list[torch.Tensor]] = {}
    for i in ids.tolist():
        g = torch.Generator().manual_seed(_seed(seed, f"vit-init:{i}"))
        fan = {}
        for key, shape in spec.keys():
            if len(shape) == 2:  # Linear weight (out, in): U(±1/√in) (kaiming_uniform, a=√5)
                fan[key.rsplit(".", 1)[0]] = shape[1]
                t = (torch.rand(shape, generator=g) * 2 - 1) / math.sqrt(shape[1])
            elif key.rsplit(".", 1)[0] in fan:  # a Linear's bias
                t = (torch.rand(shape, generator=g) * 2 - 1) / math.sqrt(fan[key.rsplit(".", 1)[0]])
            else:  # LayerNorm
                t = torch.ones(shape) if key.endswith("weight") else torch.zeros(shape)
            params.setdefault(key, []).append(t)
    return ViTWeights(spec, {k: torch.stack(v) for k, v in params.items()})


@torch.no_grad()
def score_vits(w: ViTWeights, x: torch.Tensor, y: torch.Tensor, chunk: int = 250
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Test accuracy and mean cross-entropy ``(B,)`` on shared images."""
    correct = torch.zeros(len(w), device=w.device)
    loss = torch.zeros(len(w), device=w.device)
    for i in range(0, len(x), chunk):
        logits = w.run(x[i:i + chunk])
        yy = y[i:i + chunk].expand(len(w), -1)
        correct += (logits.argmax(-1) == yy).sum(1)
        loss += F.cross_entropy(logits.transpose(1, 2), yy, reduction="none").sum(1)
    return correct / len(x), loss / len(x)


def train_vits(w0: ViTWeights, epochs: torch.Tensor, train_x: torch.Tensor,
               train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
               steps_per_epoch: int, batch_size: int = 128, lr: float = 1e-3,
               generator: torch.Generator | None = None,
               progress: Callable[[int], None] | None = None, device=None
               ) -> Iterator[tuple[torch.Tensor, ViTWeights, torch.Tensor, torch.Tensor]]:
    """Train ``B`` ViTs with Adam; yield ``(index, weights, test_accuracy, test_loss)`` for the
    networks (positions in ``w0``) whose ``epochs`` end at each epoch boundary. ``device``:
    where they train (minibatches drawn on the CPU; results come back to the CPU)."""
    dev = torch.device(device or "cpu")
    order = torch.argsort(epochs, descending=True, stable=True)
    keys = list(w0.params)
    params = {k: w0.params[k][order].to(dev).clone() for k in keys}
    train_x, train_y = train_x.to(dev), train_y.to(dev)
    test_x, test_y = test_x.to(dev), test_y.to(dev)
    m = {k: torch.zeros_like(v) for k, v in params.items()}
    v2 = {k: torch.zeros_like(v) for k, v in params.items()}
    ep = epochs[order]
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
    for e in range(int(ep.max()) + 1 if len(ep) else 0):
        n_active = int((ep > e).sum())
        done = (ep == e).nonzero().flatten()
        if len(done):
            w = ViTWeights(w0.spec, {k: params[k][done] for k in keys}, check=False)
            acc, loss = score_vits(w, test_x, test_y)
            yield order[done], ViTWeights(w0.spec, {k: p.to("cpu", copy=True)
                                                    for k, p in w.params.items()},
                                          check=False), acc.cpu(), loss.cpu()
        if n_active == 0:
            break
        for _ in range(steps_per_epoch):
            t += 1
            idx = torch.randint(len(train_x), (batch_size,), generator=generator).to(dev)
            leaf = {k: params[k][:n_active].detach().requires_grad_(True) for k in keys}
            logits = ViTWeights(w0.spec, leaf, check=False).run(train_x[idx])
            ce = F.cross_entropy(logits.transpose(1, 2),
                                 train_y[idx].expand(n_active, -1), reduction="none").mean(1)
            grads = torch.autograd.grad(ce.sum(), [leaf[k] for k in keys])
            with torch.no_grad():
                c1, c2 = 1 - b1 ** t, 1 - b2 ** t
                for k, g in zip(keys, grads):
                    mk, vk = m[k][:n_active], v2[k][:n_active]
                    mk.mul_(b1).add_(g, alpha=1 - b1)
                    vk.mul_(b2).addcmul_(g, g, value=1 - b2)
                    params[k][:n_active] -= lr * (mk / c1) / ((vk / c2).sqrt() + eps)
            if progress:
                progress(1)
