r"""NG-GNN (:mod:`dng.models.ng_gnn`, the published model on PyG's PNA) on networks that are
not MLPs: CNNs, mixed CNN zoos with residual connections, vision transformers — the graphs
Kofinas et al. (2024) build for them, from :func:`dng.graph.blocks.block_graph`.

What is as in the MLP model: one node per neuron/channel, every edge in both directions, random
Fourier features → Linear → Linear for nodes and edges, learned positional embeddings (each
input node, each hidden layer, each output node), FiLM-modulated PNA convolutions
(mean/min/max/std; identity/amplification), LayerNorm/SiLU/dropout and an edge update between
them, readout = the output nodes' states → MLP.

What the architectures add (the published model's choices for CNNs and transformers, in our
words): an edge's several values (a kernel's taps, padded to the zoo's largest kernel with
zero features; a ViT node's q, k, v) each through ``γ``, side by side, into the edge Linear; a
node's several values (a ViT's bias and LayerNorm γ/β) likewise; a learned embedding of each
node's activation function; residual connections as extra edges with one learned feature; the
direction of an edge as a learned embedding (the MLP model's ``(w, 0, w)`` / ``(0, w, w)``
trick needs a single value). The input standardisation of the MLP model is not done here
(weights enter ``γ`` as they are). PNA's degree histogram is that of every architecture the
model was built for. Mixed zoos run in buckets of equal node counts. Needs ``dng[baselines]``.
"""

from __future__ import annotations

import torch
from torch import nn

from dng.arch import ACTIVATIONS, Arch
from dng.errors import ShapeError
from dng.graph.blocks import BlockGraph, block_graph, in_degrees
from dng.mixed import MixedArch, MixedNets
from dng.models.layers import FourierFeatures
from dng.models.ng_gnn import AGGREGATORS, SCALERS, EdgeUpdate, _film_pna
from dng.packed import residual_pairs


def _vit_sizes(spec) -> tuple[int, ...]:
    return (spec.n0, spec.dim, *[n for _ in range(spec.depth)
                                 for n in (spec.inner, spec.dim, spec.mlp_dim, spec.dim)],
            spec.num_classes)


