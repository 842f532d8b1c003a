"""``dng bench --shape smallcnn``: the CNN generalization predictor (the reference's sizes:
Small CNN Zoo networks, D = F = 128, 9 heads of A = 32, head 1024) and the CNN baselines, with a
*reference structure* row: the same parameters run the way the reference implementation lays
out a snapshot (``official_dng_cnn/FORMAT.md`` §3–4) — edges flat and input-channel-major
``(B, 9, n_in·n_out)``, ``Φ`` materialised for every head (the dense layer's eight padded heads
as zero features), ``EdgeLin`` on all of them, the source states gathered per edge and the
mapped messages scattered to their targets — where ours reads dense ``(B, n_out, n_in, T)``
blocks, runs ``EdgeLin`` through the Fourier projection and pads heads with ``EdgeLin``'s bias.
"""

from __future__ import annotations

import copy
import types

import torch

from dng.arch import Arch
from dng.models.tap_layer import TapDNGLayer

SMALLCNN = Arch.cnn(1, [16, 16, 16])  # the Small CNN Zoo network (4 970 parameters)
PAPER_CNN = dict(fourier_dim=128, emb_dim=128, att_dim=32, hidden=1024, pad_taps="zeros")


def reference_message(self: TapDNGLayer, h_src, taps, fourier, mask=None, src_mask=None):
    """:meth:`TapDNGLayer.message` (``pad="zeros"``, no masks) in the reference's layout."""
    B, n_out, n_in, T = taps.shape
    H, A = self.heads, self.att_dim
    P = n_in * n_out
    e = taps.permute(0, 3, 2, 1).reshape(B, T, P)  # edge s·n_out + t, input-channel-major
    phi = fourier(e)  # (B, T, P, 2F)
    if T < H:
        phi = torch.cat([phi, phi.new_zeros(B, H - T, P, phi.shape[-1])], 1)
    E = self.edge_lin(phi).permute(0, 2, 1, 3)  # (B, P, H, A)
    src = torch.arange(n_in, device=taps.device).repeat_interleave(n_out)
    dst = torch.arange(n_out, device=taps.device).repeat(n_in)
    S = self.src_lin(h_src)[:, src].view(B, P, H, A)  # gathered per edge
    M = self.map2(torch.relu(self.map1((E * S).reshape(B, P, H * A))))
    return M.new_zeros(B, n_out, M.shape[-1]).index_add_(1, dst, M)


def reference_structure(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``model`` whose tap layers compute their messages as the reference does."""
    ref = copy.deepcopy(model)
    for m in ref.modules():
        if isinstance(m, TapDNGLayer):
            m.message = types.MethodType(reference_message, m)
    return ref


def smallcnn_weights(batch: int, device, seed: int = 0):
    from dng.zoo.cnnfit import draw_hypers, init_cnns

    ids = torch.arange(batch) + seed * batch
    return init_cnns(SMALLCNN, draw_hypers(ids, seed), ids, seed).to(device)


def cnn_rows(models, device, peak, repeats, train, reference, autocast, bench_model):
    """Rows for the CNN predictor and the CNN baselines (``bench_model`` from dng.bench)."""
    from dng.models import create

    def loss(m, w):
        return m(w).square().mean()

    rows = []
    for name in models:
        if name == "dng-encoder":
            m = create("dng-encoder", SMALLCNN, num_classes=1, network_activation_embedding=True,
                       **PAPER_CNN)
            rows.append(bench_model("DNG CNN predictor (D=128, 9 heads × 32)", m,
                                    lambda m, w: m(w), loss, smallcnn_weights, device, peak,
                                    repeats, train, autocast=autocast))
            if reference:
                rows.append(bench_model("  same, reference structure", reference_structure(m),
                                        lambda m, w: m(w), loss, smallcnn_weights, device, peak,
                                        repeats, train, autocast=autocast))
        elif name in ("ng-gnn", "ng-gnn-lite", "nfn", "mlp"):
            kw = {"nfn": dict(hidden=32, fourier_dim=16)}.get(name, {})
            m = create(name, SMALLCNN, num_classes=1, **kw)
            rows.append(bench_model(f"{name} on CNNs", m, lambda m, w: m(w), loss,
                                    smallcnn_weights, device, peak, repeats, train,
                                    autocast=autocast))
    return rows
