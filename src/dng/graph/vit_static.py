"""The static neural graph of a vision transformer (``ng-gnn-lite`` on ViT zoos), after
Kofinas et al. 2024 §transformers: nodes are the channels of each linear map, in forward order,

``patch inputs (p²C) → dim → [qkv (inner) → dim → mlp → dim] × depth → classes``,

and every linear map is a dense block of edges ``(B, n_out, n_in, 3)``: the ``to_qkv`` block's
three channels are a node's q, k and v weights (the attention's inner node ``j`` receives
``W_q[j], W_k[j], W_v[j]``), every other block has one. Node features ``(B, N, 5)``: the bias
(patch embedding, MLP, head), then the LayerNorm (γ, β) applied to the node's own output (the
patch embedding's second norm; the inputs' first), then the LayerNorm (γ, β) applied where the
stream goes next (a block's attention or MLP norm, the final norm). ``node_mask (N, 5)`` says
which are real (the rest are 0). The residual stream is not an edge here (as in
:mod:`dng.models.ng_mixed`); permuting attention heads or MLP units permutes nodes and edge
blocks alike.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from dng.vit import ViTWeights


class ViTGraph(NamedTuple):
    nodes: torch.Tensor          # (B, N, 5)
    node_mask: torch.Tensor      # (N, 5) bool
    edges: list[torch.Tensor]    # block l: (B, n_{l+1}, n_l, 3), unused channels 0
    channels: list[int]          # real channels of each block (3 for qkv, else 1)
    sizes: tuple[int, ...]       # nodes per layer


def vit_neural_graph(w: ViTWeights) -> ViTGraph:
    s, p = w.spec, w.params
    B, dev, dt = w.batch_size, w.device, w.dtype
    d = s.dim
    nodes, masks, edges, channels = [], [], [], []

    def add_nodes(n, bias=None, own=None, nxt=None):
        f = torch.zeros(B, n, 5, device=dev, dtype=dt)
        m = torch.zeros(n, 5, dtype=torch.bool, device=dev)
        for cols, vals in (((0,), bias and (bias,)), ((1, 2), own), ((3, 4), nxt)):
            if vals:
                for c, v in zip(cols, vals):
                    f[:, :, c] = p[v]
                    m[:, c] = True
        nodes.append(f)
        masks.append(m)

    def add_edges(weight: torch.Tensor, c: int = 1):
        e = weight.new_zeros(*weight.shape, 3) if c == 1 else None
        if c == 1:
            e[..., 0] = weight
        else:  # (B, 3·inner, d) → (B, inner, d, 3): q, k, v of inner node j side by side
            e = weight.reshape(B, 3, s.inner, d).permute(0, 2, 3, 1)
        edges.append(e)
        channels.append(c)

    pe = "to_patch_embedding."
    add_nodes(s.n0, own=(pe + "1.weight", pe + "1.bias"))
    norm = lambda key: (key + ".weight", key + ".bias")  # noqa: E731
    blk = lambda i: f"transformer.layers.{i}."  # noqa: E731
    first_next = norm(blk(0) + "0.norm") if s.depth else norm("transformer.norm")
    add_nodes(d, pe + "2.bias", norm(pe + "3"), first_next)
    add_edges(p[pe + "2.weight"])
    for i in range(s.depth):
        q = blk(i)
        add_nodes(s.inner)
        add_edges(p[q + "0.to_qkv.weight"], 3)
        add_nodes(d, nxt=norm(q + "1.net.0"))
        add_edges(p[q + "0.to_out.weight"])
        add_nodes(s.mlp_dim, q + "1.net.1.bias")
        add_edges(p[q + "1.net.1.weight"])
        nxt = norm(blk(i + 1) + "0.norm") if i + 1 < s.depth else norm("transformer.norm")
        add_nodes(d, q + "1.net.3.bias", nxt=nxt)
        add_edges(p[q + "1.net.3.weight"])
    add_nodes(s.num_classes, "linear_head.bias")
    add_edges(p["linear_head.weight"])
    sizes = tuple(n.shape[1] for n in nodes)
    return ViTGraph(torch.cat(nodes, 1), torch.cat(masks, 0), edges, channels, sizes)
