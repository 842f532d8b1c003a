r"""DNG-Encoder for vision transformers (:class:`~dng.vit.ViTWeights`): the snapshots of a ViT's
dynamic graph are the patch embedding, per block qkv → attention → out → fc1 → fc2, and the
classifier; the reference's ``DynamicNeuralGNN_Trans`` (``official_dng_vit/FORMAT.md`` §4).

Message of a weight block ``X (B, n_out, n_in)`` from projected source states ``s``:

.. math::
    \mathrm{msg}_P(X, s)_o = \textstyle\sum_j P(\gamma(X_{oj})) \odot s_j

with ``P`` a Linear(2F → D). Where the ViT has a LayerNorm the graph has a learned affine map
``aff(s) = s ⊙ a + c`` (no statistics; the ViT's own LayerNorm values are not read). Per block
``i`` (``S``: the block input, ``(B, dim, D)``):

.. math::
    S_n &= \mathrm{aff}_{att}(S),\quad Q = \mathrm{LN}(\mathrm{msg}_{qkv}(W_{qkv}, N_0 S_n))
         && (B, 3·inner, D)\\
    z_{h,j} &= \textstyle\sum_{c<3d_h} C_{jc} \odot (N_1 Q_{\mathrm{head}_h})_c,\quad
         Z = \mathrm{LN}([z_0; …; z_{H-1}])  && (B, inner, D)\\
    O &= \mathrm{LN}(\mathrm{msg}_{out}(W_{out}, N_2 Z)) + S\\
    H_1 &= \mathrm{LN}(\mathrm{Cell}(I_1 \gamma(b_1), \mathrm{msg}_{fc1}(W_1, N_3\,\mathrm{aff}_{fc}(O))))\\
    H_2 &= \mathrm{Cell}(I_2 \gamma(b_2), \mathrm{msg}_{fc2}(W_2, N_4 H_1)),\quad
          S' = H_2 + O

``C (d_h, 3d_h, D)`` is a learned attention stand-in shared by the block's heads (attention
scores are not modelled). ``N_k`` are Linear(D, D), ``I_k`` Linear(2F, D), one GRU serves every
update. The readout is the classifier nodes' states ``(B, classes·D)``. ``norm_fc2=True`` adds a
LayerNorm after ``H_2`` (the reference computes one and discards it, quirk Q1 — off by default,
as the reference). Permuting a block's MLP hidden units or its attention heads leaves the
readout unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from dng.models.layers import CELLS, FourierFeatures
from dng.vit import ViTSpec, ViTWeights


@dataclass
class ViTEncoderConfig:
    fourier_dim: int = 32
    fourier_scale: float = 1.0
    emb_dim: int = 32
    cell: str = "gru"
    norm_fc2: bool = False  # True: LayerNorm after the fc2 update (the reference discards it)

    def to_dict(self) -> dict:
        return asdict(self)


class Affine(nn.Module):
    """``s ⊙ scale + shift`` over the last dim (``N(0, 1)`` init, as the reference)."""

    def __init__(self, dim: int):
        super().__init__()
        self.scale, self.shift = nn.Parameter(torch.empty(dim)), nn.Parameter(torch.empty(dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.scale)
        nn.init.normal_(self.shift)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return s * self.scale + self.shift


class ViTBlockGraph(nn.Module):
    """One transformer block's snapshots (see the module docstring)."""

    def __init__(self, spec: ViTSpec, D: int, F2: int, norm_fc2: bool):
        super().__init__()
        self.spec = spec
        self.att_aff, self.fc_aff = Affine(D), Affine(D)
        self.src = nn.ModuleList(nn.Linear(D, D) for _ in range(5))  # N_0 … N_4
        self.norms = nn.ModuleList(nn.LayerNorm(D) for _ in range(4 + norm_fc2))
        self.edge = nn.ModuleDict({k: nn.Linear(F2, D) for k in ("qkv", "out", "fc1", "fc2")})
        self.fc1_in, self.fc2_in = nn.Linear(F2, D), nn.Linear(F2, D)
        self.attn = nn.Parameter(torch.empty(spec.dim_head, 3 * spec.dim_head, D))
        self.register_buffer("head_ids", spec.head_ids(), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        nn.init.normal_(self.attn)

    def forward(self, S, w: ViTWeights, i: int, msg, fourier, cell):
        n = self.norms
        Q = n[0](msg(self.edge["qkv"], w.block(i, "qkv"), self.src[0](self.att_aff(S))))
        G = self.src[1](Q[:, self.head_ids])  # (B, heads, 3dh, D)
        Z = n[1](torch.einsum("jcd,bhcd->bhjd", self.attn, G).flatten(1, 2))
        O = n[2](msg(self.edge["out"], w.block(i, "out"), self.src[2](Z))) + S
        H1 = n[3](cell(self.fc1_in(fourier(w.block(i, "fc1_b"))),
                       msg(self.edge["fc1"], w.block(i, "fc1_w"), self.src[3](self.fc_aff(O)))))
        H2 = cell(self.fc2_in(fourier(w.block(i, "fc2_b"))),
                  msg(self.edge["fc2"], w.block(i, "fc2_w"), self.src[4](H1)))
        if len(n) > 4:
            H2 = n[4](H2)
        return H2 + O


class ViTEncoder(nn.Module):
    """``forward(weights: ViTWeights) → (B, classes·D)`` (see the module docstring)."""

    def __init__(self, spec: ViTSpec, config: ViTEncoderConfig | None = None):
        super().__init__()
        self.spec, self.config = spec, config or ViTEncoderConfig()
        c = self.config
        D, F2 = c.emb_dim, 2 * c.fourier_dim
        self.fourier = FourierFeatures(c.fourier_dim, c.fourier_scale)
        self.cell = CELLS[c.cell](D)
        self.input_init_node = nn.Parameter(torch.empty(spec.n0, D))
        self.init_aff, self.last_aff = Affine(D), Affine(D)
        self.patch_src, self.patch_edge, self.patch_in = (nn.Linear(D, D), nn.Linear(F2, D),
                                                          nn.Linear(F2, D))
        self.patch_norm, self.last_norm, self.head_norm = (nn.LayerNorm(D), nn.LayerNorm(D),
                                                           nn.LayerNorm(D))
        self.blocks = nn.ModuleList(ViTBlockGraph(spec, D, F2, c.norm_fc2)
                                    for _ in range(spec.depth))
        self.head_src, self.head_edge, self.head_in = (nn.Linear(D, D), nn.Linear(F2, D),
                                                       nn.Linear(F2, D))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        nn.init.normal_(self.input_init_node)

    @property
    def out_dim(self) -> int:
        return self.spec.num_classes * self.config.emb_dim

    def msg(self, edge: nn.Linear, X: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """``Σ_j P(γ(X_oj)) ⊙ s_j``: ``X (B, n_out, n_in)``, ``s (B, n_in, D)`` → ``(B, n_out, D)``."""
        e = self.fourier.project(X, edge.weight, edge.bias)
        return (e * s.unsqueeze(1)).sum(2)

    def forward(self, w: ViTWeights) -> torch.Tensor:
        if not isinstance(w, ViTWeights) or w.spec != self.spec:
            raise_bad(w, self.spec)
        p, f = w.params, self.fourier
        B = w.batch_size
        init = self.patch_src(self.init_aff(self.input_init_node)).expand(B, -1, -1)
        S = self.patch_norm(self.cell(self.patch_in(f(p["to_patch_embedding.2.bias"])),
                                      self.msg(self.patch_edge, p["to_patch_embedding.2.weight"],
                                               init)))
        for i, block in enumerate(self.blocks):
            S = block(S, w, i, self.msg, f, self.cell)
        L = self.head_src(self.last_norm(self.last_aff(S)))
        H = self.head_norm(self.cell(self.head_in(f(p["linear_head.bias"])),
                                     self.msg(self.head_edge, p["linear_head.weight"], L)))
        return H.flatten(1)


def raise_bad(w, spec: ViTSpec):
    from dng.errors import ShapeError
    got = w.spec if isinstance(w, ViTWeights) else type(w).__name__
    raise ShapeError(f"this ViT encoder reads SimpleViTs of {spec}; got {got}")
