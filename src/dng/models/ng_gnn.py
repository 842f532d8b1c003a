r"""NG-GNN as its authors publish it (Kofinas et al., "Graph Neural Networks for Learning
Equivariant Representations of Neural Networks", ICLR 2024), on PyTorch Geometric's
:class:`~torch_geometric.nn.PNAConv`. Written from the description of their INR-classification
model (mkofinas/neural-graphs: ``configs/model/pna.yaml``, ``scripts/mnist_cls_pna.sh``).

**Graph.** One node per neuron (feature: its bias, 0 for input neurons), one edge per weight
in *both* directions; the edge's input feature is ``(w, 0, w)`` along the forward pass and
``(0, w, w)`` against it (a direction flag). Weights and biases are first standardised per
layer with the training split's mean and std (:meth:`NGGNN.set_input_stats`, buffers saved
with the model).

**Embedding.** Random Fourier features ``[sin 2πvβ, cos 2πvβ]`` (``β ~ N(0, σ²)``,
``fourier_dim`` frequencies) → Linear → Linear, for nodes and edges; optional probe features
(:mod:`dng.models.probes`, shared with the DNG-Encoder) through ``Linear(K, d) → LayerNorm``
per layer, added before the second Linear; then learned positional embeddings — one per input
neuron, one per output neuron, *one per hidden layer* (shared by its neurons, so permuting
hidden neurons permutes node states and changes no output).

**Message passing.** ``layers`` PNA convolutions (aggregators mean/min/max/std, scalers
identity/amplification, degree histogram of this graph) whose messages are modulated by the
edge (FiLM, the published ``modulate_edges``): ``m_ij = s_ij ⊙ U[x_i; x_j] + t_ij`` with
``(s_ij, t_ij) = Lin(e_ij)``. Between convolutions: LayerNorm, SiLU, dropout, and an edge update
``e' = Lin(SiLU(Lin_e e + Lin_s x_src + Lin_t x_dst))``.

**Readout.** The output neurons' final states, concatenated (``n_L · d``) → MLP
``d → ReLU → d → ReLU → classes``.

One deliberate difference: the published code normalises with PyG's graph-mode ``LayerNorm``
called without a batch vector, i.e. over every node of the whole mini-batch, which makes a
prediction depend on the other INRs in its batch; we normalise each node's state
(``nn.LayerNorm``). Needs the optional extra: ``pip install "dng[baselines]"``.

Shapes: ``forward(weights: MLPWeights) → (B, classes)``; internally ``B·N`` nodes and
``2·B·E`` edges (``N = Σ n_l``, ``E = Σ n_l n_{l+1}``) in one PyG batch, built with tensor ops.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dng.errors import ConfigError, ShapeError
from dng.graph import edge_index, edge_values, static_graph
from dng.models.layers import FourierFeatures
from dng.models.probes import ProbeFeatures
from dng.weights import MLPWeights


def _pyg():
    try:
        from torch_geometric.nn import PNAConv
    except ImportError:
        raise ConfigError('the ng-gnn baseline needs torch_geometric: pip install '
                          '"dng[baselines]" (or --model ng-gnn-lite, which needs nothing)'
                          ) from None
    return PNAConv


def _film_pna(in_channels: int, out_channels: int, edge_dim: int, deg: torch.Tensor,
              aggregators, scalers):
    """A PyG ``PNAConv`` whose messages are modulated by the edge features (FiLM)."""
    PNAConv = _pyg()

    class FiLMPNAConv(PNAConv):
        def __init__(self):
            # edge_dim=None: PyG's pre-MLP then reads [x_i; x_j]; the edge enters via FiLM
            super().__init__(in_channels, out_channels, list(aggregators), list(scalers), deg,
                             edge_dim=None, towers=1)
            self.film = nn.Linear(edge_dim, 2 * self.F_in)
            self.film.reset_parameters()

        def reset_parameters(self):
            super().reset_parameters()
            if hasattr(self, "film"):
                self.film.reset_parameters()

        def message(self, x_i, x_j, edge_attr):
            scale, shift = self.film(edge_attr).unsqueeze(1).chunk(2, dim=-1)
            h = torch.cat([x_i, x_j], dim=-1)  # (E, towers=1, 2 F_in)
            return scale * self.pre_nns[0](h[:, 0]).unsqueeze(1) + shift

    return FiLMPNAConv()


class EdgeUpdate(nn.Module):
    """``e' = Lin(SiLU(Lin_e e + Lin_s x[src] + Lin_t x[dst]))``: ``(E, d)`` → ``(E, d)``."""

    def __init__(self, dim: int):
        super().__init__()
        self.lin_e, self.lin_s, self.lin_t = (nn.Linear(dim, dim) for _ in range(3))
        self.out = nn.Linear(dim, dim)

    def reset_parameters(self) -> None:
        for m in (self.lin_e, self.lin_s, self.lin_t, self.out):
            m.reset_parameters()

    def forward(self, x: torch.Tensor, index: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        h = self.lin_e(e) + self.lin_s(x)[index[0]] + self.lin_t(x)[index[1]]
        return self.out(nn.functional.silu(h))


AGGREGATORS = ("mean", "min", "max", "std")
SCALERS = ("identity", "amplification")  # the published config; PyG also has "attenuation"


class NGGNN(nn.Module):
    """NG-GNN classifier (see the module docstring). ``forward(weights) → (B, classes)``;
    ``aggregators`` / ``scalers``: PNA's (the published ones by default)."""

    def __init__(self, layer_sizes, num_classes: int, hidden: int = 32, layers: int = 4,
                 fourier_dim: int = 128, fourier_scale: float = 3.0, dropout: float = 0.2,
                 probes: int = 0, probe_mode: str = "post", probe_omega: float = 30.0,
                 aggregators=AGGREGATORS, scalers=SCALERS):
        super().__init__()
        self.layer_sizes = sizes = tuple(int(n) for n in layer_sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ShapeError(f"NG-GNN needs an MLP with at least one layer, got {sizes}")
        if probes < 0:
            raise ShapeError(f"probes must be >= 0, got {probes}")
        L, d = len(sizes) - 1, int(hidden)
        fwd = edge_index(sizes)
        index = torch.cat([fwd, fwd.flip(0)], dim=1)  # both directions
        self.register_buffer("index", index, persistent=False)
        in_deg = torch.bincount(index[1], minlength=sum(sizes))
        deg = torch.bincount(in_deg)  # histogram of in-degrees (PNA's scalers)
        for name in ("w_mean", "b_mean"):
            self.register_buffer(name, torch.zeros(L))
        for name in ("w_std", "b_std"):
            self.register_buffer(name, torch.ones(L))
        self.node_fourier = FourierFeatures(fourier_dim, fourier_scale)
        # the edges' 3-vectors (w, 0, w) / (0, w, w): frequencies β (3, F) ~ N(0, σ²)
        self.fourier_scale = float(fourier_scale)
        self.register_buffer("edge_beta", torch.empty(3, fourier_dim))
        self.node_in = nn.Linear(2 * fourier_dim, d)
        self.edge_in = nn.Linear(2 * fourier_dim, d)
        self.node_proj, self.edge_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.probes = int(probes)
        if probes:
            self.probe = ProbeFeatures(probes, sizes[0], probe_omega, probe_mode)
            self.probe_proj = nn.ModuleList(nn.Sequential(nn.Linear(probes, d), nn.LayerNorm(d))
                                            for _ in range(L + 1))
        # positional embeddings: each input neuron, each hidden layer, each output neuron
        slots = [*range(sizes[0])]
        for l in range(1, L):
            slots += [sizes[0] + l - 1] * sizes[l]
        slots += [sizes[0] + L - 1 + j for j in range(sizes[-1])]
        self.register_buffer("pos_slot", torch.tensor(slots), persistent=False)
        self.pos = nn.Parameter(torch.empty(sizes[0] + L - 1 + sizes[-1], d))
        self.convs = nn.ModuleList(_film_pna(d, d, d, deg, aggregators, scalers)
                                   for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(layers - 1))
        self.edge_updates = nn.ModuleList(EdgeUpdate(d) for _ in range(layers - 1))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Sequential(nn.Linear(sizes[-1] * d, d), nn.ReLU(), nn.Linear(d, d),
                                  nn.ReLU(), nn.Linear(d, num_classes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter: each submodule's own initialisation, positional embeddings
        ``N(0, 1)``, edge frequencies redrawn. The input statistics are data, not parameters:
        they are kept."""
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        nn.init.normal_(self.pos)
        with torch.no_grad():
            self.edge_beta.normal_(0.0, self.fourier_scale)

    @torch.no_grad()
    def set_input_stats(self, weights: MLPWeights) -> None:
        """Standardise every layer's weights and biases with these MLPs' mean and std (the
        training split's; a constant layer keeps std 1)."""
        self._check(weights)
        for l, (w, b) in enumerate(zip(weights.weights, weights.biases)):
            for t, mean, std in ((w, self.w_mean, self.w_std), (b, self.b_mean, self.b_std)):
                t = t.double()
                s = float(t.std()) if t.numel() > 1 else 0.0
                mean[l], std[l] = float(t.mean()), s if s > 1e-12 else 1.0

    def _check(self, weights: MLPWeights) -> None:
        if weights.layer_sizes != self.layer_sizes:
            raise ShapeError(f"NG-GNN built for MLPs {self.layer_sizes}, got "
                             f"{weights.layer_sizes}")

    def _edge_states(self, w: torch.Tensor) -> torch.Tensor:
        """``EdgeProj(EdgeIn(γ(v)))`` for the forward edges' ``v = (w, 0, w)`` and the reverse
        edges' ``(0, w, w)``, computed as what it is: ``γ(v)`` has phases ``2π w (β_0 + β_2)``
        resp. ``2π w (β_1 + β_2)``, and the two Linears compose into one map (same math,
        without the ``(B, 2E, 3)`` inputs, the ``2F``-wide concatenation and one matmul)."""
        beta = self.edge_beta  # (3, F)
        freq = torch.stack([beta[0] + beta[2], beta[1] + beta[2]])  # (2, F)
        z = (2 * math.pi) * w[:, None, :, None] * freq[None, :, None, :]  # (B, 2, E, F)
        z = z.reshape(-1, freq.shape[1])
        win, wp = self.edge_in.weight, self.edge_proj.weight
        W = wp @ win  # (d, 2F)
        c = torch.addmv(self.edge_proj.bias, wp, self.edge_in.bias)
        F = freq.shape[1]  # (F.linear: autocast casts both sides alike under bf16)
        return nn.functional.linear(z.sin(), W[:, :F], c) + nn.functional.linear(z.cos(),
                                                                                   W[:, F:])

    def forward(self, weights: MLPWeights) -> torch.Tensor:
        self._check(weights)
        sizes, B, N = self.layer_sizes, weights.batch_size, sum(self.layer_sizes)
        ws = [(w - self.w_mean[l]) / self.w_std[l] for l, w in enumerate(weights.weights)]
        bs = [(b - self.b_mean[l]) / self.b_std[l] for l, b in enumerate(weights.biases)]
        std = MLPWeights.unchecked(tuple(ws), tuple(bs), weights.activations)
        nodes, w = static_graph(std).nodes[..., 0], edge_values(std)  # (B, N), (B, E)
        e = self._edge_states(w)  # (B · 2E, d)
        x = self.node_fourier.project(nodes, self.node_in.weight, self.node_in.bias)  # (B,N,d)
        if self.probes:
            f = self.probe(weights)  # [(n_0, K), (B, n_1, K), …]
            f = [f[0].expand(B, -1, -1), *f[1:]]
            x = x + torch.cat([p(t) for p, t in zip(self.probe_proj, f)], dim=1)
        x = (self.node_proj(x) + self.pos[self.pos_slot]).reshape(B * N, -1)
        shift = torch.arange(B, device=x.device).repeat_interleave(self.index.shape[1]) * N
        index = self.index.repeat(1, B) + shift  # (2, B · 2E), graph-major like e
        for i, conv in enumerate(self.convs):
            x = conv(x, index, e)
            if i == len(self.convs) - 1:
                break
            x = self.dropout(nn.functional.silu(self.norms[i](x)))
            e = self.edge_updates[i](x, index, e)
        return self.head(x.reshape(B, N, -1)[:, -sizes[-1]:].flatten(1))

    def predict(self, weights: MLPWeights) -> torch.Tensor:
        return self(weights)
