"""Batches of network weights: the objects every part of ``dng`` passes around.

:class:`NetWeights` holds ``B`` networks of one :class:`~dng.arch.Arch`:

* ``weights[l]``: ``(B, n_{l+1}, n_l)`` for a dense layer — PyTorch's ``Linear`` layout
  ``[target, source]`` — or ``(B, n_{l+1}, n_l, k_h, k_w)`` for a convolution;
* ``biases[l]``:  ``(B, n_{l+1})``;
* ``act``: optional ``(B, L)`` activation indices (into :data:`ACTIVATIONS`) where networks of
  one batch differ in activation (the Small CNN Zoo mixes ReLU and tanh nets); else the
  architecture's activations hold for all.

:class:`MLPWeights` is the MLP constructor — ``MLPWeights(weights, biases, activations)``, the
layer sizes read from the tensors — and every MLP caller keeps working with it.

Both validate themselves on construction (shapes, dtypes, devices, finite values) and know how
to move, index, concatenate, flatten and permute hidden neurons / channels.
"""

from __future__ import annotations

from typing import Sequence

import torch

from dng.arch import ACTIVATIONS, Arch, activate  # noqa: F401  (re-exported)
from dng.errors import ShapeError


def _shape(t) -> tuple:
    return tuple(getattr(t, "shape", ()))


