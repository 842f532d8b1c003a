r"""The DNG-Encoder's layer for edges with several taps (convolution kernels): *taps as heads*.

For one snapshot with ``T`` taps per edge, ``H ≥ T`` heads of width ``A`` and node width ``D``:

.. math::
    \hat E_{k,ts} &= \mathrm{EdgeLin}(\gamma(w_{k,ts}))  && (B, n_{out}, n_{in}, H, A)\\
    S_s &= \mathrm{SrcLin}(h_s) = [S_{s,0}, …, S_{s,H-1}]   && (B, n_{in}, H·A)\\
    q_{ts} &= \big[\hat E_{0,ts} \odot S_{s,0}, …, \hat E_{H-1,ts} \odot S_{s,H-1}\big]
            && (B, n_{out}, n_{in}, H·A)\\
    m_t &= \textstyle\sum_s \mathrm{Map}(q_{ts}),\quad
          \mathrm{Map} = \mathrm{Linear}(HA, D) \to \mathrm{ReLU} \to \mathrm{Linear}(D, D)
            && (B, n_{out}, D)\\
    x_t &= \mathrm{DstLin}(\gamma(b_t) + a)  \quad (a: \text{activation embedding, or } 0)\\
    h_t &= \mathrm{LayerNorm}(\mathrm{Cell}(\text{input} = x_t, \text{hidden} = m_t))

A layer with ``T < H`` taps (a dense layer after pooling: ``T = 1``) fills heads ``T..H-1``:
``pad="zeros"`` — zero *feature* vectors after γ, so EdgeLin gives its bias there (the
reference's behaviour, quirk Q3 of ``official_dng_cnn/FORMAT.md``) — or ``pad="masked"``:
padded heads contribute nothing. The map is applied per (target, source) pair *before* the sum
(the reference's order, Q7). The cell and the Fourier features are shared by the layers of a
pass and passed in.
"""

from __future__ import annotations

import torch
from torch import nn

from dng.errors import ShapeError

PADS = ("zeros", "masked")


class TapDNGLayer(nn.Module):
    """``forward(h_src (B, n_in, D), taps (B, n_out, n_in, T), u, cell, fourier, extra,
    u_is_raw, node_add, mask)`` → ``(B, n_out, D)``. ``u``: raw biases ``(B, n_out)`` (pass 0) or
    the previous pass's states; ``node_add (B, 1, 2F)``: added to ``γ(b)`` (the per-network
    activation embedding); ``extra (…, D)``: added to the cell input."""

    def __init__(self, emb_dim: int, edge_dim: int, input_dim: int, heads: int, att_dim: int,
                 pad: str = "zeros"):
        super().__init__()
        if pad not in PADS:
            raise ShapeError(f"pad_taps must be one of {PADS}, got {pad!r}")
        self.heads, self.att_dim, self.pad = heads, att_dim, pad
        self.src_lin = nn.Linear(emb_dim, heads * att_dim)
        self.edge_lin = nn.Linear(edge_dim, att_dim)
        self.map1 = nn.Linear(heads * att_dim, emb_dim)
        self.map2 = nn.Linear(emb_dim, emb_dim)
        self.dst_lin = nn.Linear(input_dim, emb_dim)
        self.norm = nn.LayerNorm(emb_dim, eps=1e-5)

    def reset_parameters(self) -> None:
        for m in (self.src_lin, self.edge_lin, self.map1, self.map2, self.dst_lin, self.norm):
            m.reset_parameters()

    def edge_heads(self, taps: torch.Tensor, fourier) -> torch.Tensor:
        """``EdgeLin(γ(w))`` per tap, padded to ``H`` heads: ``(B, n_out, n_in, H, A)``."""
        T = taps.shape[-1]
        if T > self.heads:
            raise ShapeError(f"an edge has {T} taps but the layer has {self.heads} heads")
        e = fourier.project(taps, self.edge_lin.weight, self.edge_lin.bias)
        if T < self.heads:
            fill = self.edge_lin.bias if self.pad == "zeros" else torch.zeros_like(
                self.edge_lin.bias)
            pad = fill.to(e.dtype).expand(*e.shape[:3], self.heads - T, -1)
            e = torch.cat([e, pad], dim=3)
        return e

    def message(self, h_src: torch.Tensor, taps: torch.Tensor, fourier,
                mask: torch.Tensor | None = None,
                src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``mask (B, T)``: per-network real taps (networks of different kernels in one
        batch); a masked tap's product ``Ê ⊙ S`` is multiplied by 0 — the reference's order.
        ``src_mask (B, n_in)``: real source nodes (a padded batch); the others' mapped terms
        are left out of the sum."""
        B, n_out, n_in, T = taps.shape
        if mask is None:
            e = self.edge_heads(taps, fourier)
            s = self.src_lin(h_src).view(B, 1, n_in, self.heads, self.att_dim)
            q = e * s
        else:
            if T > self.heads:
                raise ShapeError(f"an edge has {T} taps but the layer has {self.heads} heads")
            e = fourier.project(taps, self.edge_lin.weight, self.edge_lin.bias)
            s = self.src_lin(h_src).view(B, 1, n_in, self.heads, self.att_dim)
            q = (e * s[:, :, :, :T]) * mask.to(e.dtype).view(B, 1, 1, T, 1)
            if T < self.heads:  # heads beyond every network's taps: masked
                q = torch.cat([q, q.new_zeros(*q.shape[:3], self.heads - T, q.shape[-1])], 3)
        q = q.flatten(3)  # (B, n_out, n_in, H·A), head-major
        out = self.map2(torch.relu(self.map1(q)))
        if src_mask is not None:
            out = out * src_mask.to(out.dtype)[:, None, :, None]
        return out.sum(2)

    def forward(self, h_src, taps, u, cell, fourier, extra=None, u_is_raw=True,
                node_add=None, mask=None, src_mask=None):
        m = self.message(h_src, taps, fourier, mask, src_mask)
        if u_is_raw:
            u = fourier(u)
            if node_add is not None:
                u = u + node_add
        x = self.dst_lin(u)
        if extra is not None:
            x = x + extra
        return self.norm(cell(x, m))
