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
import torch.nn.functional as F

from dng.errors import ShapeError

ACTIVATIONS = ("linear", "sine", "relu", "tanh", "gelu", "sigmoid")
KINDS = ("dense", "conv")


def activate(z: torch.Tensor, activation: str, omega: float = 30.0) -> torch.Tensor:
    """Apply a layer's nonlinearity by name (``sine`` is ``sin(ω z)``)."""
    if activation == "sine":
        return torch.sin(omega * z)
    if activation == "linear":
        return z
    if activation == "relu":
        return torch.relu(z)
    if activation == "tanh":
        return torch.tanh(z)
    if activation == "gelu":
        return F.gelu(z)
    if activation == "sigmoid":
        return torch.sigmoid(z)
    raise ShapeError(f"unknown activation {activation!r} (known: {', '.join(ACTIVATIONS)})")


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
            parts.append(f"{p}{k}({l.n_in}→{l.n_out},{l.activation})")
        return " ".join(parts)

    # ------------------------------------------------------------------ forward
    def run(self, weights, x: torch.Tensor, upto: int | None = None,
            pre_activation: bool = False, all_layers: bool = False, act_ids=None,
            dropout: torch.Tensor | None = None, generator: torch.Generator | None = None):
        """The networks' forward.

        * MLP: ``x (N, n_0)`` shared (or ``(1, N, n_0)``) or ``(B, N, n_0)`` per network →
          ``(B, N, n_L)``;
        * CNN: ``x (N, C, H, W)`` shared or ``(B, N, C, H, W)`` → ``(B, N, n_L)``.

        ``all_layers``: return every layer's output (``pre_activation``: before the
        nonlinearity, ``sine`` as ``ω z``). ``act_ids (B, L)``: per-network activation indices
        into :data:`ACTIVATIONS` (zoos whose networks differ in activation). ``dropout (B,)``:
        per-network dropout rates after every hidden layer (training), masks drawn from
        ``generator``.
        """
        ws, bs = weights.weights, weights.biases
        B = ws[0].shape[0]
        outs = []
        per_net = x.dim() == (3 if self.layers[0].kind == "dense" else 5)
        h = (x.expand(B, *x.shape[1:]) if x.shape[0] == 1 else x) if per_net else \
            x.expand(B, *x.shape)  # shared inputs (or a batch of one) serve every network
        for i, (layer, w, b) in enumerate(zip(self.layers, ws, bs)):
            if layer.kind == "conv":
                N = h.shape[1]
                # one grouped convolution: network b's channels are group b
                hin = h.transpose(0, 1).reshape(N, B * layer.n_in, *h.shape[-2:])
                z = F.conv2d(hin,
                             w.reshape(B * layer.n_out, layer.n_in, *layer.kernel),
                             None if b is None else b.reshape(-1), layer.stride, layer.padding,
                             groups=B)
                z = z.view(N, B, layer.n_out, *z.shape[-2:]).transpose(0, 1)
            else:
                if layer.pool and h.dim() == 5:
                    h = h.mean((-2, -1))
                z = torch.baddbmm(b[:, None, :], h, w.transpose(1, 2)) if b is not None \
                    else torch.bmm(h, w.transpose(1, 2))
            h = self._activate(z, i, layer, act_ids)
            if dropout is not None and i < len(self.layers) - 1:
                keep = (1 - dropout).view(B, *[1] * (h.dim() - 1))
                mask = torch.rand(h.shape, generator=generator, device=h.device) < keep
                h = h * mask / keep
            if all_layers:
                outs.append((layer.omega * z if layer.activation == "sine" else z)
                            if pre_activation else h)
            if upto is not None and i + 1 >= upto:
                break
        return outs if all_layers else h

    @staticmethod
    def _activate(z, i, layer, act_ids):
        if act_ids is None:
            return activate(z, layer.activation, layer.omega)
        ids = act_ids[:, i]
        kinds, counts = torch.unique_consecutive(ids, return_counts=True)
        if len(kinds) == 1:
            return activate(z, ACTIVATIONS[int(kinds[0])], layer.omega)
        if len(kinds) == len(set(kinds.tolist())):  # networks grouped by kind: slices
            parts = z.split(counts.tolist())
            return torch.cat([activate(p, ACTIVATIONS[int(a)], layer.omega)
                              for p, a in zip(parts, kinds)])
        out = z  # mixed order: each kind over all, kept where it applies
        for a in ids.unique().tolist():  # a handful of activation kinds, not networks
            m = (ids == a).view(-1, *[1] * (z.dim() - 1))
            out = torch.where(m, activate(z, ACTIVATIONS[a], layer.omega), out)
        return out
