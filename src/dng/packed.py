"""A batch of networks of *different* architectures that share their node counts.

:class:`PackedNets` holds ``B`` networks with the same node counts ``n_0 … n_L`` (channels per
layer — the CNN Wild Park's *signature*) whose kernel sizes, activations and residual
connections may differ network by network:

* ``taps[l]``: ``(B, n_{l+1}, n_l, T_l)`` kernel taps, row-major over ``(k_h, k_w)``, padded
  with zeros *after* each network's real taps to the batch's largest ``T_l`` (prefix layout:
  tap ``t`` of a 3×3 kernel sits where tap ``t`` of a 7×7 one does);
* ``tap_mask[l]``: ``(B, T_l)`` bool, which taps are real;
* ``biases[l]``: ``(B, n_{l+1})`` (zeros for a layer without bias);
* ``act``: ``(B, L)`` activation indices into :data:`~dng.arch.ACTIVATIONS`;
* ``res_index``: ``(2, R)`` residual node pairs (source, target) in *global* node numbering
  (group ``g`` starts at ``n_0 + … + n_{g-1}``), the union over the batch sorted by (source,
  target); ``res_mask``: ``(B, R)`` which pairs each network has. Layer ``i`` with residual
  source ``j`` gives the pairs ``(o_{j+1} + c, o_{i+1} + c)`` for ``c < min(n_{j+1}, n_{i+1})``;
* ``archs``: each network's :class:`~dng.arch.Arch`.

Built from :class:`~dng.weights.NetWeights` of one architecture each with :meth:`pack`; the
DNG-Encoder reads it like a ``NetWeights`` (see :func:`dng.graph.dynamic_graph`).
"""

from __future__ import annotations

from typing import Sequence

import torch

from dng.arch import Arch
from dng.errors import ShapeError
from dng.weights import NetWeights


def residual_pairs(arch: Arch) -> list[tuple[int, int]]:
    """The global (source, target) node pairs of an architecture's residual connections."""
    sizes = arch.sizes
    off = [0]
    for n in sizes:
        off.append(off[-1] + n)
    pairs = []
    for i, layer in enumerate(arch.layers):
        j = layer.residual
        if j is not None:
            c = min(sizes[j + 1], sizes[i + 1])
            pairs += [(off[j + 1] + ch, off[i + 1] + ch) for ch in range(c)]
    return pairs


class TapBatch:
    """What every batch of per-layer taps ``(B, n_out, n_in, T)`` answers (``self.taps``)."""

    __slots__ = ()

    @property
    def num_layers(self) -> int:
        return len(self.taps)

    @property
    def batch_size(self) -> int:
        return int(self.taps[0].shape[0])

    def __len__(self) -> int:
        return self.batch_size

    @property
    def device(self) -> torch.device:
        return self.taps[0].device

    @property
    def dtype(self) -> torch.dtype:
        return self.taps[0].dtype

    @property
    def max_taps(self) -> int:
        return max(t.shape[-1] for t in self.taps)


