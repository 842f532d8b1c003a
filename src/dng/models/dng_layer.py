"""The DNG-Encoder's layer for one-tap edges (MLPs): the paper's update and its exact fast paths
(see :mod:`dng.models.encoder` for the equations of the whole encoder)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dng.errors import ShapeError
from dng.models.layers import FourierFeatures, ParamCache, group_size


class DNGLayer(nn.Module):
    r"""The maps of one (pass, snapshot): EdgeLin, NodeLin, InputLin and LayerNorm.

    ``forward(h_src (B, n_in, D), edges (B, n_out, n_in), u, cell, fourier, extra)`` → the
    targets' new states ``(B, n_out, D)``; :meth:`plain_forward` is the paper's update as the
    equations read. The cell and the Fourier features are shared by every layer of a pass (the
    reference's parameter layout), so they are passed in, not owned.

    Speed options (same math, each tested against :meth:`plain_forward` with and without
    gradients; all off = the plain path):

    * ``fuse_input`` — compose InputLin with the cell's input map (one ``2F → 3D`` map);
    * ``inference_chunk`` — without gradients on a CPU, build the ``(B, n_out, n_in, D)``
      edge tensor for that many INRs at a time, so it is summed while still in cache (0: off);
    * ``cached`` — keep the fused map while the parameters are unchanged (inference).
    """

    def __init__(self, emb_dim: int, edge_dim: int, input_dim: int, fuse_input: bool = True,
                 aggregation: str = "sum", inference_chunk: int = 2, cached: bool = True):
        super().__init__()
        if aggregation not in ("sum", "mean"):
            raise ShapeError(f"aggregation must be 'sum' or 'mean', got {aggregation!r}")
        self.aggregation = aggregation
        self.edge_lin = nn.Linear(edge_dim, emb_dim)
        self.node_lin = nn.Linear(emb_dim, emb_dim)
        self.input_lin = nn.Linear(input_dim, emb_dim)
        self.norm = nn.LayerNorm(emb_dim, eps=1e-5)
        self.fuse_input, self.inference_chunk, self.cached = fuse_input, inference_chunk, cached
        self._fused = ParamCache()

    def reset_parameters(self) -> None:
        for m in (self.edge_lin, self.node_lin, self.input_lin, self.norm):
            m.reset_parameters()
        self._fused.clear()

    def plain_forward(self, h_src, edges, u, cell, fourier, extra=None, u_is_raw=True):
        """``m_t = Σ_s EdgeLin(γ(w_ts)) ⊙ NodeLin(h_s)``, ``x_t = InputLin(γ(b_t))`` (or the
        previous pass's state), ``h_t = LayerNorm(Cell(input = x_t, hidden = m_t))``."""
        e = self.edge_lin(fourier(edges))  # (B, n_out, n_in, D)
        m = (e * self.node_lin(h_src).unsqueeze(1)).sum(2)  # (B, n_out, D)
        if self.aggregation == "mean":
            m = m / edges.shape[-1]
        x = self.input_lin(fourier(u) if u_is_raw else u)
        if extra is not None:
            x = x + extra
        return self.norm(cell(x, m))

    def forward(self, h_src, edges, u, cell, fourier, extra=None, u_is_raw=True):
        """``edges (B, n_out, n_in)`` raw weights; ``u`` raw biases ``(B, n_out)`` (pass 0,
        ``u_is_raw``) or previous states ``(B, n_out, D)``."""
        if not (self.fuse_input or self.inference_chunk or self.cached):
            return self.plain_forward(h_src, edges, u, cell, fourier, extra, u_is_raw)
        m = self.message(h_src, edges, fourier)
        if self.aggregation == "mean":
            m = m / edges.shape[-1]
        x, gx = self.input_gates(u, cell, extra, fourier if u_is_raw else None)
        return self.norm(cell(x, m, gx=gx))

    def message(self, h_src: torch.Tensor, edges: torch.Tensor,
                fourier: FourierFeatures) -> torch.Tensor:
        """``Σ_s (A γ(w_ts)) ⊙ n_s + a ⊙ Σ_s n_s`` with ``n = NodeLin(h)`` — the plain sum
        with EdgeLin's bias ``a`` taken out and ``A γ(w)`` from :meth:`FourierFeatures.project`
        (two fewer passes over the edge tensor); in place and by groups of
        ``inference_chunk`` INRs without gradients on a CPU."""
        n = self.node_lin(h_src)  # (B, n_in, D)
        bias_term = (self.edge_lin.bias * n.sum(1)).unsqueeze(1)  # (B, 1, D)
        n = n.unsqueeze(1)
        if torch.is_grad_enabled():
            e = fourier.project(edges, self.edge_lin.weight)  # (B, n_out, n_in, D), no bias
            return (e * n).sum(2) + bias_term
        B = edges.shape[0]
        step = group_size(B, edges.device, self.inference_chunk)
        out = torch.empty_like(bias_term.expand(-1, edges.shape[1], -1))
        for i in range(0, B, step):
            e = fourier.project(edges[i:i + step], self.edge_lin.weight)
            torch.sum(e.mul_(n[i:i + step]), 2, out=out[i:i + step])
        return out.add_(bias_term)

    def _fused_input_map(self, cell_map: nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
        """``W = W_cell · W_in``, ``c = W_cell · c_in + c_cell`` (fp32; cached if ``cached``)."""
        params = (self.input_lin.weight, self.input_lin.bias, cell_map.weight, cell_map.bias)

        def compute():
            with torch.autocast(cell_map.weight.device.type, enabled=False):
                return (cell_map.weight @ self.input_lin.weight,
                        torch.addmv(cell_map.bias, cell_map.weight, self.input_lin.bias))

        return self._fused.get(params, compute) if self.cached else compute()

    def input_gates(self, u: torch.Tensor, cell: nn.Module, extra: torch.Tensor | None,
                    fourier: FourierFeatures | None):
        """Returns ``(x, gx)``: either the cell input ``x`` or its projection ``gx``.

        ``fourier`` is given in pass 0, where ``u`` holds the raw biases (γ applied here)."""
        if self.fuse_input:
            w, c = self._fused_input_map(cell.input_map)
            gx = fourier.project(u, w, c) if fourier is not None else F.linear(u, w, c)
            if extra is not None:
                gx = gx + extra @ cell.input_map.weight.T
            return None, gx
        lin = self.input_lin
        x = fourier.project(u, lin.weight, lin.bias) if fourier is not None else lin(u)
        return (x if extra is None else x + extra), None
