"""What a network computes, independent of its values: :class:`Arch`, a chain of :class:`Layer`s.

A layer maps the ``n_in`` nodes (neurons or channels) of one group to the ``n_out`` nodes of the
next; its weight has ``taps`` values per (target, source) pair — 1 for a dense layer,
``k_h·k_w`` for a convolution — stored as ``(B, n_out, n_in)`` (dense) or
``(B, n_out, n_in, k_h, k_w)`` (conv, PyTorch's layout). Each layer has a bias (or none), an
activation applied to its output, a ``stride``/``padding`` for convolutions, ``pool`` (global
average pooling of its *input*: conv → dense), an optional ``residual`` source group (a later
issue's residual nets) and an encoder parameter ``slot`` (one per layer by default).

Constructors: :meth:`Arch.mlp` (SIRENs and other MLPs) and :meth:`Arch.cnn` (the Small CNN Zoo
family: convolutions, global average pooling, dense layers). :meth:`Arch.run` is the network's
own forward — one place for rendering SIRENs, probe features and edited INRs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import torch

from dng.errors import ShapeError
from dng.netrun import ACTIVATIONS, activate, run  # noqa: F401  (re-exported)

KINDS = ("dense", "conv")


@dataclass(frozen=True)
class Layer:
    """One op of an :class:`Arch` (see the module docstring)."""

    n_in: int
    n_out: int
    kind: str = "dense"
    kernel: tuple[int, int] = (1, 1)
    stride: int = 1
    padding: int = 0
    activation: str = "linear"
    bias: bool = True
    pool: bool = False
    residual: int | None = None
    slot: int | None = None
    omega: float = 30.0  # frequency of a ``sine`` activation

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel", tuple(int(k) for k in self.kernel))
        if self.kind not in KINDS:
            raise ShapeError(f"layer kind {self.kind!r} unknown (known: {', '.join(KINDS)})")
        if self.activation not in ACTIVATIONS:
            raise ShapeError(f"unknown activation {self.activation!r} "
                             f"(known: {', '.join(ACTIVATIONS)})")
        if min(self.n_in, self.n_out, *self.kernel, self.stride) < 1 or self.padding < 0:
            raise ShapeError(f"layer sizes must be positive: {self}")
        if self.kind == "dense" and self.kernel != (1, 1):
            raise ShapeError(f"a dense layer has no kernel, got {self.kernel}")

    @property
    def taps(self) -> int:
        return self.kernel[0] * self.kernel[1]

    def weight_shape(self) -> tuple[int, ...]:
        """Per network: ``(n_out, n_in)`` dense, ``(n_out, n_in, k_h, k_w)`` conv."""
        return (self.n_out, self.n_in) + (self.kernel if self.kind == "conv" else ())


@dataclass(frozen=True)
class Arch:
    """A chain of layers from ``layers[0].n_in`` inputs to ``layers[-1].n_out`` outputs."""

    layers: tuple[Layer, ...]
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise ShapeError("an architecture needs at least one layer")
        for i, (a, b) in enumerate(zip(self.layers, self.layers[1:])):
            if b.n_in != a.n_out:
                raise ShapeError(f"layer {i + 1} takes {b.n_in} inputs but layer {i} gives "
                                 f"{a.n_out}")
            if b.kind == "conv" and a.kind == "dense":
                raise ShapeError(f"layer {i + 1}: a convolution after a dense layer is not "
                                 "expressible (no spatial map left)")
        for i, l in enumerate(self.layers):
            if l.residual is not None:
                self._check_residual(i, l.residual)

    def _check_residual(self, i: int, j: int) -> None:
        """Layer ``i`` adds layer ``j``'s output: ``j < i``, both convolutions, and every layer
        ``j+1..i`` keeps the spatial size (stride 1, padding ``(k-1)/2``)."""
        if not 0 <= j < i:
            raise ShapeError(f"layer {i}: residual source {j} must be an earlier layer (0..{i - 1})")
        for k in range(j, i + 1):
            l = self.layers[k]
            if l.kind != "conv":
                raise ShapeError(f"layer {i}: residual from layer {j} crosses layer {k}, which "
                                 "is not a convolution (only conv → conv residuals)")
            if k > j and (l.stride != 1 or any(2 * l.padding != kk - 1 for kk in l.kernel)):
                raise ShapeError(f"layer {i}: residual from layer {j} joins mismatched shapes: "
                                 f"layer {k} (kernel {l.kernel}, stride {l.stride}, padding "
                                 f"{l.padding}) changes the spatial size")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def mlp(cls, sizes: Sequence[int], activations: Sequence[str] | None = None,
            omega: float | Sequence[float] = 30.0) -> "Arch":
        """``n_0 → n_1 → … → n_L``; activations default to SIREN's (sine…, linear);
        ``omega``: one sine frequency, or one per layer."""
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2:
            raise ShapeError(f"an MLP needs at least two layer sizes, got {sizes}")
        L = len(sizes) - 1
        acts = list(activations) if activations is not None else ["sine"] * (L - 1) + ["linear"]
        if len(acts) != L:
            raise ShapeError(f"{L} layers but {len(acts)} activations")
        om = list(omega) if isinstance(omega, (list, tuple)) else [omega] * L
        om += [30.0] * (L - len(om))
        return cls(tuple(Layer(sizes[l], sizes[l + 1], activation=acts[l], omega=float(om[l]))
                         for l in range(L)), "mlp")

    @classmethod
    def cnn(cls, in_channels: int, channels: Sequence[int], kernels: int | Sequence = 3,
            strides: int | Sequence[int] = 2, dense: Sequence[int] = (10,),
            activation: str | Sequence[str] = "relu", padding: int | Sequence[int] = 0,
            output_activation: str = "linear") -> "Arch":
        """Convolutions ``in_channels → channels…`` (kernel, stride, padding per layer or one
        for all), global average pooling, dense layers ``dense…``. The Small CNN Zoo network is
        ``Arch.cnn(1, [16, 16, 16])``: 3 × (conv 3×3, stride 2, 16 channels), pooling,
        dense 16 → 10 (4 970 parameters)."""
        n = len(channels)
        per = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * n  # noqa: E731
        ks, ss, ps = per(kernels), per(strides), per(padding)  # kernel: k or (k_h, k_w)
        acts = per(activation) if not isinstance(activation, str) else [activation] * n
        if not (len(ks) == len(ss) == len(ps) == len(acts) == n):
            raise ShapeError("Arch.cnn: kernels, strides, padding and activations need one "
                             f"value per conv layer ({n})")
        layers, c = [], int(in_channels)
        for i in range(n):
            k = ks[i] if isinstance(ks[i], tuple) else (int(ks[i]), int(ks[i]))
            layers.append(Layer(c, int(channels[i]), "conv", k, int(ss[i]), int(ps[i]),
                                acts[i]))
            c = int(channels[i])
        dense = [int(d) for d in dense]
        for j, d in enumerate(dense):
            last = j == len(dense) - 1
            layers.append(Layer(c, d, activation=output_activation if last else acts[-1],
                                pool=j == 0 and n > 0))
            c = d
        return cls(tuple(layers), name="cnn")

    @classmethod
    def park(cls, channels: Sequence[int], kernels: Sequence[int], activations: Sequence[str],
             residual: Sequence[int] | None = None, n_classes: int = 10) -> "Arch":
        """A CNN Wild Park network: ``channels[0]`` inputs, one conv per ``channels[1:]`` (kernel
        ``k``, stride 1, padding ``k//2``, its own activation — ``none`` = linear), optional
        ``residual[i]`` source layer (``-1`` none), global average pooling, dense → ``n_classes``."""
        n = len(channels) - 1
        residual = list(residual) if residual is not None else [-1] * n
        if not (len(kernels) == len(activations) == len(residual) == n) or n < 1:
            raise ShapeError(f"Arch.park: {n} conv layers need {n} kernels, activations and "
                             f"residual entries (got {len(kernels)}, {len(activations)}, "
                             f"{len(residual)})")
        layers = []
        for i in range(n):
            k, a, r = int(kernels[i]), str(activations[i]), int(residual[i])
            layers.append(Layer(int(channels[i]), int(channels[i + 1]), "conv", (k, k), 1,
                                k // 2, "linear" if a == "none" else a,
                                residual=None if r < 0 else r))
        layers.append(Layer(int(channels[-1]), int(n_classes), pool=True))
        return cls(tuple(layers), name="park")

    # ------------------------------------------------------------------ facts
    @property
    def sizes(self) -> tuple[int, ...]:
        """Node counts per group: ``(n_0, n_1, …, n_L)``."""
        return (self.layers[0].n_in,) + tuple(l.n_out for l in self.layers)

    @property
    def activations(self) -> tuple[str, ...]:
        return tuple(l.activation for l in self.layers)

    @property
    def max_taps(self) -> int:
        return max(l.taps for l in self.layers)

    @property
    def is_mlp(self) -> bool:
        return all(l.kind == "dense" and not l.pool for l in self.layers)

    @property
    def num_parameters(self) -> int:
        n = 0
        for l in self.layers:
            n += l.n_out * l.n_in * l.taps + (l.n_out if l.bias else 0)
        return n

    def signature(self) -> tuple:
        """What networks must share to batch together (everything but the name)."""
        return tuple((l.kind, l.n_in, l.n_out, l.kernel, l.stride, l.padding, l.activation,
                      l.bias, l.pool, l.residual) for l in self.layers)

    def slots(self) -> tuple[int, ...]:
        return tuple(l.slot if l.slot is not None else i for i, l in enumerate(self.layers))

    def to_dict(self) -> dict:
        return {"layers": [asdict(l) for l in self.layers], "name": self.name}

    @classmethod
    def from_dict(cls, d: dict) -> "Arch":
        try:
            layers = tuple(Layer(**{**l, "kernel": tuple(l.get("kernel", (1, 1)))})
                           for l in d["layers"])
            return cls(layers, str(d.get("name", "")))
        except (TypeError, KeyError, ValueError) as e:
            raise ShapeError(f"not an architecture description ({type(e).__name__}: {e})"
                             ) from None

    def describe(self) -> str:
        parts = []
        for l in self.layers:
            p = "pool→" if l.pool else ""
            k = f"conv{l.kernel[0]}x{l.kernel[1]}/s{l.stride}" if l.kind == "conv" else "dense"
            r = f",+out{l.residual}" if l.residual is not None else ""
            parts.append(f"{p}{k}({l.n_in}→{l.n_out},{l.activation}{r})")
        return " ".join(parts)

    # ------------------------------------------------------------------ forward
    def run(self, weights, x: torch.Tensor, upto: int | None = None,
            pre_activation: bool = False, all_layers: bool = False, act_ids=None,
            dropout: torch.Tensor | None = None, generator: torch.Generator | None = None):
        """The networks' forward (:func:`dng.netrun.run`, which documents the arguments)."""
        return run(self, weights, x, upto, pre_activation, all_layers, act_ids, dropout,
                   generator)
