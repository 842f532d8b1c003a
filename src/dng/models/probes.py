r"""Probe features: what every neuron of an input MLP computes on K fixed probe inputs.

A graph of an MLP's weights describes its inference process; running that process on a few
inputs shows it directly. For ``K`` probe inputs ``P (K, n_0)``, fixed at construction
(a scrambled Sobol sequence over ``[-1, 1]^{n_0}``, a buffer), a batch of MLPs gives

.. math::
    a^{(0)} = P^\top \;(n_0, K), \qquad
    z^{(l+1)} = W_l\, a^{(l)} + b_l \;(B, n_{l+1}, K), \qquad
    a^{(l+1)} = \sigma_l(z^{(l+1)})

with ``σ_l`` the layer's activation (``sine`` is ``sin(ω·)``). Each neuron's K values are its
*probe features*: the post-activations ``a`` (``mode="post"``) or the arguments of the
nonlinearity (``mode="pre"``: ``ω z`` for sine layers, ``z`` otherwise). The output layer's
features of an INR are its image sampled at the probe points.

Permuting hidden neurons permutes their rows of ``a`` and nothing else (equivariant), so models
that add these features per neuron keep their hidden-neuron symmetry. Static neural graphs use
such features (Kofinas et al., ICLR 2024); :class:`~dng.models.encoder.DNGEncoder` and
:class:`~dng.models.baselines.NGGNN` share this one implementation.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dng.errors import ShapeError
from dng.weights import MLPWeights, activate

PROBE_MODES = ("post", "pre")


def probe_points(num_probes: int, in_features: int, seed: int = 0) -> torch.Tensor:
    """``(K, n_0)`` low-discrepancy points in ``[-1, 1]^{n_0}`` (scrambled Sobol, seeded)."""
    engine = torch.quasirandom.SobolEngine(in_features, scramble=True, seed=seed)
    return engine.draw(num_probes, dtype=torch.float64).float() * 2 - 1


class ProbeFeatures(nn.Module):
    """Per-neuron activations of a batch of MLPs at ``num_probes`` fixed inputs.

    ``forward(weights) → [a0 (n_0, K), f1 (B, n_1, K), …, fL (B, n_L, K)]`` — the probe
    coordinates of the input neurons, then each later layer's features (see the module
    docstring). ``omega`` is the frequency of the MLP's sine layers (SIREN: 30).
    """

    def __init__(self, num_probes: int, in_features: int, omega: float = 30.0,
                 mode: str = "post", seed: int = 0):
        super().__init__()
        if num_probes < 1:
            raise ShapeError(f"num_probes must be >= 1, got {num_probes}")
        if mode not in PROBE_MODES:
            raise ShapeError(f"probe mode must be one of {PROBE_MODES}, got {mode!r}")
        if not math.isfinite(omega) or omega <= 0:
            raise ShapeError(f"probe omega must be a positive number, got {omega}")
        self.num_probes, self.in_features = int(num_probes), int(in_features)
        self.omega, self.mode = float(omega), mode
        self.register_buffer("points", probe_points(num_probes, in_features, seed))

    def forward(self, weights: MLPWeights) -> list[torch.Tensor]:
        # full precision even under bf16 autocast: sin(ω z) with ω = 30 needs it
        with torch.autocast(weights.device.type, enabled=False):
            return self._features(weights)

    def _features(self, weights: MLPWeights) -> list[torch.Tensor]:
        if weights.layer_sizes[0] != self.in_features:
            raise ShapeError(f"probe features built for {self.in_features} inputs, the MLPs "
                             f"take {weights.layer_sizes[0]}")
        a0 = self.points.T.to(weights.dtype)  # (n_0, K)
        feats: list[torch.Tensor] = [a0]
        a = a0.expand(weights.batch_size, -1, -1)
        for w, b, act in zip(weights.weights, weights.biases, weights.activations):
            z = torch.baddbmm(b.unsqueeze(-1), w, a)  # (B, n_out, K)
            a = activate(z, act, self.omega)
            if self.mode == "post":
                feats.append(a)
            else:
                feats.append(self.omega * z if act == "sine" else z)
        return feats

    def extra_repr(self) -> str:
        return f"num_probes={self.num_probes}, omega={self.omega}, mode={self.mode!r}"
