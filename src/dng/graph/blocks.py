"""Every network as dense blocks (the static neural graph of any architecture, for the
static-graph baselines): :class:`BlockGraph` of a batch of CNNs or MLPs
(:class:`~dng.weights.NetWeights`), of networks of one node signature
(:class:`~dng.packed.PackedNets`) or of vision transformers
(:class:`~dng.vit.ViTWeights`, via :func:`~dng.graph.vit_static.vit_neural_graph`).

Nodes are numbered layer by layer (``sizes``); block ``l`` holds the edges layer ``l`` →
layer ``l+1`` as ``(B, n_{l+1}, n_l, C_l)`` features (kernel taps, or q/k/v), of which
``edge_mask[l] (B | 1, C_l)`` are real; node features ``(B, N, F)`` with ``node_mask
(B | 1, N, F)``; ``act (B, N)`` each node's activation index (None for ViTs); ``res_index (2, R)``
/ ``res_mask (B, R)``: residual (source, target) node pairs and which network has each.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from dng.packed import PackedNets
from dng.weights import NetWeights


class BlockGraph(NamedTuple):
    nodes: torch.Tensor
    node_mask: torch.Tensor
    edges: list[torch.Tensor]
    edge_mask: list[torch.Tensor]
    sizes: tuple[int, ...]
    act: torch.Tensor | None = None
    res_index: torch.Tensor | None = None
    res_mask: torch.Tensor | None = None


def block_graph(weights) -> BlockGraph:
    from dng.vit import ViTWeights

    if isinstance(weights, ViTWeights):
        from dng.graph.vit_static import vit_neural_graph

        g = vit_neural_graph(weights)
        dev = weights.device
        masks = [(torch.arange(3, device=dev) < c)[None] for c in g.channels]
        return BlockGraph(g.nodes, g.node_mask[None], g.edges, masks, g.sizes)
    if isinstance(weights, NetWeights):
        weights = PackedNets.pack([weights])
    if not isinstance(weights, PackedNets):
        raise TypeError(f"no block graph for {type(weights).__name__}")
    p = weights
    sizes, B = p.layer_sizes, p.batch_size
    nodes = torch.cat([p.biases[0].new_zeros(B, sizes[0]), *p.biases], 1)[..., None]
    mask = torch.ones(1, nodes.shape[1], 1, dtype=torch.bool, device=p.device)
    mask[:, :sizes[0]] = False  # input nodes have no bias
    act = torch.cat([torch.zeros(B, sizes[0], dtype=torch.long, device=p.device),
                     *[p.act[:, l:l + 1].expand(-1, sizes[l + 1])
                       for l in range(len(sizes) - 1)]], 1)
    return BlockGraph(nodes, mask, list(p.taps), list(p.tap_mask), sizes, act, p.res_index,
                      p.res_mask)


def in_degrees(sizes, res_pairs=()) -> torch.Tensor:
    """In-degree of every node of the two-way graph (each edge in both directions)."""
    deg = []
    for l, n in enumerate(sizes):
        d = (sizes[l - 1] if l else 0) + (sizes[l + 1] if l + 1 < len(sizes) else 0)
        deg += [d] * n
    deg = torch.tensor(deg)
    for s, t in res_pairs:
        deg[s] += 1
        deg[t] += 1
    return deg