class PackedNets(TapBatch):
    """See the module docstring."""

    __slots__ = ("taps", "biases", "tap_mask", "act", "res_index", "res_mask", "archs")

    def __init__(self, taps, biases, tap_mask, act, res_index, res_mask, archs):
        self.taps, self.biases, self.tap_mask = tuple(taps), tuple(biases), tuple(tap_mask)
        self.act, self.res_index, self.res_mask = act, res_index, res_mask
        self.archs = tuple(archs)

    @classmethod
    def pack(cls, items: Sequence[NetWeights]) -> "PackedNets":
        """Pack batches of (possibly different) architectures with equal node counts."""
        items = [it for it in items]
        if not items:
            raise ShapeError("PackedNets.pack: nothing to pack")
        sizes = items[0].layer_sizes
        for it in items:
            if not isinstance(it, NetWeights):
                raise ShapeError(f"PackedNets.pack takes NetWeights, got {type(it).__name__}")
            if it.layer_sizes != sizes:
                raise ShapeError("PackedNets.pack: node counts differ ("
                                 f"{'→'.join(map(str, it.layer_sizes))} vs "
                                 f"{'→'.join(map(str, sizes))}); group networks by signature")
            if it.dtype != items[0].dtype or it.device != items[0].device:
                raise ShapeError("PackedNets.pack: all networks need one dtype and device")
        taps, masks, biases = [], [], []
        for l in range(len(sizes) - 1):
            T = max(it.arch.layers[l].taps for it in items)
            parts, ms = [], []
            for it in items:
                t = it.taps(l)
                n = t.shape[-1]
                parts.append(torch.nn.functional.pad(t, (0, T - n)))
                ms.append((torch.arange(T, device=t.device) < n).expand(it.batch_size, T))
            taps.append(torch.cat(parts))
            masks.append(torch.cat(ms))
            biases.append(torch.cat([it.biases[l] if it.biases[l] is not None else
                                     it.weights[l].new_zeros(it.batch_size, sizes[l + 1])
                                     for it in items]))
        act = torch.cat([it.act_ids().to(items[0].device) for it in items])
        per = [set(residual_pairs(it.arch)) for it in items]
        cat = sorted(set().union(*per))
        dev = items[0].device
        res_index = torch.tensor(cat, dtype=torch.int64, device=dev).reshape(-1, 2).T
        res_mask = torch.cat([torch.tensor([p in s for p in cat], dtype=torch.bool,
                                           device=dev).expand(it.batch_size, len(cat))
                              for it, s in zip(items, per)])
        archs = [it.arch for it in items for _ in range(it.batch_size)]
        return cls(taps, biases, masks, act, res_index.contiguous(), res_mask, archs)

    # ---------------------------------------------------------------- properties
    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return self.archs[0].sizes

    def act_ids(self) -> torch.Tensor:
        return self.act

    # ---------------------------------------------------------------- transforms
    def to(self, device=None, dtype: torch.dtype | None = None) -> "PackedNets":
        if isinstance(device, torch.dtype):
            device, dtype = None, device
        f = lambda t: t.to(device=device, dtype=dtype)  # noqa: E731
        g = lambda t: t.to(device=device)  # noqa: E731
        return PackedNets([f(t) for t in self.taps], [f(b) for b in self.biases],
                          [g(m) for m in self.tap_mask], g(self.act), g(self.res_index),
                          g(self.res_mask), self.archs)

    def __getitem__(self, index) -> "PackedNets":
        """Select networks (int, slice, list or index tensor); the residual catalogue is
        kept (pairs no selected network has stay, fully masked)."""
        if isinstance(index, int):
            index = [index]
        idx = torch.arange(self.batch_size)[index]
        sel = lambda t: t[idx.to(t.device)]  # noqa: E731
        return PackedNets([sel(t) for t in self.taps], [sel(b) for b in self.biases],
                          [sel(m) for m in self.tap_mask], sel(self.act), self.res_index,
                          sel(self.res_mask), [self.archs[i] for i in idx.tolist()])

    def permute_hidden(self, perms: Sequence[torch.Tensor]) -> "PackedNets":
        """Permute each hidden group's nodes (one ``(n,)`` permutation per group, all
        networks): taps and biases move, residual pairs are renumbered. A symmetry of every
        network without residuals; with residuals only where the permutation keeps the first
        ``min`` channels of joined groups in place (the residual adds channels by position)."""
        sizes = self.layer_sizes
        if len(perms) != len(sizes) - 2:
            raise ShapeError(f"permute_hidden: need {len(sizes) - 2} permutations")
        taps, biases = list(self.taps), list(self.biases)
        off = [0]
        for n in sizes:
            off.append(off[-1] + n)
        new_of_old = torch.arange(off[-1])
        for k, p in enumerate(perms):
            p = p.to(self.device)
            taps[k], biases[k] = taps[k][:, p], biases[k][:, p]
            taps[k + 1] = taps[k + 1][:, :, p]
            new_of_old[off[k + 1] + p.cpu()] = off[k + 1] + torch.arange(len(p))
        ri = new_of_old[self.res_index.cpu()].to(self.device)
        return PackedNets(taps, biases, self.tap_mask, self.act, ri, self.res_mask, self.archs)

    def __repr__(self) -> str:
        return (f"PackedNets(B={self.batch_size}, nodes {'→'.join(map(str, self.layer_sizes))}"
                f", {len({a.signature() for a in self.archs})} architectures, "
                f"R={self.res_index.shape[1]}, dtype={self.dtype})")
