"""``ng-gnn-lite`` on vision transformers: :class:`~dng.models.baselines.NGLayer` rounds on the
static neural graph of :func:`~dng.graph.vit_static.vit_neural_graph`.

Node inputs: ``γ`` of each real node feature (bias, LayerNorm γ/β; absent ones 0) + a learned
embedding of the node's layer, and per *ordered* node for the patch inputs and the classes;
edge inputs: ``γ`` of each real edge channel (q, k, v for attention) side by side + the block's
learned kind. Readout: the input and output nodes' states and the mean of every hidden layer.
Invariant to permutations of attention heads and MLP units (tested).
"""

from __future__ import annotations

import torch
from torch import nn

from dng.errors import ShapeError
from dng.graph.vit_static import vit_neural_graph
from dng.models.baselines import NGLayer
from dng.models.layers import FourierFeatures, mlp
from dng.vit import ViTSpec, ViTWeights


class NGGNNLiteViT(nn.Module):
    """``forward(weights: ViTWeights) → (B, outputs)``."""

    def __init__(self, spec: ViTSpec, num_classes: int, hidden: int = 64, layers: int = 3,
                 fourier_dim: int = 32, fourier_scale: float = 3.0, dropout: float = 0.2,
                 probes: int = 0, **_):
        super().__init__()
        if probes:
            raise ShapeError("probe features need an MLP; this zoo holds ViTs")
        self.spec = spec
        L = 4 * spec.depth + 2  # node layers: inputs, dim, [inner, dim, mlp, dim]×depth, classes
        self.fourier = FourierFeatures(fourier_dim, fourier_scale)
        self.node_in = nn.Linear(5 * 2 * fourier_dim, hidden)
        self.edge_in = nn.Linear(3 * 2 * fourier_dim, hidden)
        self.layer_emb = nn.Parameter(torch.zeros(L + 1, hidden))
        self.block_emb = nn.Parameter(torch.zeros(L, hidden))
        self.in_pos = nn.Parameter(torch.zeros(spec.n0, hidden))
        self.out_pos = nn.Parameter(torch.zeros(spec.num_classes, hidden))
        self.layers = nn.ModuleList(NGLayer(hidden) for _ in range(layers))
        self.head = mlp([hidden * (spec.n0 + spec.num_classes + L - 1), 2 * hidden,
                         num_classes], dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        for p in (self.layer_emb, self.block_emb, self.in_pos, self.out_pos):
            nn.init.normal_(p, std=0.1)

    def forward(self, weights: ViTWeights) -> torch.Tensor:
        if not isinstance(weights, ViTWeights) or weights.spec != self.spec:
            raise ShapeError(f"ng-gnn-lite built for ViTs {self.spec.describe()}, got "
                             f"{getattr(weights, 'spec', type(weights).__name__)}")
        g = vit_neural_graph(weights)
        sizes = g.sizes
        f = self.fourier(g.nodes) * g.node_mask.to(g.nodes.dtype)[None, :, :, None]
        layer = torch.repeat_interleave(torch.arange(len(sizes), device=weights.device),
                                        torch.tensor(sizes, device=weights.device))
        h = self.node_in(f.flatten(2)) + self.layer_emb[layer]
        n0, nc = sizes[0], sizes[-1]
        h = torch.cat([h[:, :n0] + self.in_pos, h[:, n0:-nc], h[:, -nc:] + self.out_pos], 1)
        edges = []
        for l, (e, c) in enumerate(zip(g.edges, g.channels)):
            ef = self.fourier(e)
            ef = torch.cat([ef[..., :c, :], torch.zeros_like(ef[..., c:, :])], 3)
            edges.append(self.edge_in(ef.flatten(3)) + self.block_emb[l])
        offsets = tuple(sum(sizes[:l]) for l in range(len(sizes)))
        for lay in self.layers:
            h, edges = lay(h, edges, offsets, sizes)
        means = [h[:, offsets[l]:offsets[l] + sizes[l]].mean(1) for l in range(1, len(sizes) - 1)]
        return self.head(torch.cat([h[:, :n0].flatten(1), *means, h[:, -nc:].flatten(1)], 1))

    def predict(self, weights: ViTWeights) -> torch.Tensor:
        return self(weights)
