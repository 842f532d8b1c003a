"""A batch of MLP weights: the object every part of ``dng`` passes around.

An MLP with layer sizes ``n_0 → n_1 → … → n_L`` has ``L`` weight matrices. For a batch of ``B``
such MLPs (all of one shape), :class:`MLPWeights` holds

* ``weights[l]``: ``(B, n_{l+1}, n_l)`` — PyTorch's ``Linear`` layout ``[target, source]``;
* ``biases[l]``:  ``(B, n_{l+1})``;
* ``activations[l]``: the nonlinearity applied after layer ``l`` (``"sine"``, ``"relu"``,
  ``"linear"``, ...), a plain string, used by the activation-embedding ablation and by
  renderers.

It validates itself on construction (shapes, dtypes, devices, finite values) and knows how to
move, index, concatenate, flatten and permute hidden neurons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from dng.errors import ShapeError

ACTIVATIONS = ("linear", "sine", "relu", "tanh", "gelu", "sigmoid")


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
        return torch.nn.functional.gelu(z)
    if activation == "sigmoid":
        return torch.sigmoid(z)
    raise ShapeError(f"unknown activation {activation!r} (known: {', '.join(ACTIVATIONS)})")


@dataclass(frozen=True)
class MLPWeights:
    weights: tuple[torch.Tensor, ...]
    biases: tuple[torch.Tensor, ...]
    activations: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", tuple(self.weights))
        object.__setattr__(self, "biases", tuple(self.biases))
        object.__setattr__(self, "activations", tuple(self.activations))
        self.validate(check_finite=True)

    # ---------------------------------------------------------------- construction / checks
    @classmethod
    def from_layers(cls, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor],
                    activations: Sequence[str] | None = None) -> "MLPWeights":
        """Build from per-layer tensors; ``activations`` defaults to SIREN's (sine…, linear)."""
        if activations is None:
            activations = ["sine"] * (len(weights) - 1) + ["linear"]
        return cls(tuple(weights), tuple(biases), tuple(activations))

    def validate(self, check_finite: bool = True) -> None:
        """Raise :class:`ShapeError` naming the first problem found."""
        w, b, a = self.weights, self.biases, self.activations
        if len(w) == 0:
            raise ShapeError("MLPWeights: no layers")
        if not (len(w) == len(b) == len(a)):
            raise ShapeError(f"MLPWeights: {len(w)} weights, {len(b)} biases, "
                             f"{len(a)} activations — must be equal")
        B = w[0].shape[0] if w[0].dim() == 3 else -1
        for l, (wl, bl) in enumerate(zip(w, b)):
            if not isinstance(wl, torch.Tensor) or wl.dim() != 3:
                raise ShapeError(f"MLPWeights: weights[{l}] must be (B, n_out, n_in), "
                                 f"got {tuple(getattr(wl, 'shape', ()))}")
            if not isinstance(bl, torch.Tensor) or bl.dim() != 2:
                raise ShapeError(f"MLPWeights: biases[{l}] must be (B, n_out), "
                                 f"got {tuple(getattr(bl, 'shape', ()))}")
            if wl.shape[0] != B or bl.shape[0] != B:
                raise ShapeError(f"MLPWeights: layer {l} has batch {wl.shape[0]}/{bl.shape[0]}, "
                                 f"layer 0 has {B}")
            if bl.shape[1] != wl.shape[1]:
                raise ShapeError(f"MLPWeights: biases[{l}] has {bl.shape[1]} entries but "
                                 f"weights[{l}] has {wl.shape[1]} output neurons")
            if l > 0 and wl.shape[2] != w[l - 1].shape[1]:
                raise ShapeError(f"MLPWeights: weights[{l}] takes {wl.shape[2]} inputs but layer "
                                 f"{l - 1} has {w[l - 1].shape[1]} outputs")
            if not wl.is_floating_point() or wl.dtype != bl.dtype or wl.dtype != w[0].dtype:
                raise ShapeError(f"MLPWeights: layer {l} dtypes {wl.dtype}/{bl.dtype} "
                                 f"(need one floating dtype)")
            if wl.device != w[0].device or bl.device != w[0].device:
                raise ShapeError("MLPWeights: all tensors must be on one device")
        for act in a:
            if act not in ACTIVATIONS:
                raise ShapeError(f"MLPWeights: unknown activation {act!r} "
                                 f"(known: {', '.join(ACTIVATIONS)})")
        if check_finite:
            bad = [f"weights[{l}]" for l, t in enumerate(w) if not torch.isfinite(t).all()]
            bad += [f"biases[{l}]" for l, t in enumerate(b) if not torch.isfinite(t).all()]
            if bad:
                raise ShapeError(f"MLPWeights: NaN or Inf values in {', '.join(bad)}")

    # ---------------------------------------------------------------- properties
    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(n_0, n_1, …, n_L)``."""
        return (int(self.weights[0].shape[2]),) + tuple(int(w.shape[1]) for w in self.weights)

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
        return sum(w[0].numel() + b[0].numel() for w, b in zip(self.weights, self.biases))

    # ---------------------------------------------------------------- transforms
    def map(self, fn) -> "MLPWeights":
        """Apply ``fn`` to every weight and bias tensor (no re-validation)."""
        return MLPWeights.unchecked(tuple(fn(t) for t in self.weights),
                                    tuple(fn(t) for t in self.biases), self.activations)

    @staticmethod
    def unchecked(w, b, a) -> "MLPWeights":
        """Build without validation — for internal hot paths whose inputs are known good."""
        obj = object.__new__(MLPWeights)
        object.__setattr__(obj, "weights", w)
        object.__setattr__(obj, "biases", b)
        object.__setattr__(obj, "activations", a)
        return obj

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None,
           non_blocking: bool = False) -> "MLPWeights":
        """Move and/or cast every tensor; like ``Tensor.to``, ``.to(torch.float64)`` casts."""
        if isinstance(device, torch.dtype):
            device, dtype = None, device
        return self.map(lambda t: t.to(device=device, dtype=dtype, non_blocking=non_blocking))

    def __getitem__(self, index) -> "MLPWeights":
        """Select INRs: an int, a slice, a list or an index/bool tensor (batch dim kept)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return self.map(lambda t: t[index])

    @classmethod
    def cat(cls, items: Sequence["MLPWeights"]) -> "MLPWeights":
        if not items:
            raise ShapeError("MLPWeights.cat: nothing to concatenate")
        first = items[0]
        for it in items[1:]:
            if it.layer_sizes != first.layer_sizes or it.activations != first.activations:
                raise ShapeError(f"MLPWeights.cat: shapes {it.layer_sizes} vs {first.layer_sizes}")
        n = first.num_layers
        return cls.unchecked(
            tuple(torch.cat([it.weights[l] for it in items]) for l in range(n)),
            tuple(torch.cat([it.biases[l] for it in items]) for l in range(n)),
            first.activations)

    def flatten(self) -> torch.Tensor:
        """All parameters of each MLP as one vector ``(B, P)``: per layer W (row-major), then b."""
        parts = []
        for w, b in zip(self.weights, self.biases):
            parts += [w.flatten(1), b]
        return torch.cat(parts, dim=1)

    def permute_hidden(self, perms: Sequence[torch.Tensor]) -> "MLPWeights":
        """Permute the neurons of each hidden layer: a function-preserving symmetry.

        ``perms[k]`` permutes hidden layer ``k+1`` (size ``n_{k+1}``): rows of ``W_k``, entries
        of ``b_k`` and columns of ``W_{k+1}``. A ``(n,)`` permutation applies to all INRs; a
        ``(B, n)`` tensor gives one permutation per INR.
        """
        if len(perms) != self.num_layers - 1:
            raise ShapeError(f"permute_hidden: need {self.num_layers - 1} permutations")
        w, b = list(self.weights), list(self.biases)
        for k, p in enumerate(perms):
            p = p.to(self.device)
            if p.dim() == 1:
                p = p.expand(self.batch_size, -1)
            w[k] = torch.gather(w[k], 1, p[:, :, None].expand_as(w[k]))
            b[k] = torch.gather(b[k], 1, p)
            w[k + 1] = torch.gather(w[k + 1], 2, p[:, None, :].expand_as(w[k + 1]))
        return MLPWeights(tuple(w), tuple(b), self.activations)

    def __repr__(self) -> str:
        return (f"MLPWeights(B={self.batch_size}, sizes={'→'.join(map(str, self.layer_sizes))}, "
                f"activations={self.activations}, dtype={self.dtype}, device={self.device})")
