"""``ng-gnn-lite`` on zoos of mixed architectures (:class:`~dng.mixed.MixedNets`): the static
neural graph of networks of any depth, kernel sizes, activations.

As :class:`~dng.models.baselines.NGGNNLite`, with what differs made depth-free:

* edge inputs: ``γ`` of each real kernel tap side by side, zero features for the taps a
  kernel lacks (up to the zoo's largest kernel);
* node inputs: ``γ(bias)`` + a learned embedding of the node's layer (the output layer has its
  own, whatever the depth) + one of the layer's activation (per network);
* readout: the input and output nodes' states and the mean over *all* hidden nodes.

Residual connections are not edges of this graph (the published NG-GNN adds them as extra
edges; here they are left out — the DNG-Encoder's residual messages are what this baseline is
compared with). Networks are processed in buckets of equal node counts, as the encoder does.
"""

from __future__ import annotations

import torch
from torch import nn

from dng.arch import ACTIVATIONS
from dng.errors import ShapeError
from dng.mixed import MixedArch, MixedNets
from dng.models.baselines import NGLayer
from dng.models.layers import FourierFeatures, mlp
from dng.packed import PackedNets


class NGGNNLiteMixed(nn.Module):
    """``forward(weights: MixedNets | PackedNets) → (B, outputs)``."""

    def __init__(self, arch: MixedArch, num_classes: int, hidden: int = 64, layers: int = 3,
                 fourier_dim: int = 32, fourier_scale: float = 3.0, dropout: float = 0.2,
                 probes: int = 0, **_):
        super().__init__()
        if probes:
            raise ShapeError("probe features need an MLP; a mixed zoo holds CNNs")
        self.arch = arch
        self.taps = arch.max_taps
        self.depth = max(len(a.layers) for a in arch.archs)
        self.n_in, self.n_out = arch.n_in, arch.n_out
        self.fourier = FourierFeatures(fourier_dim, fourier_scale)
        self.node_in = nn.Linear(2 * fourier_dim, hidden)
        self.edge_in = nn.Linear(2 * fourier_dim * self.taps, hidden)
        self.layer_emb = nn.Parameter(torch.zeros(self.depth + 1, hidden))  # last: outputs
        self.act_emb = nn.Parameter(torch.zeros(len(ACTIVATIONS), hidden))
        self.in_pos = nn.Parameter(torch.zeros(self.n_in, hidden))
        self.out_pos = nn.Parameter(torch.zeros(self.n_out, hidden))
        self.layers = nn.ModuleList(NGLayer(hidden) for _ in range(layers))
        self.head = mlp([hidden * (self.n_in + self.n_out + 1), 2 * hidden, num_classes],
                        dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        for p in (self.layer_emb, self.act_emb, self.in_pos, self.out_pos):
            nn.init.normal_(p, std=0.1)

    def _bucket(self, p: PackedNets) -> torch.Tensor:
        sizes = p.layer_sizes
        L = len(sizes) - 1
        if sizes[0] != self.n_in or sizes[-1] != self.n_out or L > self.depth:
            raise ShapeError(f"ng-gnn-lite built for {self.arch.describe()}, got nodes "
                             f"{'→'.join(map(str, sizes))}")
        B, dev = p.batch_size, p.device
        bias = torch.cat([p.biases[0].new_zeros(B, sizes[0]), *p.biases], 1)
        layer = torch.repeat_interleave(torch.arange(L + 1, device=dev),
                                        torch.tensor(sizes, device=dev))
        layer = torch.where(layer == L, self.depth, layer)
        act = torch.cat([torch.zeros(B, sizes[0], dtype=torch.long, device=dev),
                         *[p.act[:, l:l + 1].expand(-1, sizes[l + 1]) for l in range(L)]], 1)
        h = self.node_in(self.fourier(bias)) + self.layer_emb[layer] + self.act_emb[act]
        h = torch.cat([h[:, :self.n_in] + self.in_pos, h[:, self.n_in:-self.n_out],
                       h[:, -self.n_out:] + self.out_pos], 1)
        edges = []
        for t, m in zip(p.taps, p.tap_mask):
            f = self.fourier(t) * m.to(t.dtype)[:, None, None, :, None]  # padded taps: 0
            if f.shape[3] < self.taps:
                f = torch.cat([f, f.new_zeros(*f.shape[:3], self.taps - f.shape[3],
                                              f.shape[4])], 3)
            edges.append(self.edge_in(f.flatten(3)))
        offsets = tuple(sum(sizes[:l]) for l in range(len(sizes)))
        for lay in self.layers:
            h, edges = lay(h, edges, offsets, sizes)
        hidden = h[:, self.n_in:-self.n_out].mean(1)
        return self.head(torch.cat([h[:, :self.n_in].flatten(1), hidden,
                                    h[:, -self.n_out:].flatten(1)], 1))

    def forward(self, weights) -> torch.Tensor:
        if isinstance(weights, PackedNets):
            return self._bucket(weights)
        if not isinstance(weights, MixedNets):
            raise ShapeError(f"expected MixedNets, got {type(weights).__name__}")
        rows, outs = zip(*[(r, self._bucket(p)) for r, p in weights.buckets()])
        return torch.cat(outs)[torch.argsort(torch.cat(rows))]

    def predict(self, weights) -> torch.Tensor:
        return self(weights)
