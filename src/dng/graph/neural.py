"""Neural graphs: the *dynamic* one (a sequence of layer snapshots) and the *static* one (MLPs).

A network ``n_0 → n_1 → … → n_L`` (neurons or channels) has its nodes as nodes and its weights
as edges; a convolution's edge carries the kernel's ``T = k_h·k_w`` taps as parallel channels.

* **Dynamic neural graph** (Wu et al.): snapshot ``l`` (``l = 0..L-1``) holds only the bipartite
  block from group ``l`` to group ``l+1`` — edge features ``W_l`` ``(B, n_{l+1}, n_l)`` in
  ``[target, source]`` layout (MLPs; ``(B, n_{l+1}, n_l, T)`` for any other architecture, a
  dense layer being the ``T = 1`` case) and node features ``b_l`` ``(B, n_{l+1})`` of the
  targets. Processing the snapshots in order mirrors the forward pass. Global average pooling
  (conv → dense) is not a node of the graph: channel ``c`` of the last convolution feeds dense
  input ``c`` directly (the reference's reading).
* **Static neural graph** (Kofinas et al. 2024): all layers at once — node features
  ``(B, N, 1)`` (biases; 0 for the input neurons) with ``N = Σ n_l`` and the same weight blocks,
  each block connecting node ranges ``[off_l, off_l + n_l)`` → ``[off_{l+1}, …)``.

Both are views over dense batched tensors, no per-edge Python; :func:`edge_index` and
:func:`edge_values` give the static graph as an edge list (PyTorch Geometric's layout).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dng.packed import PackedNets, residual_pairs
from dng.weights import MLPWeights, NetWeights


@dataclass(frozen=True)
class Snapshot:
    """One time step of a dynamic neural graph: the block ``layer → layer + 1``.

    ``edges``: ``(B, n_out, n_in)`` weights (MLPs) or ``(B, n_out, n_in, T)`` taps;
    ``nodes``: ``(B, n_out)`` target biases; ``activation``: the target layer's nonlinearity;
    ``slot``: which encoder parameters the snapshot uses; ``taps``: ``T``.

    Networks of different architectures in one batch (:class:`~dng.packed.PackedNets`) also
    carry ``mask`` ``(B, T)`` (real taps), ``act`` ``(B,)`` (each network's activation index of
    this layer; ``activation`` is then ``"mixed"``) and, where residual connections end in this
    layer's targets, ``res_src`` ``(R,)`` (global source node indices), ``res_dst`` ``(R,)``
    (target index within this layer) and ``res_mask`` ``(B, R)``. Plain batches carry ``act``
    and the residual fields too where their architecture has them.
    """

    layer: int
    edges: torch.Tensor
    nodes: torch.Tensor
    activation: str
    slot: int = 0
    taps: int = 1
    mask: torch.Tensor | None = None
    act: torch.Tensor | None = None
    res_src: torch.Tensor | None = None
    res_dst: torch.Tensor | None = None
    res_mask: torch.Tensor | None = None
    src_mask: torch.Tensor | None = None  # (B, n_in) real source nodes (padded batches)
    carry: torch.Tensor | None = None  # (B,) networks for which this layer is a copy


def dynamic_graph(weights: NetWeights | PackedNets) -> list[Snapshot]:
    """The snapshots ``G_0, …, G_{L-1}`` of a batch of networks (MLPs: 3-D edges, as the
    one-tap path has always read them; any other architecture: 4-D taps)."""
    if isinstance(weights, PackedNets):
        return _packed_graph(weights)
    from dng.padded import PaddedNets

    if isinstance(weights, PaddedNets):
        return _padded_graph(weights)
    arch = weights.arch
    slots = arch.slots()
    if arch.is_mlp:
        return [Snapshot(l, w, b, a, slots[l]) for l, (w, b, a) in
                enumerate(zip(weights.weights, weights.biases, weights.activations))]
    act = weights.act_ids()
    pairs = residual_pairs(arch)
    res = ones = None
    if pairs:  # (most CNNs have none: no tensors to build)
        res = torch.tensor(pairs, dtype=torch.int64, device=weights.device).T
        ones = torch.ones(weights.batch_size, res.shape[1], dtype=torch.bool,
                          device=weights.device)
    return [Snapshot(l, weights.taps(l), b if b is not None else
                     weights.weights[l].new_zeros(weights.batch_size, layer.n_out),
                     layer.activation, slots[l], layer.taps, None, act[:, l],
                     *(_residuals_into(l, arch.sizes, res, ones) if pairs else (None,) * 3))
            for l, (b, layer) in enumerate(zip(weights.biases, arch.layers))]


def _residuals_into(l: int, sizes, res_index: torch.Tensor, res_mask: torch.Tensor):
    """The residual pairs whose target is in group ``l + 1``: ``(src, dst_local, mask)`` or
    three ``None``."""
    lo = sum(sizes[:l + 1])
    hi = lo + sizes[l + 1]
    sel = (res_index[1] >= lo) & (res_index[1] < hi)
    if not bool(sel.any()):
        return None, None, None
    return res_index[0, sel], res_index[1, sel] - lo, res_mask[:, sel]


def _packed_graph(p: PackedNets) -> list[Snapshot]:
    sizes = p.layer_sizes
    return [Snapshot(l, p.taps[l], p.biases[l], "mixed", l, p.taps[l].shape[-1], p.tap_mask[l],
                     p.act[:, l], *_residuals_into(l, sizes, p.res_index, p.res_mask))
            for l in range(p.num_layers)]


def _padded_graph(p) -> list[Snapshot]:
    return [Snapshot(l, p.taps[l], p.biases[l], "mixed", l, p.taps[l].shape[-1], p.tap_mask[l],
                     p.act[:, l], *_residuals_into(l, p.sizes, p.res_index, p.res_mask),
                     p.node_mask[l], p.carry[:, l])
            for l in range(p.num_layers)]


@dataclass(frozen=True)
class StaticGraph:
    """All neurons and all weight blocks of a batch of MLPs.

    ``nodes``: ``(B, N, 1)`` — biases, 0 for input neurons; ``blocks[l]``: ``(B, n_{l+1}, n_l)``;
    ``offsets[l]``: index of layer ``l``'s first neuron; ``layer_sizes``: ``(n_0, …, n_L)``.
    """

    nodes: torch.Tensor
    blocks: tuple[torch.Tensor, ...]
    offsets: tuple[int, ...]
    layer_sizes: tuple[int, ...]


def static_graph(weights: NetWeights) -> StaticGraph:
    """All nodes and weight blocks (``blocks[l]`` as stored: ``(B, n_out, n_in[, k_h, k_w])``)."""
    sizes = weights.layer_sizes
    offsets = [0]
    for n in sizes:
        offsets.append(offsets[-1] + n)
    B = weights.batch_size
    zeros = weights.biases[0].new_zeros(B, sizes[0])
    nodes = torch.cat([zeros, *weights.biases], dim=1)[..., None]
    return StaticGraph(nodes, weights.weights, tuple(offsets[:-1]), sizes)


def edge_index(layer_sizes, device=None) -> torch.Tensor:
    """``(2, E)`` source/target node indices of the static graph's ``E = Σ n_l n_{l+1}``
    edges, block by block, each block in the row-major order of ``W_l`` (target, source):
    edge ``k`` carries ``edge_values(weights)[:, k]``."""
    sizes = [int(n) for n in layer_sizes]
    off = [0]
    for n in sizes:
        off.append(off[-1] + n)
    parts = []
    for l in range(len(sizes) - 1):
        t, s = torch.meshgrid(torch.arange(sizes[l + 1]), torch.arange(sizes[l]), indexing="ij")
        parts.append(torch.stack([s.flatten() + off[l], t.flatten() + off[l + 1]]))
    return torch.cat(parts, dim=1).to(device)


def edge_values(weights: MLPWeights) -> torch.Tensor:
    """``(B, E)``: every weight, in the edge order of :func:`edge_index`."""
    return torch.cat([w.flatten(1) for w in weights.weights], dim=1)


__all__ = ["Snapshot", "StaticGraph", "dynamic_graph", "edge_index", "edge_values",
           "static_graph"]
