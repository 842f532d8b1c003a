"""Fit many SIRENs at once: stacked per-INR tensors, hand-written gradients, one Adam.

Every INR of a chunk has its own parameters (stacked along a batch dimension) and its own loss,
``MSE_i = mean over pixels and channels``; we minimise ``Σ_i MSE_i`` so each INR's gradient is
exactly the one it would get alone. Two things make this fast on a CPU:

* **Separable first layer.** On a pixel grid the first pre-activation is
  ``a[i, j] = ω(W[:,0] y_i + b) + ω W[:,1] x_j = A_i + B_j``, so
  ``sin(a) = sin A cos B + cos A sin B`` and ``cos(a) = cos A cos B − sin A sin B``:
  ``2(H + W)`` sines/cosines per neuron instead of ``2·H·W``.
* **Hand-written backward** with batched matmuls (no autograd graph), and PyTorch's fused Adam
  over the stacked tensors.

Named recipes (:data:`RECIPES`). ``nfn`` (alias ``reference``) — the default — is the reference
implementation's (Adam, lr 1e-3, 300 full-batch steps, constant): 37.6 dB mean
PSNR on MNIST. ``fast`` (lr 1.2e-2 with cosine decay, 70 steps) reaches 43.5 dB in a quarter
of the time, but its weights are much harder to classify: on MNIST the DNG-Encoder stays at
~24 % for 27 epochs on a ``fast`` zoo and climbs past 36 % on a ``reference`` zoo in the same
run (``benchmarks/RESULTS.md`` §6). Use ``fast`` only where fitting time is what matters.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from dng.errors import ConfigError, ShapeError
from dng.weights import MLPWeights
from dng.zoo.siren import SirenSpec, grid_axes, init_siren


RECIPES = {
    # `nfn`: what the NFN / DNG-paper zoo was fitted with; per-layer weight and bias stds of
    # a 25 000-INR MNIST zoo within 0-2 % of the published ones (`dng zoo-info --stats`)
    "nfn": {"steps": 300, "lr": 1e-3, "schedule": "constant"},
    "reference": {"steps": 300, "lr": 1e-3, "schedule": "constant"},  # = nfn (older name)
    "fast": {"steps": 70, "lr": 1.2e-2, "schedule": "cosine"},
    # `dwsnets`: the DWSNets / neural-graphs MNIST INRs. Their fitting schedule is not
    # published; of Adam lr {1e-4, 3e-4, 1e-3} × {300, 1000, 3000} constant-lr steps, this
    # one lands closest to `dwsnets_mnist` (every layer's std within 10 % on 128 INRs:
    # benchmarks/dwsnets_recipe.py, RESULTS §10)
    "dwsnets": {"steps": 1000, "lr": 1e-3, "schedule": "constant"},
}
# recipes whose INRs differ from the SIREN of the paper (init, output range)
RECIPE_INRS = {"dwsnets": {"init": "dwsnets", "output_offset": 0.5, "image_range": (0.0, 1.0)}}


def recipe_spec(name: str, channels: int, hidden: tuple[int, ...] = (32, 32),
                omega: float = 30.0) -> SirenSpec:
    """The SIREN that recipe ``name`` fits: 2 → hidden → ``channels``, ω0 = ``omega``."""
    return SirenSpec(2, tuple(hidden), channels, omega, omega, **RECIPE_INRS.get(name, {}))


@dataclass
class FitRecipe:
    """How INRs are fitted (saved in each zoo's manifest). The defaults are the ``reference``
    recipe; :meth:`named` gives either named recipe with overrides."""

    steps: int = 300
    lr: float = 1e-3
    schedule: str = "constant"  # "cosine" or "constant"
    chunk: int = 32  # INRs optimised together (CPU: cache-sized, 16–64; GPU: ~1024)

    @classmethod
    def named(cls, name: str, **overrides) -> "FitRecipe":
        """Recipe ``name`` (one of :data:`RECIPES`); overrides that are ``None`` are ignored."""
        if name not in RECIPES:
            raise ConfigError(f"unknown fit recipe {name!r} ({' or '.join(RECIPES)})")
        return cls(**{**RECIPES[name], **{k: v for k, v in overrides.items() if v is not None}})

    def to_dict(self) -> dict:
        return asdict(self)

    def lr_at(self, step: int) -> float:
        if self.schedule == "constant":
            return self.lr
        if self.schedule == "cosine":
            return self.lr * 0.5 * (1 + math.cos(math.pi * step / self.steps))
        raise ConfigError(f"unknown lr schedule {self.schedule!r} (cosine or constant)")


def psnr_from_mse(mse: torch.Tensor) -> torch.Tensor:
    """PSNR in dB for values in [-1, 1] (peak-to-peak 2): ``10 log10(4 / MSE)``."""
    return 10 * torch.log10(4.0 / mse.clamp_min(1e-20))


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """PSNR in dB per image (``pred``, ``target`` in [-1, 1], batch first)."""
    return psnr_from_mse((pred - target).pow(2).flatten(1).mean(1))


class _SirenProblem:
    """Forward and hand-written backward of a batch of SIRENs on an image grid."""

    def __init__(self, spec: SirenSpec, targets: torch.Tensor):
        if spec.activation != "sine":
            raise ShapeError(f"fitting makes SIRENs (sine layers), not {spec.activation} MLPs")
        if spec.in_features != 2:
            raise ShapeError("batched fitting supports 2-D image coordinates (in_features = 2)")
        B, C, H, W = targets.shape
        if C != spec.out_features:
            raise ShapeError(f"images have {C} channels but the SIREN outputs {spec.out_features}")
        self.spec, self.H, self.W, self.C = spec, H, W, C
        self.ys, self.xs = grid_axes(H, W, targets.device, targets.dtype)
        self.y = spec.raw_targets(targets).permute(0, 2, 3, 1).reshape(B, H * W, C)
        lo, hi = spec.image_range
        self.unit = (2.0 / (hi - lo)) ** 2  # raw squared error → squared error in [-1, 1]
        self.scale = 2.0 / (H * W * C)  # d mean-squared-error / d output

    def loss_and_grads(self, ws: list[torch.Tensor], bs: list[torch.Tensor]):
        spec, H, W = self.spec, self.H, self.W
        om = spec.omegas
        B = ws[0].shape[0]
        # first layer, separable: A (B,H,n), Bx (B,W,n)
        w0, b0 = ws[0], bs[0]
        A = om[0] * (self.ys[None, :, None] * w0[:, None, :, 0] + b0[:, None, :])
        Bx = om[0] * (self.xs[None, :, None] * w0[:, None, :, 1])
        sA, cA, sB, cB = A.sin(), A.cos(), Bx.sin(), Bx.cos()
        sA, cA = sA[:, :, None, :], cA[:, :, None, :]
        sB, cB = sB[:, None, :, :], cB[:, None, :, :]
        h = torch.mul(sA, cB).addcmul_(cA, sB).reshape(B, H * W, -1)  # sin(A + B)
        c = torch.mul(cA, cB).addcmul_(sA, sB, value=-1)  # cos(A + B)
        hs, cos_ = [h], [c.reshape(B, H * W, -1)]
        for l in range(1, len(ws) - 1):
            a = torch.baddbmm(bs[l][:, None, :], h, ws[l].transpose(1, 2)).mul_(om[l])
            h = a.sin()
            hs.append(h)
            cos_.append(a.cos_())
        out = torch.bmm(h, ws[-1].transpose(1, 2)).add_(bs[-1][:, None, :])
        r = out.sub_(self.y)
        mse = r.pow(2).mean((1, 2)) * self.unit  # in [-1, 1] units, as PSNR expects
        g = r.mul_(self.scale)  # d loss / d out
        gw, gb = [None] * len(ws), [None] * len(ws)
        for l in range(len(ws) - 1, 0, -1):
            gw[l] = torch.bmm(g.transpose(1, 2), hs[l - 1])
            gb[l] = g.sum(1)
            g = torch.bmm(g, ws[l]).mul_(cos_[l - 1]).mul_(om[l - 1])
        g = g.reshape(B, H, W, -1)
        g_rows = g.sum(2)  # (B,H,n)
        gw0_y = (g_rows * self.ys[None, :, None]).sum(1)
        gw0_x = (g.sum(1) * self.xs[None, :, None]).sum(1)
        gw[0] = torch.stack([gw0_y, gw0_x], dim=2)
        gb[0] = g_rows.sum(1)
        return mse, gw, gb


def fit_sirens(targets: torch.Tensor, spec: SirenSpec, recipe: FitRecipe | None = None,
               generator: torch.Generator | None = None,
               init: MLPWeights | None = None) -> tuple[MLPWeights, torch.Tensor]:
    """Fit one SIREN per image, all at once.

    Args:
        targets: float ``(B, C, H, W)`` in [-1, 1].
        spec: the SIREN shape (``spec.out_features == C``); with an ``output_offset`` or
            another ``image_range`` the INR is fitted to the image in that range (DWSNets:
            ``last Linear + 0.5`` = the image in [0, 1]), and the PSNR is the same either way.
        recipe: steps, learning rate, schedule.
        generator: random source for the initialisations (one draw per INR).
        init: start from these weights instead of a fresh SIREN init.

    Returns:
        ``(weights, psnr)`` — fitted :class:`MLPWeights` and the final PSNR (dB) per INR,
        measured on the returned weights.
    """
    recipe = recipe or FitRecipe()
    if targets.dim() != 4:
        raise ShapeError(f"targets must be (B, C, H, W), got {tuple(targets.shape)}")
    if not torch.isfinite(targets).all():
        raise ShapeError("targets hold NaN or Inf values")
    B = targets.shape[0]
    problem = _SirenProblem(spec, targets)
    if init is None:
        init = init_siren(spec, B, generator, targets.device, targets.dtype)
    ws = [w.clone() for w in init.weights]
    bs = [b.clone() for b in init.biases]
    params = ws + bs
    opt = torch.optim.Adam(params, lr=recipe.lr, fused=True)
    for step in range(recipe.steps):
        _, gw, gb = problem.loss_and_grads(ws, bs)
        for p, g in zip(params, gw + gb):
            p.grad = g
        for group in opt.param_groups:
            group["lr"] = recipe.lr_at(step)
        opt.step()
    mse, _, _ = problem.loss_and_grads(ws, bs)
    final = psnr_from_mse(mse)
    return MLPWeights(tuple(ws), tuple(bs), spec.activations), final
