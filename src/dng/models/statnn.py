r"""StatNN (Unterthiner et al. 2020): per-layer statistics of a network's weights into a
gradient-boosted regressor.

Features of each layer's kernel and bias (a ViT: of every state_dict entry): mean, variance and
the 0/25/50/75/100 % quantiles (7 each, so 14 per layer: ``(B, 14·L)``); the regressor is scikit-learn's
``HistGradientBoostingRegressor`` (fixed seed: the same fit every time). Not a network: the
trainer fits it once (:meth:`fit`) instead of stepping an optimizer; a run keeps no learned
weights on disk (nothing to unpickle) — loading a run fits it again on the zoo's train split,
deterministically, in seconds.

It predicts in the task's output space (a logit for a sigmoid regression, the standardised
target otherwise): the task maps it back, as for every other model.
"""

from __future__ import annotations

import torch
from torch import nn

from dng.weights import NetWeights

QUANTILES = (0.0, 0.25, 0.5, 0.75, 1.0)


def parameter_tensors(weights) -> list[torch.Tensor]:
    """Each layer's weights, then its biases (:class:`NetWeights`), or every state_dict entry
    in order (:class:`~dng.vit.ViTWeights`): ``(B, …)`` each."""
    if isinstance(weights, NetWeights):
        return [t for w, b in zip(weights.weights, weights.biases) for t in (w, b)
                if t is not None]
    return list(weights.params.values())


def mixed_statistics(weights) -> torch.Tensor:
    """Networks of different depths (:class:`~dng.mixed.MixedNets`): each network's layer
    features aligned from the first layer, its last layer's in the last slot, NaN where a
    network has no such layer (the regressor reads NaN as missing)."""
    L = max(len(a.layers) for a in weights.arch.archs)
    out = torch.full((len(weights), 14 * L), float("nan"), dtype=torch.float64)
    for k, g in enumerate(weights.groups):
        if g is None:
            continue
        f = layer_statistics(g)
        n = f.shape[1] - 14  # all but the last layer's 14
        rows = (weights.arch_id == k).nonzero().flatten()
        out[rows[weights.pos[rows].argsort()], :n] = f[:, :n]
        out[rows[weights.pos[rows].argsort()], -14:] = f[:, n:]
    return out


def layer_statistics(weights) -> torch.Tensor:
    """``(B, 7·T)``: mean, variance, quantiles of each parameter tensor (a layer's weights,
    then its biases: ``14·L`` for ``L`` biased layers)."""
    if hasattr(weights, "groups"):
        return mixed_statistics(weights)
    feats = []
    q = torch.tensor(QUANTILES, dtype=torch.float64)
    for t in parameter_tensors(weights):
        x = t.flatten(1).double()
        feats += [x.mean(1, keepdim=True), x.var(1, keepdim=True, unbiased=False),
                  torch.quantile(x, q, dim=1).T]
    return torch.cat(feats, dim=1)


class StatNN(nn.Module):
    """``fit(weights, y)`` then ``predict(weights) → (B, 1)``."""

    fitted_model = True  # the trainer fits it once (see the module docstring)

    def __init__(self, layer_sizes, num_classes: int = 1, max_iter: int = 300,
                 learning_rate: float = 0.05, seed: int = 0):
        super().__init__()
        if num_classes != 1:
            from dng.errors import ConfigError

            raise ConfigError("statnn is a regressor (task regress)")
        self.max_iter, self.learning_rate, self.seed = max_iter, learning_rate, seed
        self.layer_sizes = layer_sizes if hasattr(layer_sizes, "keys") or \
            hasattr(layer_sizes, "archs") else \
            tuple(getattr(layer_sizes, "sizes", layer_sizes))  # a ViTSpec, or node counts
        self.regressor = None

    def _check(self, weights) -> None:
        from dng.errors import ShapeError

        if hasattr(weights, "groups"):
            return  # mixed zoos: features padded to the deepest network
        got = getattr(weights, "spec", None) or weights.layer_sizes
        if got != self.layer_sizes:
            raise ShapeError(f"StatNN built for networks {self.layer_sizes}, got "
                             f"{weights.layer_sizes}")

    def fit(self, weights: NetWeights, y: torch.Tensor) -> "StatNN":
        from sklearn.ensemble import HistGradientBoostingRegressor

        self._check(weights)
        self.regressor = HistGradientBoostingRegressor(
            max_iter=self.max_iter, learning_rate=self.learning_rate, random_state=self.seed)
        self.regressor.fit(layer_statistics(weights).numpy(), y.double().numpy())
        return self

    def predict(self, weights: NetWeights) -> torch.Tensor:
        self._check(weights)
        if self.regressor is None:
            raise RuntimeError("StatNN.predict before fit")
        p = self.regressor.predict(layer_statistics(weights.to("cpu")).numpy())
        return torch.from_numpy(p).float()[:, None]

    def forward(self, weights: NetWeights) -> torch.Tensor:
        return self.predict(weights)