class NetWeights:
    """A validated batch of networks of one :class:`~dng.arch.Arch` (see the module docstring).

    ``NetWeights(weights, biases, arch, act=None)``; ``check=False`` skips validation (internal
    hot paths whose inputs are known good)."""

    __slots__ = ("weights", "biases", "arch", "act")
    kind = "NetWeights"

    def __init__(self, weights: Sequence[torch.Tensor], biases: Sequence, arch: Arch,
                 act: torch.Tensor | None = None, check: bool = True):
        self.weights = tuple(weights)
        self.biases = tuple(biases)
        self.arch = arch
        self.act = act
        if check:
            self.validate(check_finite=True)

    def _new(self, w, b, act) -> "NetWeights":
        return NetWeights(w, b, self.arch, act, check=False)

    # ---------------------------------------------------------------- checks
    def validate(self, check_finite: bool = True) -> None:
        """Raise :class:`ShapeError` naming the first problem found."""
        w, b, who = self.weights, self.biases, self.kind
        layers = self.arch.layers
        if len(w) == 0:
            raise ShapeError(f"{who}: no layers")
        if not (len(w) == len(b) == len(layers)):
            raise ShapeError(f"{who}: {len(w)} weights, {len(b)} biases for "
                             f"{len(layers)} layers — must be equal")
        B = w[0].shape[0] if isinstance(w[0], torch.Tensor) and w[0].dim() >= 1 else -1
        for l, (wl, bl, layer) in enumerate(zip(w, b, layers)):
            want = layer.weight_shape()
            if not isinstance(wl, torch.Tensor) or wl.dim() != len(want) + 1 \
                    or tuple(wl.shape[1:]) != want:
                raise ShapeError(f"{who}: weights[{l}] must be (B, {', '.join(map(str, want))})"
                                 f", got {_shape(wl)}")
            if (bl is None) != (not layer.bias):
                raise ShapeError(f"{who}: biases[{l}] is {'missing' if bl is None else 'given'}"
                                 f" but layer {l} {'has' if layer.bias else 'has no'} bias")
            if bl is not None and (not isinstance(bl, torch.Tensor) or bl.dim() != 2):
                raise ShapeError(f"{who}: biases[{l}] must be (B, n_out), got {_shape(bl)}")
            if bl is not None and bl.shape[1] != layer.n_out:
                raise ShapeError(f"{who}: biases[{l}] has {bl.shape[1]} entries but "
                                 f"weights[{l}] has {layer.n_out} output nodes")
            if wl.shape[0] != B or (bl is not None and bl.shape[0] != B):
                raise ShapeError(f"{who}: layer {l} has batch {wl.shape[0]}/"
                                 f"{_shape(bl)[:1]}, layer 0 has {B}")
            if not wl.is_floating_point() or wl.is_complex() or wl.dtype != w[0].dtype or \
                    (bl is not None and bl.dtype != wl.dtype):
                raise ShapeError(f"{who}: layer {l} dtypes {wl.dtype}/"
                                 f"{getattr(bl, 'dtype', None)} (need one real floating dtype)")
            if wl.device != w[0].device or (bl is not None and bl.device != w[0].device):
                raise ShapeError(f"{who}: all tensors must be on one device")
        if self.act is not None:
            a = self.act
            if not isinstance(a, torch.Tensor) or a.dtype != torch.int64 or \
                    tuple(a.shape) != (B, len(layers)):
                raise ShapeError(f"{who}: act must be int64 (B, L) = ({B}, {len(layers)}), got "
                                 f"{_shape(a)}")
            if a.numel() and (int(a.min()) < 0 or int(a.max()) >= len(ACTIVATIONS)):
                raise ShapeError(f"{who}: act holds indices outside 0..{len(ACTIVATIONS) - 1}")
        if check_finite:
            bad = [f"weights[{l}]" for l, t in enumerate(w) if not torch.isfinite(t).all()]
            bad += [f"biases[{l}]" for l, t in enumerate(b)
                    if t is not None and not torch.isfinite(t).all()]
            if bad:
                raise ShapeError(f"{who}: NaN or Inf values in {', '.join(bad)}")

    # ---------------------------------------------------------------- properties
    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Node counts ``(n_0, n_1, …, n_L)`` (neurons or channels)."""
        return self.arch.sizes

    @property
    def activations(self) -> tuple[str, ...]:
        return self.arch.activations

    @property
    def num_layers(self) -> int:
        return len(self.weights)

    @property
    def batch_size(self) -> int:
        return int(self.weights[0].shape[0])

    def __len__(self) -> int:
        return self.batch_size

    @property
    def device(self) -> torch.device:
        return self.weights[0].device

    @property
    def dtype(self) -> torch.dtype:
        return self.weights[0].dtype

    @property
    def num_parameters(self) -> int:
        return self.arch.num_parameters

    def act_ids(self) -> torch.Tensor:
        """``(B, L)`` activation indices: ``act``, or the architecture's for every network."""
        if self.act is not None:
            return self.act
        ids = torch.tensor([ACTIVATIONS.index(a) for a in self.activations],
                           device=self.device)
        return ids.expand(self.batch_size, -1)

    def taps(self, l: int) -> torch.Tensor:
        """Layer ``l``'s weights as ``(B, n_out, n_in, T)`` (``T`` = kernel taps, row-major
        over ``(k_h, k_w)``; 1 for a dense layer)."""
        w = self.weights[l]
        return w.flatten(3) if w.dim() == 5 else w.unsqueeze(-1)

    # ---------------------------------------------------------------- transforms
    def map(self, fn) -> "NetWeights":
        """Apply ``fn`` to every weight and bias tensor (no re-validation)."""
        return self._new(tuple(fn(t) for t in self.weights),
                         tuple(None if t is None else fn(t) for t in self.biases), self.act)

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None,
           non_blocking: bool = False) -> "NetWeights":
        """Move and/or cast every tensor; like ``Tensor.to``, ``.to(torch.float64)`` casts."""
        if isinstance(device, torch.dtype):
            device, dtype = None, device
        out = self.map(lambda t: t.to(device=device, dtype=dtype, non_blocking=non_blocking))
        if out.act is not None and device is not None:
            out = out._new(out.weights, out.biases, out.act.to(device))
        return out

    def __getitem__(self, index) -> "NetWeights":
        """Select networks: an int, a slice, a list or an index/bool tensor (batch dim kept)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        out = self.map(lambda t: t[index])
        if self.act is not None:
            act = self.act[index.to(self.act.device) if isinstance(index, torch.Tensor)
                           else index]
            out = out._new(out.weights, out.biases, act)
        return out

    @classmethod
    def cat(cls, items: Sequence["NetWeights"]) -> "NetWeights":
        if not items:
            raise ShapeError(f"{cls.__name__}.cat: nothing to concatenate")
        first = items[0]
        for it in items[1:]:
            if it.arch.signature() != first.arch.signature():
                raise ShapeError(f"{cls.__name__}.cat: architectures differ "
                                 f"({it.arch.describe()} vs {first.arch.describe()})")
        n = first.num_layers
        act = None
        if any(it.act is not None for it in items):
            act = torch.cat([it.act_ids() for it in items])
        return first._new(
            tuple(torch.cat([it.weights[l] for it in items]) for l in range(n)),
            tuple(None if first.biases[l] is None else
                  torch.cat([it.biases[l] for it in items]) for l in range(n)), act)

    def flatten(self) -> torch.Tensor:
        """All parameters of each network as one vector ``(B, P)``: per layer W (row-major),
        then b."""
        parts = []
        for w, b in zip(self.weights, self.biases):
            parts += [w.flatten(1)] + ([b] if b is not None else [])
        return torch.cat(parts, dim=1)

    def permute_hidden(self, perms: Sequence[torch.Tensor]) -> "NetWeights":
        """Permute the nodes (neurons or channels) of each hidden group: a function-preserving
        symmetry.

        ``perms[k]`` permutes group ``k+1`` (size ``n_{k+1}``): dim 1 of ``W_k`` and ``b_k``
        and dim 2 of ``W_{k+1}``. A ``(n,)`` permutation applies to all networks; a
        ``(B, n)`` tensor gives one permutation per network.
        """
        if len(perms) != self.num_layers - 1:
            raise ShapeError(f"permute_hidden: need {self.num_layers - 1} permutations")
        w, b = list(self.weights), list(self.biases)
        B = self.batch_size

        def idx(p, t, dim):
            shape = [B] + [1] * (t.dim() - 1)
            shape[dim] = -1
            return p.view(shape).expand_as(t)

        for k, p in enumerate(perms):
            p = p.to(self.device)
            if p.dim() == 1:
                p = p.expand(B, -1)
            w[k] = torch.gather(w[k], 1, idx(p, w[k], 1))
            if b[k] is not None:
                b[k] = torch.gather(b[k], 1, p)
            w[k + 1] = torch.gather(w[k + 1], 2, idx(p, w[k + 1], 2))
        out = self._new(tuple(w), tuple(b), self.act)
        out.validate()
        return out

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(B={self.batch_size}, {self.arch.describe()}, "
                f"dtype={self.dtype}, device={self.device})")


class MLPWeights(NetWeights):
    """A batch of MLPs: ``MLPWeights(weights, biases, activations)`` with ``weights[l]``
    ``(B, n_{l+1}, n_l)``; the :class:`~dng.arch.Arch` is read from the tensors
    (``Arch.mlp``)."""

    __slots__ = ()
    kind = "MLPWeights"

    def __init__(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                 activations: Sequence[str], check: bool = True, act=None):
        weights, biases, activations = tuple(weights), tuple(biases), tuple(activations)
        if check:
            self._precheck(weights, biases, activations)
        arch = Arch.mlp((int(weights[0].shape[2]),) + tuple(int(w.shape[1]) for w in weights),
                        activations)
        super().__init__(weights, biases, arch, act, check=check)

    @staticmethod
    def _precheck(w, b, a) -> None:
        """The checks that must come before an Arch can be read from the tensors."""
        if len(w) == 0:
            raise ShapeError("MLPWeights: no layers")
        if not (len(w) == len(b) == len(a)):
            raise ShapeError(f"MLPWeights: {len(w)} weights, {len(b)} biases, "
                             f"{len(a)} activations — must be equal")
        for l, wl in enumerate(w):
            if not isinstance(wl, torch.Tensor) or wl.dim() != 3:
                raise ShapeError(f"MLPWeights: weights[{l}] must be (B, n_out, n_in), "
                                 f"got {_shape(wl)}")
            if l > 0 and wl.shape[2] != w[l - 1].shape[1]:
                raise ShapeError(f"MLPWeights: weights[{l}] takes {wl.shape[2]} inputs but layer "
                                 f"{l - 1} has {w[l - 1].shape[1]} outputs")
        for act in a:
            if act not in ACTIVATIONS:
                raise ShapeError(f"MLPWeights: unknown activation {act!r} "
                                 f"(known: {', '.join(ACTIVATIONS)})")

    @classmethod
    def from_layers(cls, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                    activations: Sequence[str] | None = None) -> "MLPWeights":
        """Build from per-layer tensors; ``activations`` defaults to SIREN's (sine…, linear)."""
        if activations is None:
            activations = ["sine"] * (len(weights) - 1) + ["linear"]
        return cls(tuple(weights), tuple(biases), tuple(activations))

    @staticmethod
    def unchecked(w, b, a) -> "MLPWeights":
        """Build without validation — for internal hot paths whose inputs are known good."""
        return MLPWeights(w, b, a, check=False)

    def _new(self, w, b, act) -> "MLPWeights":
        obj = object.__new__(MLPWeights)
        obj.weights, obj.biases, obj.arch, obj.act = tuple(w), tuple(b), self.arch, act
        return obj
