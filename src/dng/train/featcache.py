"""Features computed once: a training shortcut for models with a fixed front end.

A model whose training output is ``head(features(weights))`` with ``features`` fixed while it
trains — INR2JLS stage 2: the stage-1 encoder and latent generator, frozen and in eval mode,
probe features included — says so with ``cached_parts() → (features, head)``. The loop then
computes ``features`` of every training network once, before the first step, and each step
runs ``head`` alone on the stored rows::

    F = features(W_train)            (N, *feature shape), once (counted in the run's budget)
    step: loss(head(F[batch]), y[batch])

which is the loss of ``head(features(W[batch]))`` — same gradients, same random draws (the
frozen front end draws none), equal up to the float rounding of another batch composition.
Validation and ``dng eval`` still run the whole model. ``cache_features=false`` turns it off;
features that would take more than :data:`LIMIT_BYTES` are computed per step, as before.
"""

from __future__ import annotations

import time

import torch

from dng import tasks
from dng.device import module_device

LIMIT_BYTES = 4 << 30  # stored features (train + validation) at most, on the model's device


class CachedSplit:
    """A split whose networks are replaced by their stored features: ``batch(index) →
    (features (B, …), y (B,), images_uint8)`` like :meth:`dng.zoo.arrays.ZooArrays.batch`,
    ``weight_batches`` and ``column`` as :func:`dng.metrics.evaluate` reads them."""

    def __init__(self, features: torch.Tensor, data):
        if features.shape[0] != len(data):
            raise ValueError(f"{features.shape[0]} feature rows for {len(data)} networks")
        self.features, self.data = features, data

    def __len__(self) -> int:
        return len(self.data)

    def column(self, name: str) -> torch.Tensor:
        return self.data.column(name)

    def batch(self, index: torch.Tensor, device: torch.device | str | None = None,
              target: str | None = "label"):
        y, u8 = self.data.targets(index, target)
        f = self.features[index.to(self.features.device)]
        if device is not None:
            f, y, u8 = f.to(device), y.to(device), u8.to(device)
        return f, y, u8

    def weight_batches(self, batch_size: int, device: torch.device | str | None = None):
        for i in range(0, len(self), batch_size):
            f = self.features[i:i + batch_size]
            yield f if device is None else f.to(device)


def _rows(features, data, batch_size: int, limit: int, device: torch.device):
    """``features`` of every network of ``data`` stacked (on ``device``, the model's), or the
    size in bytes they would take when that is over ``limit``."""
    rows, i = None, 0
    for w in data.weight_batches(batch_size, device):
        f = features(w)
        if rows is None:
            size = f[0].numel() * f.element_size() * len(data)
            if size > limit:
                return size
            rows = torch.empty((len(data), *f.shape[1:]), dtype=f.dtype, device=f.device)
        rows[i:i + f.shape[0]] = f
        i += f.shape[0]
    return rows


@torch.no_grad()
def cached(net: torch.nn.Module, train, val, cfg, log=None):
    """``(module to step, train split, validation split)``: the head and the two splits as
    stored features when ``net`` offers ``cached_parts()``, ``cfg.cache_features`` is on and
    the features fit :data:`LIMIT_BYTES`; else ``(net, train, val)`` unchanged. The features
    lie on the model's device (the validation split's weights stay on the host)."""
    parts = net.cached_parts() if hasattr(net, "cached_parts") else None
    if parts is None or not cfg.cache_features or len(train) == 0:
        return net, train, val
    features, head = parts
    t0, bs, dev = time.perf_counter(), tasks.eval_batch_size(cfg.task_name), module_device(net)
    rows = [_rows(features, train, bs, LIMIT_BYTES, dev)]
    if isinstance(rows[0], torch.Tensor) and len(val):
        left = LIMIT_BYTES - rows[0].numel() * rows[0].element_size()
        rows.append(_rows(features, val, bs, left, dev))
    if not all(isinstance(r, torch.Tensor) for r in rows):
        if log:
            log(f"{cfg.model}: the features of the training and validation networks would "
                f"take over {LIMIT_BYTES / 2**30:.0f} GiB: computed at every step instead")
        return net, train, val
    if log:
        mib = sum(r.numel() * r.element_size() for r in rows) / 2**20
        log(f"{cfg.model}: features of the {len(train)} training and {len(val)} validation "
            f"networks computed once ({mib:.0f} MiB, {time.perf_counter() - t0:.0f} s); the "
            "steps train the head alone")
    return head, CachedSplit(rows[0], train), (CachedSplit(rows[1], val) if len(val) > 0
                                               else val)
