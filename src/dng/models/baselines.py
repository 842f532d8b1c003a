"""Baselines without optional dependencies: NG-GNN-lite, a small message-passing network over
the *static* neural graph (ours; NG-GNN as published is :mod:`dng.models.ng_gnn`), and an MLP
on flattened weights."""

from __future__ import annotations

import torch
from torch import nn

from dng.errors import ShapeError
from dng.graph import static_graph
from dng.models.layers import FourierFeatures, mlp
from dng.models.probes import ProbeFeatures
from dng.arch import Arch
from dng.weights import MLPWeights, NetWeights


class NGLayer(nn.Module):
    r"""One round of message passing with edge updates on the static neural graph
    (in the spirit of Kofinas et al. 2024, dense per-layer blocks).

    For each block ``l`` (sources = layer ``l``, targets = layer ``l+1``):

    .. math::
        e'_{ts} &= e_{ts} + \mathrm{MLP}_e(e_{ts} + A h_t + B h_s) \\
        m^{\rightarrow}_t &= \tfrac{1}{n_l}\textstyle\sum_s \phi(e'_{ts}) \odot U h_s, \quad
        m^{\leftarrow}_s = \tfrac{1}{n_{l+1}}\textstyle\sum_t \psi(e'_{ts}) \odot V h_t \\
        h' &= \mathrm{LayerNorm}(h + \mathrm{MLP}_h([h ; m^{\rightarrow} ; m^{\leftarrow}]))

    Shapes: ``h (B, N, d)``, ``edges[l] (B, n_{l+1}, n_l, d)``. Hidden-neuron permutations
    permute ``h`` and the edge blocks alike (equivariant).
    """

    def __init__(self, dim: int):
        super().__init__()
        self.tgt, self.src = nn.Linear(dim, dim, bias=False), nn.Linear(dim, dim)
        self.edge_mlp = nn.Sequential(nn.ReLU(), nn.Linear(dim, dim))
        self.fwd_gate, self.bwd_gate = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.fwd_node, self.bwd_node = nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.node_mlp = nn.Sequential(nn.Linear(3 * dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.norm = nn.LayerNorm(dim)

    def forward(self, h: torch.Tensor, edges: list[torch.Tensor], offsets: tuple[int, ...],
                sizes: tuple[int, ...]):
        fwd = torch.zeros_like(h)
        bwd = torch.zeros_like(h)
        new_edges = []
        ht, hs = self.tgt(h), self.src(h)
        uf, vb = self.fwd_node(h), self.bwd_node(h)
        for l, e in enumerate(edges):
            s0, t0 = offsets[l], offsets[l + 1]
            n_in, n_out = sizes[l], sizes[l + 1]
            upd = e + ht[:, t0:t0 + n_out, None, :] + hs[:, None, s0:s0 + n_in, :]
            e = e + self.edge_mlp(upd)
            new_edges.append(e)
            fwd[:, t0:t0 + n_out] = (self.fwd_gate(e) * uf[:, None, s0:s0 + n_in]).mean(2)
            bwd[:, s0:s0 + n_in] = (self.bwd_gate(e) * vb[:, t0:t0 + n_out, None]).mean(1)
        h = self.norm(h + self.node_mlp(torch.cat([h, fwd, bwd], dim=-1)))
        return h, new_edges


class NGGNNLite(nn.Module):
    """Static-graph GNN classifier in the spirit of NG-GNN (``ng-gnn-lite``): dense per-layer
    blocks, no PyG.

    Node inputs: Fourier features of the bias (0 for inputs) + a learned embedding per layer,
    and per *ordered* neuron for the input and output layers; edge inputs: Fourier features
    of the weight. ``layers`` rounds of :class:`NGLayer`; invariant readout = mean over each
    hidden layer's neurons, concatenated with the input and output neurons' states.
    ``forward(weights) → (B, classes)``.

    ``probes = K > 0`` adds each neuron's probe features (:mod:`dng.models.probes`; the
    input neurons get the probe coordinates) through one ``Linear(K, hidden)`` to its initial
    state, as static neural graphs do (Kofinas et al. 2024).
    """

    def __init__(self, layer_sizes, num_classes: int, hidden: int = 64, layers: int = 3,
                 fourier_dim: int = 32, fourier_scale: float = 3.0, dropout: float = 0.2,
                 probes: int = 0, probe_mode: str = "post", probe_omega: float = 30.0):
        super().__init__()
        self.arch = layer_sizes if isinstance(layer_sizes, Arch) else Arch.mlp(layer_sizes)
        self.layer_sizes = self.arch.sizes
        self.taps = self.arch.max_taps  # CNNs: an edge's taps, each through γ, side by side
        L = len(self.layer_sizes) - 1
        self.fourier = FourierFeatures(fourier_dim, fourier_scale)
        self.node_in = nn.Linear(2 * fourier_dim, hidden)
        self.edge_in = nn.Linear(2 * fourier_dim * self.taps, hidden)
        self.layer_emb = nn.Parameter(torch.zeros(L + 1, hidden))
        self.in_pos = nn.Parameter(torch.zeros(self.layer_sizes[0], hidden))
        self.out_pos = nn.Parameter(torch.zeros(self.layer_sizes[-1], hidden))
        self.layers = nn.ModuleList(NGLayer(hidden) for _ in range(layers))
        readout = hidden * (self.layer_sizes[0] + self.layer_sizes[-1] + L - 1)
        self.head = mlp([readout, 2 * hidden, num_classes], dropout)
        if probes < 0:
            raise ShapeError(f"probes must be >= 0, got {probes}")
        if probes and not self.arch.is_mlp:
            raise ShapeError(f"probe features need an MLP; {self.arch.describe()} is not one")
        self.probes = int(probes)
        if probes:
            self.probe = ProbeFeatures(probes, self.layer_sizes[0], probe_omega, probe_mode)
            self.probe_lin = nn.Linear(probes, hidden)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter: the submodules' own initialisation, the embeddings ``N(0, 0.1²)``."""
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        for p in (self.layer_emb, self.in_pos, self.out_pos):
            nn.init.normal_(p, std=0.1)

    def _edge_features(self, weights: NetWeights, l: int, block: torch.Tensor) -> torch.Tensor:
        """``γ(w)`` per edge ``(B, n_out, n_in, T·2F)``; missing taps (a dense layer of a CNN)
        are zero features."""
        if self.taps == 1:
            return self.fourier(block)
        f = self.fourier(weights.taps(l))  # (B, n_out, n_in, T, 2F)
        if f.shape[3] < self.taps:
            f = torch.cat([f, f.new_zeros(*f.shape[:3], self.taps - f.shape[3], f.shape[4])], 3)
        return f.flatten(3)

    def forward(self, weights: NetWeights) -> torch.Tensor:
        sizes = weights.layer_sizes
        if len(sizes) != len(self.layer_sizes) or sizes[0] != self.layer_sizes[0] \
                or sizes[-1] != self.layer_sizes[-1]:
            raise ShapeError(f"NG-GNN built for networks {self.layer_sizes}, got {sizes}")
        g = static_graph(weights)
        layer_id = torch.repeat_interleave(torch.arange(len(sizes), device=weights.device),
                                           torch.tensor(sizes, device=weights.device))
        h = self.node_in(self.fourier(g.nodes[..., 0])) + self.layer_emb[layer_id]
        n0, nL = sizes[0], sizes[-1]
        pos = torch.zeros_like(h[0])
        pos[:n0] = self.in_pos
        pos[-nL:] = self.out_pos
        h = h + pos
        if self.probes:
            f = self.probe(weights)  # [(n_0, K), (B, n_1, K), …]
            f = torch.cat([f[0].expand(h.shape[0], -1, -1), *f[1:]], dim=1)  # (B, N, K)
            h = h + self.probe_lin(f)
        edges = [self.edge_in(self._edge_features(weights, l, w)) for l, w in enumerate(g.blocks)]
        for layer in self.layers:
            h, edges = layer(h, edges, g.offsets, sizes)
        parts = [h[:, :n0].flatten(1)]
        for l in range(1, len(sizes) - 1):
            parts.append(h[:, g.offsets[l]:g.offsets[l] + sizes[l]].mean(1))
        parts.append(h[:, -nL:].flatten(1))
        return self.head(torch.cat(parts, dim=1))

    def predict(self, weights: MLPWeights) -> torch.Tensor:
        return self(weights)


class MLPClassifier(nn.Module):
    """MLP on the flattened weights (not permutation invariant — the naive baseline)."""

    def __init__(self, layer_sizes, num_classes: int, hidden: int = 512, dropout: float = 0.2):
        super().__init__()
        self.arch = layer_sizes if isinstance(layer_sizes, Arch) else Arch.mlp(layer_sizes)
        self.layer_sizes = self.arch.sizes
        self.net = mlp([self.arch.num_parameters, hidden, hidden, num_classes], dropout)

    def forward(self, weights: NetWeights) -> torch.Tensor:
        if weights.layer_sizes != self.layer_sizes or \
                weights.arch.num_parameters != self.arch.num_parameters:
            raise ShapeError(f"MLP baseline built for {self.arch.describe()}, got "
                             f"{weights.arch.describe()}")
        return self.net(weights.flatten())

    def predict(self, weights: MLPWeights) -> torch.Tensor:
        return self(weights)


class MLPImageDecoder(nn.Module):
    """The floor for image outputs: an MLP from the flattened weights to the image
    (``forward(weights) → (B, C, H, W)``; ``targets(images)`` = the images)."""

    def __init__(self, layer_sizes, image_shape, hidden: int = 512, dropout: float = 0.0):
        super().__init__()
        self.arch = layer_sizes if isinstance(layer_sizes, Arch) else Arch.mlp(layer_sizes)
        self.image_shape = tuple(image_shape)
        n = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        self.net = mlp([self.arch.num_parameters, hidden, hidden, n], dropout)

    def targets(self, images: torch.Tensor) -> torch.Tensor:
        return images

    def forward(self, weights: NetWeights) -> torch.Tensor:
        if weights.arch.signature() != self.arch.signature():
            raise ShapeError(f"MLP decoder built for {self.arch.describe()}, got "
                             f"{weights.arch.describe()}")
        return torch.tanh(self.net(weights.flatten())).view(-1, *self.image_shape)

    def predict(self, weights: NetWeights) -> torch.Tensor:
        return self(weights)