class NGGNNAny(nn.Module):
    """``forward(weights) → (B, outputs)`` for ``NetWeights`` of ``arch``, ``MixedNets`` /
    ``PackedNets`` of a :class:`MixedArch`, or ``ViTWeights`` of a ``ViTSpec``."""

    def __init__(self, arch, num_classes: int, hidden: int = 32, layers: int = 4,
                 fourier_dim: int = 128, fourier_scale: float = 3.0, dropout: float = 0.2,
                 probes: int = 0, aggregators=AGGREGATORS, scalers=SCALERS, **_):
        super().__init__()
        if probes:
            raise ShapeError("probe features need an MLP")
        self.arch = arch
        if isinstance(arch, (Arch, MixedArch)):
            archs = arch.archs if isinstance(arch, MixedArch) else (arch,)
            graphs = [(a.sizes, residual_pairs(a)) for a in archs]
            node_feats, taps = 1, max(a.max_taps for a in archs)
        else:  # a ViTSpec
            graphs, node_feats, taps = [(_vit_sizes(arch), [])], 5, 3
        self.n_in, self.n_out = graphs[0][0][0], graphs[0][0][-1]
        self.hidden_layers = max(len(s) - 2 for s, _ in graphs)
        deg = torch.zeros(1, dtype=torch.long)
        for sizes, res in graphs:
            h = torch.bincount(in_degrees(sizes, res))
            deg = torch.nn.functional.pad(deg, (0, max(0, len(h) - len(deg))))
            deg[:len(h)] += h
        d = int(hidden)
        self.taps, self.node_feats = taps, node_feats
        self.fourier = FourierFeatures(fourier_dim, fourier_scale)
        self.node_in = nn.Linear(node_feats * 2 * fourier_dim, d)
        self.edge_in = nn.Linear(taps * 2 * fourier_dim, d)
        self.node_proj, self.edge_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.pos = nn.Parameter(torch.empty(self.n_in + self.hidden_layers + self.n_out, d))
        self.act_emb = nn.Parameter(torch.empty(len(ACTIVATIONS), d))
        self.dir_emb = nn.Parameter(torch.empty(2, d))
        self.res_emb = nn.Parameter(torch.empty(d))
        self.convs = nn.ModuleList(_film_pna(d, d, d, deg, aggregators, scalers)
                                   for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(layers - 1))
        self.edge_updates = nn.ModuleList(EdgeUpdate(d) for _ in range(layers - 1))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Sequential(nn.Linear(self.n_out * d, d), nn.ReLU(), nn.Linear(d, d),
                                  nn.ReLU(), nn.Linear(d, num_classes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        for p in (self.pos, self.act_emb, self.dir_emb):
            nn.init.normal_(p)
        nn.init.normal_(self.res_emb)

    def _embed(self, x: torch.Tensor, mask: torch.Tensor, lin: nn.Linear) -> torch.Tensor:
        """``lin`` of ``[γ(x_1)·m_1, …, γ(x_c)·m_c, 0 …]`` (each of ``x``'s last-axis values
        through ``γ``, masked, zero features up to ``lin``'s width), computed value by value
        without materialising the ``(..., c, 2F)`` features: ``(..., c)`` → ``(..., d)``."""
        F2 = self.fourier.out_dim
        out = lin.bias
        for c in range(x.shape[-1]):
            y = self.fourier.project(x[..., c], lin.weight[:, c * F2:(c + 1) * F2])
            out = out + y * mask[..., c:c + 1].to(y.dtype)
        return out

    def _graph(self, g: BlockGraph) -> torch.Tensor:
        sizes, dev = g.sizes, g.nodes.device
        B, N, L = g.nodes.shape[0], sum(sizes), len(sizes) - 1
        if sizes[0] != self.n_in or sizes[-1] != self.n_out or L - 1 > self.hidden_layers:
            raise ShapeError(f"ng-gnn built for {self.arch.describe()}, got nodes "
                             f"{'→'.join(map(str, sizes))}")
        slot = [*range(sizes[0])]
        for l in range(1, L):
            slot += [self.n_in + l - 1] * sizes[l]
        slot += [self.n_in + self.hidden_layers + j for j in range(sizes[-1])]
        x = self._embed(g.nodes, g.node_mask, self.node_in)
        if g.act is not None:
            x = x + self.act_emb[g.act]
        x = (self.node_proj(x) + self.pos[torch.tensor(slot, device=dev)]).reshape(B * N, -1)
        off = [sum(sizes[:l]) for l in range(L + 1)]
        feats, index = [], []
        for l, (e, m) in enumerate(zip(g.edges, g.edge_mask)):
            no, ni = sizes[l + 1], sizes[l]
            f = self._embed(e, m[:, None, None, :], self.edge_in)
            feats.append(f.reshape(B, no * ni, -1))
            t, s = torch.meshgrid(torch.arange(no, device=dev), torch.arange(ni, device=dev),
                                  indexing="ij")
            index.append(torch.stack([s.flatten() + off[l], t.flatten() + off[l + 1]]))
        e = self.edge_proj(torch.cat(feats, 1))  # (B, E, d)
        index = torch.cat(index, 1)  # (2, E) forward
        E = index.shape[1]
        shift = (torch.arange(B, device=dev) * N)[:, None]
        src = torch.cat([index[0] + shift, index[1] + shift], 1)  # both directions
        dst = torch.cat([index[1] + shift, index[0] + shift], 1)
        e = torch.cat([e + self.dir_emb[0], e + self.dir_emb[1]], 1)  # (B, 2E, d)
        src, dst, e = src.flatten(), dst.flatten(), e.reshape(B * 2 * E, -1)
        if g.res_index is not None and g.res_index.numel():
            b, r = g.res_mask.nonzero(as_tuple=True)
            rs, rt = g.res_index[0][r] + b * N, g.res_index[1][r] + b * N
            res = self.edge_proj(self.res_emb).expand(len(r), -1)
            src, dst = torch.cat([src, rs, rt]), torch.cat([dst, rt, rs])
            e = torch.cat([e, res + self.dir_emb[0], res + self.dir_emb[1]])
        edge_index = torch.stack([src, dst])
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index, e)
            if i == len(self.convs) - 1:
                break
            x = self.dropout(nn.functional.silu(self.norms[i](x)))
            e = self.edge_updates[i](x, edge_index, e)
        return self.head(x.reshape(B, N, -1)[:, -sizes[-1]:].flatten(1))

    def forward(self, weights) -> torch.Tensor:
        if isinstance(weights, MixedNets):
            rows, outs = zip(*[(r, self._graph(block_graph(p))) for r, p in weights.buckets()])
            return torch.cat(outs)[torch.argsort(torch.cat(rows))]
        return self._graph(block_graph(weights))

    def predict(self, weights) -> torch.Tensor:
        return self(weights)
