r"""NFN baseline: an invariant classifier built from the ``nfn`` package's layers
(Zhou et al., "Permutation Equivariant Neural Functionals", NeurIPS 2023; PyPI ``nfn``, MIT).

Built as the INR-classification experiments build their invariant NFN (the configuration
neural-graphs runs for its NFN rows: ``configs/model/nfn.yaml``, ``nn/nfn/models.py``): random
Fourier features of every weight and bias (``GaussianFourierFeatureTransform``, the package's
defaults: 256 frequencies, scale 10), the input/output positional encoding
(``IOSinusoidalEncoding``), ``layers`` equivariant ``NPLinear`` layers (``mode="np"``, the
paper's NFN row; or ``HNPLinear``) of ``hidden`` = 512 channels with ReLU, the invariant
``NPPool`` (or ``HNPPool``), and the head ``Dropout → Linear(·, 1000) → ReLU → Dropout →
Linear(1000, 1000) → ReLU → Dropout → Linear(1000, classes)`` with dropout 0.5. No input
normalisation (``normalize: False`` there).

Input: :class:`~dng.weights.MLPWeights`, or the ``NetWeights`` of one CNN architecture (conv
kernels enter as nfn's ``(B, 1, n_out, n_in, k_h, k_w)`` weights, as the NFN paper reads the
Small CNN Zoo) → nfn's ``WeightSpaceFeatures`` with one channel (:func:`dng.interop.to_nfn`).
Hidden-neuron (channel) permutations leave the output unchanged. Needs the
optional extra: ``pip install "dng[baselines]"``.
"""

from __future__ import annotations

import torch
from torch import nn

from dng.errors import ConfigError, ShapeError
from dng.models.layers import mlp
from dng.interop import to_nfn
from dng.weights import MLPWeights


def _nfn():
    try:
        from nfn import common, layers
    except ImportError:
        raise ConfigError('the nfn baseline needs the nfn package: pip install "dng[baselines]"'
                          ) from None
    return common, layers


class NFNClassifier(nn.Module):
    """Invariant NFN classifier. ``forward(weights) → (B, classes)``."""

    def __init__(self, layer_sizes, num_classes: int, hidden: int = 512, layers: int = 3,
                 fourier_dim: int = 256, fourier_scale: float = 10.0, mode: str = "np",
                 dropout: float = 0.5, head_width: int = 1000):
        super().__init__()
        common, L = _nfn()
        if mode not in ("hnp", "np"):
            raise ConfigError(f"nfn mode must be hnp or np, got {mode!r}")
        from dng.arch import Arch

        self.arch = layer_sizes if isinstance(layer_sizes, Arch) else Arch.mlp(layer_sizes)
        self.layer_sizes = self.arch.sizes
        if any(not layer.bias for layer in self.arch.layers) or any(
                layer.residual is not None for layer in self.arch.layers):
            raise ShapeError(f"NFN reads networks whose every layer has a bias and no "
                             f"residual; {self.arch.describe()} is not one")
        probe = common.WeightSpaceFeatures(  # conv kernels: (B, 1, n_out, n_in, k_h, k_w)
            [torch.zeros(1, 1, layer.n_out, layer.n_in, *layer.kernel[:2])
             if layer.kind == "conv" else torch.zeros(1, 1, layer.n_out, layer.n_in)
             for layer in self.arch.layers],
            [torch.zeros(1, 1, n) for n in self.layer_sizes[1:]])
        spec = common.network_spec_from_wsfeat(probe)
        Linear = L.HNPLinear if mode == "hnp" else L.NPLinear
        Pool = L.HNPPool if mode == "hnp" else L.NPPool
        enc = L.IOSinusoidalEncoding(spec)
        c = 2 * fourier_dim
        blocks: list[nn.Module] = [L.GaussianFourierFeatureTransform(spec, 1, fourier_dim,
                                                                      fourier_scale), enc]
        c_in = enc.num_out_chan(c)  # Fourier channels + the position encoding's
        for i in range(layers):
            blocks += [Linear(spec, c_in if i == 0 else hidden, hidden), L.TupleOp(nn.ReLU())]
        blocks.append(Pool(spec))
        self.body = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Dropout(dropout),
                                  mlp([Pool.get_num_outs(spec) * hidden, head_width, head_width,
                                       num_classes], dropout))

    def forward(self, weights: MLPWeights) -> torch.Tensor:
        if weights.arch.signature() != self.arch.signature():
            raise ShapeError(f"NFN built for {self.arch.describe()}, got "
                             f"{weights.arch.describe()}")
        return self.head(self.body(to_nfn(weights)).flatten(1))

    def predict(self, weights: MLPWeights) -> torch.Tensor:
        return self(weights)


class NFNEditor(nn.Module):
    """The NFN editing baseline (the NFN paper's INR-editing model, as an equivariant NFN):
    Fourier features and the I/O encoding, ``layers`` ``NPLinear`` layers with ReLU and a last
    ``NPLinear`` to one channel give ``ΔW, Δb``; the edited INR ``W + s·ΔW`` (``s`` a learned
    scale starting at 0) is rendered and trained on the edited image, like
    :class:`~dng.models.inr_editor.INREditor`. ``forward(weights) → (B, C, H, W)``."""

    def __init__(self, layer_sizes, image_shape, hidden: int = 128, layers: int = 3,
                 fourier_dim: int = 32, fourier_scale: float = 10.0, spec=None):
        super().__init__()
        from dng.zoo.siren import SirenSpec

        common, L = _nfn()
        self.layer_sizes = tuple(int(n) for n in getattr(layer_sizes, "sizes", layer_sizes))
        C, H, W = image_shape
        self.image_shape = (C, H, W)
        self.spec = spec or SirenSpec(2, self.layer_sizes[1:-1], C)
        probe = common.WeightSpaceFeatures(
            [torch.zeros(1, 1, self.layer_sizes[i + 1], self.layer_sizes[i])
             for i in range(len(self.layer_sizes) - 1)],
            [torch.zeros(1, 1, n) for n in self.layer_sizes[1:]])
        nspec = common.network_spec_from_wsfeat(probe)
        enc = L.IOSinusoidalEncoding(nspec)
        blocks: list[nn.Module] = [L.GaussianFourierFeatureTransform(nspec, 1, fourier_dim,
                                                                      fourier_scale), enc]
        c_in = enc.num_out_chan(2 * fourier_dim)
        for i in range(layers):
            blocks += [L.NPLinear(nspec, c_in if i == 0 else hidden, hidden),
                       L.TupleOp(nn.ReLU())]
        blocks.append(L.NPLinear(nspec, hidden, 1))
        self.body = nn.Sequential(*blocks)
        self.scale = nn.Parameter(torch.zeros(()))

    def targets(self, images: torch.Tensor) -> torch.Tensor:
        return images

    def edited_weights(self, weights: MLPWeights) -> MLPWeights:
        if weights.layer_sizes != self.layer_sizes:
            raise ShapeError(f"NFN editor built for MLPs {self.layer_sizes}, got "
                             f"{weights.layer_sizes}")
        d = self.body(to_nfn(weights))
        ws = tuple(w + self.scale * dw[:, 0] for w, dw in zip(weights.weights, d.weights))
        bs = tuple(b + self.scale * db[:, 0] for b, db in zip(weights.biases, d.biases))
        return MLPWeights.unchecked(ws, bs, weights.activations)

    def forward(self, weights: MLPWeights) -> torch.Tensor:
        from dng.zoo.siren import render

        return render(self.edited_weights(weights), self.spec, *self.image_shape[1:])

    def predict(self, weights: MLPWeights) -> torch.Tensor:
        return self(weights)
