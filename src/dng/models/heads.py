"""Classification heads: on INR2JLS latent maps (with test-time sum over views) and on the
DNG-Encoder readout alone."""

from __future__ import annotations

import torch
from torch import nn

from dng.models.encoder import DNGEncoder, EncoderConfig
from dng.models.inr2jls import INR2JLS, tokens_to_maps
from dng.models.layers import mlp
from dng.weights import MLPWeights


def _latent_convs(in_dim: int, grid: int, width: int, dropout: float) -> nn.Sequential:
    """Conv stack that shrinks a ``g×g`` map to ``1×1``.

    First conv: k3, stride 2 for odd ``g`` (7 → 4), stride 1 for even ``g``. Then blocks of
    BN → ReLU → MaxPool(2) [→ Dropout → Conv (k3 p1 while the map is > 2, else k1)] until 1×1.
    For ``g = 7`` and ``g = 8`` this is exactly the reference's layer sequence (same indices).
    """
    layers: list[nn.Module] = [nn.Conv2d(in_dim, width, 3, 2 if grid % 2 else 1, 1)]
    size = (grid + 1) // 2 if grid % 2 else grid
    while True:
        layers += [nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2)]
        size //= 2
        if size <= 1:
            break
        layers += [nn.Dropout(dropout),
                   nn.Conv2d(width, width, 3 if size > 2 else 1, 1, 1 if size > 2 else 0)]
    return nn.Sequential(*layers)


class LatentClassifier(nn.Module):
    """Conv classifier on latent maps.

    ``forward(latent (B, V·g², d)) → (B·V, classes)`` — one row per view, sample-major;
    ``predict(latent) → (B, classes)`` — raw logits summed over the views (test-time rule).
    """

    def __init__(self, in_dim: int, grid: int, num_classes: int, views: int = 6,
                 dropout: float = 0.2, width: int = 256, head_dropout: float = 0.5):
        super().__init__()
        self.grid, self.views = grid, views
        self.conv = _latent_convs(in_dim, grid, width, dropout)
        self.head = mlp([width, width, width, num_classes], head_dropout)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        maps = tokens_to_maps(latent, self.views, self.grid)
        return self.head(self.conv(maps).flatten(1))

    def predict(self, latent: torch.Tensor) -> torch.Tensor:
        logits = self(latent)
        return logits.view(-1, self.views, logits.shape[-1]).sum(1)


class INR2JLSClassifier(nn.Module):
    """Stage 2: a frozen INR2JLS encoder path (no decoder) + :class:`LatentClassifier`.

    ``forward(weights) → (B·V, classes)``; ``predict(weights) → (B, classes)``.
    """

    def __init__(self, backbone: INR2JLS, num_classes: int, dropout: float = 0.2,
                 freeze: bool = True):
        super().__init__()
        self.backbone = backbone
        self.freeze = freeze
        if freeze:
            backbone.requires_grad_(False)
        self.head = LatentClassifier(backbone.config.latent_dim, backbone.grid, num_classes,
                                     backbone.config.views, dropout)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze:
            self.backbone.eval()  # frozen: eval mode, no dropout
        return self

    def latent(self, weights: MLPWeights) -> torch.Tensor:
        if self.freeze:
            with torch.no_grad():
                return self.backbone.encode(weights)
        return self.backbone.encode(weights)

    def forward(self, weights: MLPWeights) -> torch.Tensor:
        return self.head(self.latent(weights))

    def predict(self, weights: MLPWeights) -> torch.Tensor:
        return self.head.predict(self.latent(weights))

    def cached_parts(self):
        """``(latent, head)`` while the backbone is frozen: the training loop may compute the
        latents once per network (:mod:`dng.train.featcache`); ``None`` when it trains."""
        return (self.latent, self.head) if self.freeze else None


class EncoderClassifier(nn.Module):
    """DNG-Encoder (or a given encoder module) → MLP head: ``Linear(n_L·D, h) → ReLU → Dropout → Linear(h, h) → ReLU →
    Dropout → Linear(h, classes)``. ``forward(weights) → (B, classes)``."""

    def __init__(self, layer_sizes, num_classes: int, encoder: EncoderConfig | None = None,
                 hidden: int = 128, dropout: float = 0.5, **encoder_overrides):
        super().__init__()
        # a built encoder (any module with ``out_dim``, e.g. the ViT encoder) or a DNGEncoder's
        # architecture
        self.encoder = layer_sizes if isinstance(layer_sizes, nn.Module) else \
            DNGEncoder(layer_sizes, encoder, **encoder_overrides)
        self.head = mlp([self.encoder.out_dim, hidden, hidden, num_classes], dropout)

    def forward(self, weights: MLPWeights) -> torch.Tensor:
        return self.head(self.encoder(weights))

    def predict(self, weights: MLPWeights) -> torch.Tensor:
        return self(weights)
