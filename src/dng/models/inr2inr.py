"""Ablation "INR→INR": decode SIREN *weights* from the encoder readout; the loss is taken on the
rendered image, so no pixel-space decoder is learned.

``weights → DNG-Encoder → r (B, R) → MLP → θ (B, P)`` (added to a learned base SIREN θ₀), then
``render(θ) (B, C, H, W)``; ``loss = MSE(render(θ), image)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dng.errors import ShapeError
from dng.models.encoder import DNGEncoder, EncoderConfig
from dng.models.layers import mlp
from dng.weights import MLPWeights
from dng.zoo.siren import SirenSpec, init_siren, render


class INR2INR(nn.Module):
    """``encode(weights) → (B, R)`` readout; ``forward(weights) → (B, C, H, W)`` rendering."""

    def __init__(self, layer_sizes, image_shape, encoder: EncoderConfig | None = None,
                 hidden: int = 512, omega: float = 30.0):
        super().__init__()
        C, H, W = image_shape
        if layer_sizes[-1] != C or layer_sizes[0] != 2:
            raise ShapeError(f"INR→INR decodes 2-D SIRENs with {C} outputs, got {layer_sizes}")
        self.image_shape = (C, H, W)
        self.spec = SirenSpec(2, tuple(layer_sizes[1:-1]), C, omega, omega)
        self.encoder = DNGEncoder(layer_sizes, encoder)
        base = init_siren(self.spec, 1, torch.Generator().manual_seed(0))
        self.base = nn.Parameter(base.flatten()[0])
        self.decoder = mlp([self.encoder.out_dim, hidden, hidden, self.base.numel()])
        with torch.no_grad():  # start at the base SIREN
            self.decoder[-1].weight.mul_(1e-3)
            self.decoder[-1].bias.zero_()

    @property
    def layer_sizes(self):
        return self.encoder.layer_sizes

    def encode(self, weights: MLPWeights) -> torch.Tensor:
        return self.encoder(weights)

    def decode_weights(self, readout: torch.Tensor) -> MLPWeights:
        theta = self.base + self.decoder(readout)
        sizes = self.spec.layer_sizes
        ws, bs, i = [], [], 0
        for l in range(len(sizes) - 1):
            n = sizes[l] * sizes[l + 1]
            ws.append(theta[:, i:i + n].reshape(-1, sizes[l + 1], sizes[l]))
            i += n
            bs.append(theta[:, i:i + sizes[l + 1]])
            i += sizes[l + 1]
        return MLPWeights.unchecked(tuple(ws), tuple(bs), self.spec.activations)

    def forward(self, weights: MLPWeights) -> torch.Tensor:
        return render(self.decode_weights(self.encode(weights)), self.spec, *self.image_shape[1:])

    def targets(self, images: torch.Tensor) -> torch.Tensor:
        return images

    def loss(self, weights: MLPWeights, images: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(self(weights), images)


class ReadoutClassifier(nn.Module):
    """Stage 2 for backbones without latent maps: frozen ``backbone.encode`` → MLP head."""

    def __init__(self, backbone: nn.Module, num_classes: int, hidden: int = 256,
                 dropout: float = 0.5):
        super().__init__()
        self.backbone = backbone
        backbone.requires_grad_(False)
        self.head = mlp([backbone.encoder.out_dim, hidden, hidden, num_classes], dropout)

    def train(self, mode: bool = True):
        super().train(mode)
        self.backbone.eval()
        return self

    def forward(self, weights: MLPWeights) -> torch.Tensor:
        with torch.no_grad():
            r = self.backbone.encode(weights)
        return self.head(r)

    def predict(self, weights: MLPWeights) -> torch.Tensor:
        return self(weights)
