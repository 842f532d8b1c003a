"""INR2JLS: a joint latent space of INR weights and pixels.

``weights → DNG-Encoder → readout r (B, R)`` → latent generator → ``latent (B, T, d)`` with
``T = V·g²`` tokens (``V`` views, ``g = H/4``) → conv decoder → ``(B, V·C, H, W)``, trained to
reproduce the ``V = 6`` views of the INR's image (:func:`image_views`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from dng.errors import ShapeError
from dng.models.encoder import DNGEncoder, EncoderConfig
from dng.models.layers import ParamCache, group_size
from dng.weights import MLPWeights

VIEW_NAMES = ("identity", "hflip", "vflip", "rot+90", "rot-90", "rot180")


def image_views(images: torch.Tensor, views: int = 6) -> torch.Tensor:
    """``(B, C, H, W)`` → ``(B, V·C, H, W)``, channel index ``v·C + c``, views in the order
    identity, hflip (``out[i,j] = in[i, W-1-j]``), vflip (``in[H-1-i, j]``), rot+90
    (counter-clockwise, ``in[j, W-1-i]``), rot−90 (``in[H-1-j, i]``), rot180."""
    if images.dim() != 4:
        raise ShapeError(f"images must be (B, C, H, W), got {tuple(images.shape)}")
    if views > 1 and images.shape[-1] != images.shape[-2]:
        raise ShapeError("rotated views need square images")
    all_views = [images, images.flip(-1), images.flip(-2), images.rot90(1, (-2, -1)),
                 images.rot90(-1, (-2, -1)), images.flip(-2).flip(-1)]
    if not 1 <= views <= 6:
        raise ShapeError("views must be between 1 and 6")
    return torch.cat(all_views[:views], dim=1)


def tokens_to_maps(latent: torch.Tensor, views: int, grid: int) -> torch.Tensor:
    """``(B, V·g², d)`` tokens (view-major, then row, then column) → ``(B·V, d, g, g)``."""
    B, T, d = latent.shape
    if T != views * grid * grid:
        raise ShapeError(f"{T} tokens do not make {views} views of {grid}×{grid}")
    return latent.view(B, views, grid, grid, d).permute(0, 1, 4, 2, 3).reshape(B * views, d, grid, grid)


class LatentGenerator(nn.Module):
    r"""Learned spatial queries fused with the readout.

    .. math:: \mathrm{latent}_t = W_2\,\mathrm{ReLU}(W_1 [q_t ; r] + c_1) + c_2

    computed as ``ReLU((W_1^q q_t + c_1) + W_1^r r)``: the token part does not depend on the
    INR, so it is computed once per call (and cached at inference) — the ``T``-fold readout
    product of the naive form disappears. Shapes: ``r (B, R)`` → ``(B, T, latent_dim)``.
    """

    def __init__(self, num_tokens: int, token_dim: int, readout_dim: int, hidden: int,
                 latent_dim: int, inference_chunk: int = 2, cached: bool = True):
        super().__init__()
        self.token_dim = token_dim
        self.tokens = nn.Parameter(torch.empty(num_tokens, token_dim))
        self.fusion = nn.Sequential(nn.Linear(token_dim + readout_dim, hidden), nn.ReLU(),
                                    nn.Linear(hidden, latent_dim))
        # speed options (same math; see DNGLayer): CPU inference groups, token-part cache
        self.inference_chunk, self.cached = inference_chunk, cached
        self._token_cache = ParamCache()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.tokens)
        self.fusion[0].reset_parameters()
        self.fusion[2].reset_parameters()
        self._token_cache.clear()

    def plain_forward(self, readout: torch.Tensor) -> torch.Tensor:
        """The equation as written: ``fusion([q_t ; r])`` for every token."""
        B, T = readout.shape[0], self.tokens.shape[0]
        q = self.tokens.unsqueeze(0).expand(B, -1, -1)
        return self.fusion(torch.cat([q, readout.unsqueeze(1).expand(-1, T, -1)], dim=-1))

    def token_part(self) -> torch.Tensor:
        """``W_1^q q_t + c_1`` — ``(T, hidden)``; cached (``cached``) while the parameters are
        unchanged and no gradient is needed."""
        lin = self.fusion[0]

        def compute():
            return F.linear(self.tokens, lin.weight[:, :self.token_dim], lin.bias)

        if not self.cached:
            return compute()
        return self._token_cache.get((self.tokens, lin.weight, lin.bias), compute,
                                     torch.is_autocast_enabled(self.tokens.device.type))

    def forward(self, readout: torch.Tensor) -> torch.Tensor:
        lin = self.fusion[0]
        r = (readout @ lin.weight[:, self.token_dim:].T).unsqueeze(1)  # (B, 1, hidden)
        tok = self.token_part().unsqueeze(0)  # (1, T, hidden)
        B = readout.shape[0]
        step = group_size(B, readout.device, self.inference_chunk)
        if step >= B:
            return self.fusion[2](torch.relu_(tok + r))  # (B, T, latent_dim)
        # inference on CPU: groups of INRs keep the (T, hidden) activations in cache
        out = readout.new_empty(B, tok.shape[1], self.fusion[2].out_features)
        for i in range(0, B, step):
            out[i:i + step] = self.fusion[2](torch.relu_(tok + r[i:i + step]))
        return out


class DirectLatent(nn.Module):
    """Ablation "no latent generator": one Linear from the readout to all tokens."""

    def __init__(self, num_tokens: int, readout_dim: int, latent_dim: int):
        super().__init__()
        self.num_tokens, self.latent_dim = num_tokens, latent_dim
        self.proj = nn.Linear(readout_dim, num_tokens * latent_dim)

    def reset_parameters(self) -> None:
        self.proj.reset_parameters()

    def forward(self, readout: torch.Tensor) -> torch.Tensor:
        return self.proj(readout).view(-1, self.num_tokens, self.latent_dim)


class ConvDecoder(nn.Module):
    """Token maps ``(B·V, d, g, g)`` → ConvT(4, s2, p1) → ReLU → ConvT(4, s2, p1) →
    ``(B·V, C, 4g, 4g)``, returned as ``(B, V·C, 4g, 4g)``."""

    def __init__(self, latent_dim: int, channels: int, grid: int, views: int, hidden: int = 256):
        super().__init__()
        self.channels, self.grid, self.views = channels, grid, views
        self.net = nn.Sequential(nn.ConvTranspose2d(latent_dim, hidden, 4, 2, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(hidden, channels, 4, 2, 1))

    def reset_parameters(self) -> None:
        self.net[0].reset_parameters()
        self.net[2].reset_parameters()

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        B = latent.shape[0]
        maps = tokens_to_maps(latent, self.views, self.grid)
        out = self.net(maps)
        return out.reshape(B, self.views * self.channels, *out.shape[-2:])


@dataclass
class INR2JLSConfig:
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    latent_dim: int = 128
    views: int = 6
    generator_hidden: int | None = None  # default: D + n_L·D (the reference's width)
    latent_generator: bool = True  # False: ablation with a direct Linear
    decoder_hidden: int = 256

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "INR2JLSConfig":
        d = dict(d)
        d["encoder"] = EncoderConfig(**d.get("encoder", {}))
        return cls(**d)


class INR2JLS(nn.Module):
    """Encoder + latent generator + conv decoder.

    ``encode(weights) → (B, T, latent_dim)``; ``forward(weights) → (B, V·C, H, W)``;
    ``loss(weights, images)`` with images in [-1, 1] ``(B, C, H, W)``.
    """

    def __init__(self, layer_sizes, image_shape: tuple[int, int, int],
                 config: INR2JLSConfig | None = None):
        super().__init__()
        self.config = config = config or INR2JLSConfig()
        C, H, W = image_shape
        if H != W or H % 4:
            raise ShapeError(f"INR2JLS decodes square images with a side divisible by 4, "
                             f"got {H}×{W}")
        if layer_sizes[-1] != C:
            raise ShapeError(f"the INRs output {layer_sizes[-1]} channels, images have {C}")
        self.image_shape = (C, H, W)
        self.grid = H // 4
        self.num_tokens = config.views * self.grid ** 2
        self.encoder = DNGEncoder(layer_sizes, config.encoder)
        D, R = config.encoder.emb_dim, self.encoder.out_dim
        if config.latent_generator:
            self.generator: nn.Module = LatentGenerator(
                self.num_tokens, D, R, config.generator_hidden or (D + R), config.latent_dim,
                config.encoder.inference_chunk, config.encoder.cached)
        else:
            self.generator = DirectLatent(self.num_tokens, R, config.latent_dim)
        self.decoder = ConvDecoder(config.latent_dim, C, self.grid, config.views,
                                   config.decoder_hidden)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return self.encoder.layer_sizes

    def encode(self, weights: MLPWeights) -> torch.Tensor:
        return self.generator(self.encoder(weights))

    def forward(self, weights: MLPWeights) -> torch.Tensor:
        return self.decoder(self.encode(weights))

    def targets(self, images: torch.Tensor) -> torch.Tensor:
        return image_views(images, self.config.views)

    def loss(self, weights: MLPWeights, images: torch.Tensor) -> torch.Tensor:
        if tuple(images.shape[1:]) != self.image_shape:
            raise ShapeError(f"images {tuple(images.shape[1:])} but the model decodes "
                             f"{self.image_shape}")
        return F.mse_loss(self(weights), self.targets(images))
