"""Networks of any node counts and depths in one padded batch (:class:`PaddedNets`): the
alternative to running a mixed zoo's batch in buckets of equal node counts
(:meth:`~dng.mixed.MixedNets.buckets`), which on a zoo as diverse as CNN Wild Park means one
network per bucket.

Padded layout for ``B`` networks, ``L`` = the batch's largest layer count:

* node layer ``k`` of a network with ``L_b`` layers sits at padded position ``k`` (``k < L_b``)
  and its output layer at position ``L``; positions ``L_b … L-1`` *carry* its node layer
  ``L_b - 1`` unchanged (``carry (B, L)``: padded layer ``l`` is a copy for that network), so
  its last layer reads its sources from position ``L - 1``;
* every position is padded to the batch's widest (``sizes``), ``node_mask[k] (B, W_k)`` says
  which nodes are real; ``taps[l] (B, W_{l+1}, W_l, T_l)`` and ``biases[l]`` are zero where
  padded, ``tap_mask[l] (B, T_l)`` the real taps (prefix layout, as
  :class:`~dng.packed.PackedNets`); ``act (B, L)``;
* ``res_index (2, R)`` / ``res_mask (B, R)``: residual pairs in padded global numbering.

The encoder reads it like a ``PackedNets`` and additionally leaves padded sources out of every
sum and copies carried layers (see :class:`~dng.models.encoder.DNGEncoder`); each network's
states equal its bucketed ones up to summation order (tested).
"""

from __future__ import annotations

import torch

from dng.errors import ShapeError
from dng.mixed import MixedNets
from dng.packed import TapBatch, residual_pairs


class PaddedNets(TapBatch):
    """See the module docstring. Built with :meth:`from_mixed`."""

    __slots__ = ("taps", "biases", "tap_mask", "act", "node_mask", "carry", "res_index",
                 "res_mask", "sizes")

    def __init__(self, taps, biases, tap_mask, act, node_mask, carry, res_index, res_mask,
                 sizes):
        self.taps, self.biases, self.tap_mask = tuple(taps), tuple(biases), tuple(tap_mask)
        self.act, self.node_mask, self.carry = act, tuple(node_mask), carry
        self.res_index, self.res_mask, self.sizes = res_index, res_mask, tuple(sizes)

    @classmethod
    def from_mixed(cls, m: MixedNets) -> "PaddedNets":
        present = [(k, g) for k, g in enumerate(m.groups) if g is not None]
        if not present:
            raise ShapeError("PaddedNets: no networks")
        B, dev, dt = len(m), m.device, m.dtype
        L = max(len(g.arch.layers) for _, g in present)

        def at(arch, pos: int) -> int:  # the arch's node layer shown at padded position pos
            n = len(arch.layers)
            return n if pos == L else min(pos, n - 1)

        def layer_at(arch, i: int) -> int:  # the padded position of the arch's layer i
            n = len(arch.layers)
            return i if i < n - 1 else L - 1

        W = [max(g.arch.sizes[at(g.arch, pos)] for _, g in present) for pos in range(L + 1)]
        T = [1] * L
        for _, g in present:
            for i, layer in enumerate(g.arch.layers):
                T[layer_at(g.arch, i)] = max(T[layer_at(g.arch, i)], layer.taps)
        taps = [torch.zeros(B, W[l + 1], W[l], T[l], device=dev, dtype=dt) for l in range(L)]
        biases = [torch.zeros(B, W[l + 1], device=dev, dtype=dt) for l in range(L)]
        tap_mask = [torch.zeros(B, T[l], dtype=torch.bool, device=dev) for l in range(L)]
        node_mask = [torch.zeros(B, W[k], dtype=torch.bool, device=dev) for k in range(L + 1)]
        act = torch.zeros(B, L, dtype=torch.long, device=dev)
        carry = torch.zeros(B, L, dtype=torch.bool, device=dev)
        off = [sum(W[:k]) for k in range(L + 1)]
        res: dict[tuple[int, int], list[torch.Tensor]] = {}
        for k, g in present:
            rows = torch.nonzero(m.arch_id == k).flatten().to(dev)  # in the group's order
            a, n = g.arch, len(g.arch.layers)
            acts = g.act_ids()
            for i, layer in enumerate(a.layers):
                l, t = layer_at(a, i), g.taps(i)
                taps[l][rows, :t.shape[1], :t.shape[2], :t.shape[3]] = t
                tap_mask[l][rows, :t.shape[3]] = True
                if g.biases[i] is not None:
                    biases[l][rows, :t.shape[1]] = g.biases[i]
                act[rows, l] = acts[:, i].to(dev)
            for pos in range(L + 1):
                node_mask[pos][rows, :a.sizes[at(a, pos)]] = True
            carry[rows, n - 1:L - 1] = True
            aoff = [sum(a.sizes[:j]) for j in range(n + 1)]

            def padded(x: int) -> int:  # the arch's global node number → the padded one
                j = max(j for j in range(n + 1) if aoff[j] <= x)
                return off[j if j < n else L] + x - aoff[j]

            for s, t in residual_pairs(a):
                res.setdefault((padded(s), padded(t)), []).append(rows)
        pairs = sorted(res)
        res_index = torch.tensor(pairs, dtype=torch.int64, device=dev).reshape(-1, 2).T
        res_mask = torch.zeros(B, len(pairs), dtype=torch.bool, device=dev)
        for j, p in enumerate(pairs):
            for rows in res[p]:
                res_mask[rows, j] = True
        return cls(taps, biases, tap_mask, act, node_mask, carry, res_index.contiguous(),
                   res_mask, W)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return self.sizes

    def __repr__(self) -> str:
        return f"PaddedNets(B={self.batch_size}, widths {'→'.join(map(str, self.sizes))})"
