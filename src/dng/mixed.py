"""Zoos of mixed architectures (the CNN Wild Park): :class:`MixedArch` (their descriptions) and
:class:`MixedNets` (a batch of networks, each of one of those architectures).

``MixedNets`` keeps one :class:`~dng.weights.NetWeights` group per architecture and, per
network, which architecture it has (``arch_id``) and where it sits in its group (``pos``);
selecting networks keeps their order. The encoders read it through :meth:`MixedNets.buckets`:
networks of equal node counts (the reference's *signature*) are packed into one
:class:`~dng.packed.PackedNets` each.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import torch

from dng.arch import Arch
from dng.errors import ShapeError
from dng.packed import PackedNets
from dng.weights import NetWeights


class MixedArch:
    """The architectures of a mixed zoo (all with ``n_0`` inputs and ``n_L`` outputs)."""

    is_mlp = False

    def __init__(self, archs: Sequence[Arch]):
        self.archs = tuple(archs)
        if not self.archs:
            raise ShapeError("a mixed zoo needs at least one architecture")
        ends = {(a.sizes[0], a.sizes[-1]) for a in self.archs}
        if len(ends) != 1:
            raise ShapeError(f"the architectures of a mixed zoo must share their input and "
                             f"output node counts, got {sorted(ends)}")
        self.n_in, self.n_out = next(iter(ends))

    def to_dict(self) -> dict:
        return {"family": "mixed", "archs": [a.to_dict() for a in self.archs]}

    @classmethod
    def from_dict(cls, d: dict) -> "MixedArch":
        try:
            return cls([Arch.from_dict(a) for a in d["archs"]])
        except (TypeError, KeyError) as e:
            raise ShapeError(f"not a mixed-architecture description ({e})") from None

    def __eq__(self, other) -> bool:
        return isinstance(other, MixedArch) and self.archs == other.archs

    @property
    def max_taps(self) -> int:
        return max(a.max_taps for a in self.archs)

    @property
    def num_parameters(self) -> int:
        return max(a.num_parameters for a in self.archs)

    def describe(self) -> str:
        depths = sorted({len(a.layers) for a in self.archs})
        return (f"{len(self.archs)} architectures ({self.n_in} → … → {self.n_out}, "
                f"{depths[0]}–{depths[-1]} layers, kernels up to {self.max_taps} taps)")


class MixedNets:
    """See the module docstring. ``MixedNets(arch, arch_id (M,), groups)``."""

    __slots__ = ("arch", "arch_id", "groups", "pos")

    def __init__(self, arch: MixedArch, arch_id: torch.Tensor, groups: Sequence[NetWeights | None]):
        self.arch, self.arch_id, self.groups = arch, arch_id.long(), tuple(groups)
        if len(self.groups) != len(arch.archs):
            raise ShapeError("MixedNets: one group per architecture (None where empty)")
        pos = torch.empty_like(self.arch_id)
        for k, g in enumerate(self.groups):
            sel = self.arch_id == k
            n = int(sel.sum())
            if (g is None and n) or (g is not None and len(g) != n):
                raise ShapeError(f"MixedNets: architecture {k} has {n} networks but its group "
                                 f"holds {0 if g is None else len(g)}")
            if g is not None and g.arch.signature() != arch.archs[k].signature():
                raise ShapeError(f"MixedNets: group {k} is not architecture {k}")
            pos[sel] = torch.arange(n)
        self.pos = pos

    @classmethod
    def from_nets(cls, nets: Sequence[NetWeights]) -> "MixedNets":
        """Networks (``B = 1`` each, or batches of one architecture), in order."""
        archs: list[Arch] = []
        key: dict[tuple, int] = {}
        ids, parts = [], {}
        for n in nets:
            k = key.setdefault(n.arch.signature(), len(archs))
            if k == len(archs):
                archs.append(n.arch)
            ids += [k] * len(n)
            parts.setdefault(k, []).append(n)
        groups = [NetWeights.cat(parts[k]) for k in range(len(archs))]
        return cls(MixedArch(archs), torch.tensor(ids), groups)

    def __len__(self) -> int:
        return int(self.arch_id.shape[0])

    @property
    def batch_size(self) -> int:
        return len(self)

    def _present(self) -> list[NetWeights]:
        return [g for g in self.groups if g is not None]

    @property
    def dtype(self) -> torch.dtype:
        return self._present()[0].dtype

    @property
    def device(self) -> torch.device:
        return self._present()[0].device

    def to(self, device=None, dtype: torch.dtype | None = None) -> "MixedNets":
        return MixedNets(self.arch, self.arch_id, [None if g is None else g.to(device, dtype)
                                                   for g in self.groups])

    def __getitem__(self, index) -> "MixedNets":
        if isinstance(index, int):
            index = [index]
        idx = torch.arange(len(self))[index]
        ids, pos = self.arch_id[idx], self.pos[idx]
        groups = []
        for k, g in enumerate(self.groups):
            sel = pos[ids == k]
            groups.append(g[sel] if len(sel) else None)
        # the selected networks of each group keep their selection order: renumber
        return MixedNets(self.arch, ids, groups)

    def net(self, i: int) -> NetWeights:
        """Network ``i`` alone (``B = 1``)."""
        return self.groups[int(self.arch_id[i])][int(self.pos[i])]

    def buckets(self) -> Iterator[tuple[torch.Tensor, PackedNets]]:
        """``(rows, packed)`` per set of equal node counts, rows in this batch's order."""
        sizes = [self.arch.archs[k].sizes for k in self.arch_id.tolist()]
        order: dict[tuple, list[int]] = {}
        for i, s in enumerate(sizes):
            order.setdefault(s, []).append(i)
        for rows in order.values():
            sub = self[rows]
            packed = PackedNets.pack(sub._present())
            # pack() lays out group by group; put the rows back in selection order
            within = torch.cat([torch.nonzero(sub.arch_id == k).flatten()
                                for k, g in enumerate(sub.groups) if g is not None])
            yield torch.tensor(rows), packed[torch.argsort(within)]

    def __repr__(self) -> str:
        return f"MixedNets(B={len(self)}, {self.arch.describe()})"
