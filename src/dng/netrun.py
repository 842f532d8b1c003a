"""The forward pass of a batch of networks of one :class:`~dng.arch.Arch` — the one place where
``dng`` runs the networks it reads (SIREN rendering, probe features, CNN zoo training and
scoring, edited INRs).

Convolutions of ``B`` networks run as one grouped convolution (network ``b``'s channels are
group ``b``); dense layers as one batched matrix product. A layer with a ``residual`` source
``j`` adds layer ``j``'s (post-activation) output to the first ``min(C_j, C_i)`` channels of its
own output *before* its activation (the CNN Wild Park generator's residuals).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dng.errors import ShapeError

# indices are stored in zoos and checkpoints: only ever append
ACTIVATIONS = ("linear", "sine", "relu", "tanh", "gelu", "sigmoid", "leaky_relu")


def activate(z: torch.Tensor, activation: str, omega: float = 30.0) -> torch.Tensor:
    """Apply a layer's nonlinearity by name (``sine`` is ``sin(ω z)``)."""
    if activation == "sine":
        return torch.sin(omega * z)
    if activation == "linear":
        return z
    if activation == "relu":
        return torch.relu(z)
    if activation == "tanh":
        return torch.tanh(z)
    if activation == "gelu":
        return F.gelu(z)
    if activation == "sigmoid":
        return torch.sigmoid(z)
    if activation == "leaky_relu":
        return F.leaky_relu(z, 0.01)
    raise ShapeError(f"unknown activation {activation!r} (known: {', '.join(ACTIVATIONS)})")


def run(arch, weights, x: torch.Tensor, upto: int | None = None,
        pre_activation: bool = False, all_layers: bool = False, act_ids=None,
        dropout: torch.Tensor | None = None, generator: torch.Generator | None = None):
    """The networks' forward.

    * MLP: ``x (N, n_0)`` shared (or ``(1, N, n_0)``) or ``(B, N, n_0)`` per network →
      ``(B, N, n_L)``;
    * CNN: ``x (N, C, H, W)`` shared or ``(B, N, C, H, W)`` → ``(B, N, n_L)``.

    ``all_layers``: return every layer's output (``pre_activation``: before the nonlinearity,
    ``sine`` as ``ω z``). ``act_ids (B, L)``: per-network activation indices into
    :data:`~dng.arch.ACTIVATIONS` (zoos whose networks differ in activation). ``dropout (B,)``:
    per-network dropout rates after every hidden layer (training), masks drawn from
    ``generator``.
    """
    ws, bs = weights.weights, weights.biases
    B = ws[0].shape[0]
    outs, post = [], []
    keep_post = any(l.residual is not None for l in arch.layers)
    per_net = x.dim() == (3 if arch.layers[0].kind == "dense" else 5)
    h = (x.expand(B, *x.shape[1:]) if x.shape[0] == 1 else x) if per_net else \
        x.expand(B, *x.shape)  # shared inputs (or a batch of one) serve every network
    for i, (layer, w, b) in enumerate(zip(arch.layers, ws, bs)):
        if layer.kind == "conv":
            N = h.shape[1]
            hin = h.transpose(0, 1).reshape(N, B * layer.n_in, *h.shape[-2:])
            z = F.conv2d(hin, w.reshape(B * layer.n_out, layer.n_in, *layer.kernel),
                         None if b is None else b.reshape(-1), layer.stride, layer.padding,
                         groups=B)
            z = z.view(N, B, layer.n_out, *z.shape[-2:]).transpose(0, 1)
        else:
            if layer.pool and h.dim() == 5:
                h = h.mean((-2, -1))
            z = torch.baddbmm(b[:, None, :], h, w.transpose(1, 2)) if b is not None \
                else torch.bmm(h, w.transpose(1, 2))
        if layer.residual is not None:
            r = post[layer.residual]
            c = min(r.shape[2], z.shape[2])
            z = torch.cat([z[:, :, :c] + r[:, :, :c], z[:, :, c:]], dim=2)
        h = _activate(z, i, layer, act_ids)
        if dropout is not None and i < len(arch.layers) - 1:
            keep = (1 - dropout).view(B, *[1] * (h.dim() - 1))
            mask = torch.rand(h.shape, generator=generator, device=h.device) < keep
            h = h * mask / keep
        if keep_post:
            post.append(h)
        if all_layers:
            outs.append((layer.omega * z if layer.activation == "sine" else z)
                        if pre_activation else h)
        if upto is not None and i + 1 >= upto:
            break
    return outs if all_layers else h


def _activate(z, i, layer, act_ids):
    if act_ids is None:
        return activate(z, layer.activation, layer.omega)
    ids = act_ids[:, i]
    kinds, counts = torch.unique_consecutive(ids, return_counts=True)
    if len(kinds) == 1:
        return activate(z, ACTIVATIONS[int(kinds[0])], layer.omega)
    if len(kinds) == len(set(kinds.tolist())):  # networks grouped by kind: slices
        parts = z.split(counts.tolist())
        return torch.cat([activate(p, ACTIVATIONS[int(a)], layer.omega)
                          for p, a in zip(parts, kinds)])
    out = z  # mixed order: each kind over all, kept where it applies
    for a in ids.unique().tolist():  # a handful of activation kinds, not networks
        m = (ids == a).view(-1, *[1] * (z.dim() - 1))
        out = torch.where(m, activate(z, ACTIVATIONS[a], layer.omega), out)
    return out
