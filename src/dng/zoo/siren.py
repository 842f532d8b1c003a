"""SIREN: the implicit neural representation every zoo INR is.

A SIREN with sizes ``n_0 → n_1 → … → n_L`` computes, for a coordinate ``x`` (``n_0`` values),

    h_1 = sin(ω0 (W_0 x + b_0)),   h_{l+1} = sin(ω (W_l h_l + b_l)),   out = W_{L-1} h_{L-1} + b_{L-1}

(the last layer is linear). Images are fitted on the grid ``linspace(-1, 1, H) × linspace(-1, 1,
W)`` with the *first* coordinate the row ("ij" meshgrid), targets in [-1, 1].

Initialisation ``init="siren"`` (Sitzmann et al.; the NFN / DNG-paper zoos): first-layer
weights ``U(±1/n_0)``; other weights ``U(±√(6/n_in)/ω)``; biases ``U(±1/√n_in)`` (PyTorch's
Linear default). ``init="dwsnets"`` (the DWSNets / neural-graphs zoos): *every sine* layer's
weights ``U(±√(6/n_in)/ω)`` (the first one too) and biases 0, the output Linear layer PyTorch's
default (weights and biases ``U(±1/√n_in)``: the published output-layer stds, 0.118 and 0.0999,
are what fitting makes of that draw, std 0.102); those INRs output ``last Linear + 0.5`` for
images in [0, 1] (``output_offset``, ``image_range``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from dng.errors import ShapeError
from dng.weights import ACTIVATIONS, MLPWeights


INITS = ("siren", "dwsnets")


@dataclass(frozen=True)
class SirenSpec:
    """Shape of a SIREN: ``in_features → hidden… → out_features``, sine frequencies ω."""

    in_features: int = 2
    hidden: tuple[int, ...] = (32, 32)
    out_features: int = 1
    first_omega: float = 30.0
    hidden_omega: float = 30.0
    # the INR's image is `last Linear + output_offset`, in the range `image_range`
    # (DWSNets' INRs: +0.5 and [0, 1]); renderings are mapped to [-1, 1] from it
    output_offset: float = 0.0
    image_range: tuple[float, float] = (-1.0, 1.0)
    init: str = "siren"  # or "dwsnets" (see the module docstring)
    # the hidden layers' nonlinearity: "sine" (a SIREN) or, for imported MLPs, any of
    # dng.weights.ACTIVATIONS (ω only applies to sine)
    activation: str = "sine"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.in_features < 1 or self.out_features < 1 or not self.hidden or min(self.hidden) < 1:
            raise ShapeError(f"invalid SIREN spec {self}")
        if self.activation not in ACTIVATIONS or self.activation == "linear":
            raise ShapeError(f"unknown hidden activation {self.activation!r} (choose "
                             f"{', '.join(a for a in ACTIVATIONS if a != 'linear')})")
        if self.init not in INITS:
            raise ShapeError(f"unknown SIREN init {self.init!r} ({' or '.join(INITS)})")
        import math

        for name in ("first_omega", "hidden_omega", "output_offset"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) \
                    or (name != "output_offset" and v <= 0):
                raise ShapeError(f"SIREN {name} must be a finite{' positive' if name != 'output_offset' else ''} "
                                 f"number, got {v!r}")
        lo, hi = self.image_range
        if not hi > lo:
            raise ShapeError(f"image_range must be (low, high) with high > low, got {self.image_range}")

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (self.in_features, *self.hidden, self.out_features)

    @property
    def activations(self) -> tuple[str, ...]:
        return (self.activation,) * len(self.hidden) + ("linear",)

    @property
    def omegas(self) -> tuple[float, ...]:
        """ω applied inside each sine layer (the last, linear layer has none)."""
        return (self.first_omega,) + (self.hidden_omega,) * (len(self.hidden) - 1)

    @property
    def arch(self):
        """The SIREN as an :class:`~dng.arch.Arch` (its forward renders it)."""
        from dng.arch import Arch

        return Arch.mlp(self.layer_sizes, self.activations, self.omegas)

    def to_dict(self) -> dict:
        """As saved in a zoo's manifest (the output fields only when not the defaults, so
        zoos written before they existed keep their identity)."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["image_range"] = list(self.image_range)
        if self.raw_is_image:
            del d["output_offset"], d["image_range"]
        if self.init == "siren":
            del d["init"]
        if self.activation == "sine":
            del d["activation"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SirenSpec":
        d = {**d, "hidden": tuple(d["hidden"])}
        if "image_range" in d:
            d["image_range"] = tuple(float(x) for x in d["image_range"])
        return cls(**d)

    @classmethod
    def for_image(cls, channels: int, hidden: tuple[int, ...] = (32, 32),
                  omega: float = 30.0) -> "SirenSpec":
        """The paper's recipe: 2 → 32 → 32 → C, ω0 = 30."""
        return cls(2, tuple(hidden), channels, omega, omega)

    @property
    def raw_is_image(self) -> bool:
        """Whether the last Linear layer's output is the image in [-1, 1] itself (no offset)."""
        return self.output_offset == 0.0 and tuple(self.image_range) == (-1.0, 1.0)

    def raw_targets(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] → what the last Linear layer must output (before the offset)."""
        if self.raw_is_image:
            return images
        lo, hi = self.image_range
        return (images + 1) * ((hi - lo) / 2) + lo - self.output_offset

    def to_unit_range(self, raw: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`raw_targets`: the last Linear layer's output → [-1, 1]."""
        if self.raw_is_image:
            return raw
        lo, hi = self.image_range
        return (raw + self.output_offset - lo) * (2.0 / (hi - lo)) - 1.0

    def check(self, weights: MLPWeights) -> None:
        if weights.layer_sizes != self.layer_sizes:
            raise ShapeError(f"weights of sizes {weights.layer_sizes} do not fit the SIREN "
                             f"{self.layer_sizes}")


def grid_axes(height: int, width: int, device=None, dtype=torch.float32):
    """The two axes of the coordinate grid: ``linspace(-1, 1, H)``, ``linspace(-1, 1, W)``."""
    return (torch.linspace(-1, 1, height, device=device, dtype=dtype),
            torch.linspace(-1, 1, width, device=device, dtype=dtype))


def grid_coords(height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """``(H·W, 2)`` grid; point ``k`` is ``(row k // W, col k % W)``."""
    ys, xs = grid_axes(height, width, device, dtype)
    return torch.stack(torch.meshgrid(ys, xs, indexing="ij"), -1).reshape(-1, 2)


def init_siren(spec: SirenSpec, batch: int, generator: torch.Generator | None = None,
               device=None, dtype=torch.float32) -> MLPWeights:
    """``batch`` independent SIREN initialisations (each INR from its own random draw)."""
    def uniform(shape, bound):
        t = torch.rand(shape, generator=generator, dtype=dtype)
        return ((t * 2 - 1) * bound).to(device)

    sizes = spec.layer_sizes
    ws, bs = [], []
    for l in range(len(sizes) - 1):
        n_in, n_out = sizes[l], sizes[l + 1]
        last = l == len(sizes) - 2
        if spec.init == "siren" or not last:  # SIREN layers (all but DWSNets' output layer)
            first = l == 0 and spec.init == "siren"
            wb = 1.0 / n_in if first else math.sqrt(6.0 / n_in) / spec.hidden_omega
        else:  # DWSNets' output layer: PyTorch's Linear default
            wb = 1.0 / math.sqrt(n_in)
        ws.append(uniform((batch, n_out, n_in), wb))
        bs.append(uniform((batch, n_out), 1.0 / math.sqrt(n_in))
                  if spec.init == "siren" or last
                  else torch.zeros(batch, n_out, dtype=dtype, device=device))
    return MLPWeights(tuple(ws), tuple(bs), spec.activations)


def render(weights: MLPWeights, spec: SirenSpec, height: int, width: int,
           coords: torch.Tensor | None = None) -> torch.Tensor:
    """Evaluate a batch of SIRENs on the image grid: ``(B, C, H, W)``.

    Differentiable in the weights (used by the INR→INR ablation).
    """
    spec.check(weights)
    if coords is None:
        coords = grid_coords(height, width, weights.device, weights.dtype)
    h = spec.to_unit_range(spec.arch.run(weights, coords))  # the networks' own forward
    return h.transpose(1, 2).reshape(weights.batch_size, spec.out_features, height, width)

