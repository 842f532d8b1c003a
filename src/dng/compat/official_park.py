"""The reference implementation's generalization predictor on CNN Wild Park networks
(``official_dng_park/FORMAT.md``): its checkpoints, its networks, its predictions.

The reference model is our :class:`~dng.models.heads.EncoderClassifier` with one output on a
:class:`~dng.models.encoder.DNGEncoder` with ``message="heads"`` (49 heads, one per tap of a
7×7 kernel; smaller kernels fill the first taps — the prefix layout, quirk Q1),
``pad_taps="masked"`` (Q2: padded taps are removed by the mask after the product),
``layer_activation_embedding`` (each layer's activation added to ``γ(b)``; the dense layer's is
``none``, Q4), ``shared_layers`` (one set of layer parameters for every depth, Q6) and
``residual_messages`` (a residual edge adds ``ResLin`` of its source's final state after the
target's update, Q3). Networks of one batch share node counts and may differ in everything
else (:class:`~dng.packed.PackedNets`).
"""

from __future__ import annotations

import re
from typing import Sequence

import torch

from dng.arch import ACTIVATIONS, Arch, Layer
from dng.compat.keys import load_strict, rename
from dng.compat.official_cnn import tap_encoder_config
from dng.errors import ShapeError
from dng.io import check_tensor
from dng.models.encoder import EncoderConfig
from dng.models.heads import EncoderClassifier
from dng.packed import PackedNets
from dng.weights import NetWeights

# the reference's activation ids (FORMAT.md §1) and our names for them
PARK_ACTIVATIONS = {"relu": "relu", "gelu": "gelu", "tanh": "tanh", "sigmoid": "sigmoid",
                    "leaky_relu": "leaky_relu", "none": "linear"}


def park_encoder_config(config: dict) -> EncoderConfig:
    return tap_encoder_config(config, 64, 16, int(config.get("max_h", 49)), pad_taps="masked",
                              layer_activation_embedding=True, shared_layers=True,
                              residual_messages=True)


_NAMES = {"norm": "norm", "src_node_lin": "src_lin", "edge_lin": "edge_lin",
          "dst_node_lin": "dst_lin"}
_PATTERNS = [
    (re.compile(r"^encoder\.input_init_node$"), lambda m: "encoder.input_init_node"),
    (re.compile(r"^encoder\.fourier(?:_layer)?\.b$"), lambda m: "encoder.fourier.b"),
    (re.compile(r"^encoder\.rnn_0\.(\w+)\.(weight|bias)$"),
     lambda m: f"encoder.cells.0.{m[1]}.{m[2]}"),
    (re.compile(r"^encoder\.(norm|src_node_lin|edge_lin|dst_node_lin)_0\.(weight|bias)$"),
     lambda m: f"encoder.layers.0.0.{_NAMES[m[1]]}.{m[2]}"),
    (re.compile(r"^encoder\.mapping_0\.([02])\.(weight|bias)$"),
     lambda m: f"encoder.layers.0.0.{'map1' if m[1] == '0' else 'map2'}.{m[2]}"),
    (re.compile(r"^encoder\.res_lin\.(weight|bias)$"), lambda m: f"encoder.res_lin.{m[1]}"),
    (re.compile(r"^head\.(\d+)\.(weight|bias)$"), lambda m: f"head.{m[1]}.{m[2]}"),
]


def park_predictor_from_official(state_dict: dict, config: dict) -> EncoderClassifier:
    """The reference predictor (``predict_park.py``) as an :class:`EncoderClassifier` with one
    output (a logit), for networks of any depth with ``n_input_nodes`` inputs and
    ``n_classes`` outputs."""
    n_in, n_out = int(config.get("n_input_nodes", 3)), int(config.get("n_classes", 10))
    template = Arch((Layer(n_in, n_out),), "any depth")  # shared layers: only n_0, n_L count
    model = EncoderClassifier(template, 1, park_encoder_config(config),
                              hidden=int(config.get("head_dim", 256)),
                              dropout=float(config.get("head_drop", 0.0)))
    ids = config.get("act_name_to_id", {n: i for i, n in enumerate(PARK_ACTIVATIONS)})
    state = {}
    for key, value in state_dict.items():
        if key == "encoder.act_emb.weight":
            emb = torch.zeros(len(ACTIVATIONS), value.shape[1], dtype=value.dtype)
            for name, row in ids.items():
                if name in PARK_ACTIVATIONS and int(row) < value.shape[0]:
                    emb[ACTIVATIONS.index(PARK_ACTIVATIONS[name])] = value[int(row)]
            state["encoder.net_act_emb"] = emb
            continue
        state[rename(key, _PATTERNS, "Wild Park predictor")] = value
    load_strict(model, state, "Wild Park predictor")
    return model.eval()


def park_net(state_dict: dict, net_config: dict, unknown_activation: str = "error"
             ) -> NetWeights:
    """One CNN Wild Park network (its state_dict and generator config) → :class:`NetWeights`
    with ``B = 1``. Weights pair with the first unused bias of the same stem, in key order;
    kernels and channels come from the tensors, ``activation`` and ``residual`` from the
    config. ``unknown_activation="none"``: an unknown name is read as ``none`` (the
    reference's behaviour, Q4) instead of an error."""
    keys = list(state_dict)
    used, pairs = set(), []
    for k in keys:
        if k.endswith("weight"):
            stem = k[:-len("weight")]
            b = next((kb for kb in keys if kb == stem + "bias" and kb not in used), None)
            used.add(b)
            pairs.append((k, b))
    if len(pairs) < 2:
        raise ShapeError(f"a Wild Park network needs conv layers and fc, got keys {keys[:6]}")
    acts = list(net_config.get("activation", []))
    res = [int(r) for r in net_config.get("residual", [])]
    n_conv = len(pairs) - 1
    if len(acts) < n_conv or len(res) < n_conv:
        raise ShapeError(f"config lists {len(acts)} activations / {len(res)} residuals for "
                         f"{n_conv} conv layers")
    pad = net_config.get("padding")
    stride = net_config.get("stride")
    layers, ws, bs = [], [], []
    for i, (wk, bk) in enumerate(pairs):
        w = state_dict[wk]
        b = state_dict[bk] if bk is not None else None
        for key, t in ((wk, w), (bk, b)):
            if key is not None:
                check_tensor(t, key, ShapeError)
        if i < n_conv:
            if w.dim() != 4:
                raise ShapeError(f"{wk}: a conv weight must be (out, in, k_h, k_w), got "
                                 f"{tuple(w.shape)}")
            a = str(acts[i])
            if a not in PARK_ACTIVATIONS:
                if unknown_activation != "none":
                    raise ShapeError(f"layer {i}: unknown activation {a!r} (known: "
                                     f"{', '.join(PARK_ACTIVATIONS)})")
                a = "none"
            k = tuple(int(s) for s in w.shape[2:])
            layers.append(Layer(int(w.shape[1]), int(w.shape[0]), "conv", k,
                                int(stride[i]) if stride else 1,
                                int(pad[i]) if pad else k[0] // 2, PARK_ACTIVATIONS[a],
                                b is not None, residual=None if res[i] < 0 else res[i]))
        else:
            if w.dim() != 2:
                raise ShapeError(f"{wk}: the last layer must be dense (out, in), got "
                                 f"{tuple(w.shape)}")
            layers.append(Layer(int(w.shape[1]), int(w.shape[0]), bias=b is not None,
                                pool=True))
        ws.append(w.unsqueeze(0))
        bs.append(None if b is None else b.unsqueeze(0))
    return NetWeights(ws, bs, Arch(tuple(layers), "park"))


def buckets(nets: Sequence[NetWeights], batch_size: int = 128) -> list[list[int]]:
    """The reference's evaluation batches: networks grouped by node counts (buckets in order of
    first appearance, members in order), at most ``batch_size`` per batch."""
    groups: dict[tuple, list[int]] = {}
    for i, n in enumerate(nets):
        groups.setdefault(n.layer_sizes, []).append(i)
    return [g[s:s + batch_size] for g in groups.values() for s in range(0, len(g), batch_size)]


@torch.no_grad()
def predict_park(state_dict: dict, config: dict, nets: Sequence[tuple[dict, dict]],
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The official checkpoint's predictions (after the sigmoid when ``config['sigmoid']``)
    for ``nets`` — ``(state_dict, net_config)`` pairs as in the fixture's ``park_nets/`` — one
    per net, in the given order: ``(M,)``."""
    model = park_predictor_from_official(state_dict, config).to(dtype)
    ws = [park_net(sd, cfg, unknown_activation="none").to(dtype) for sd, cfg in nets]
    out = torch.empty(len(ws), dtype=dtype)
    for idx in buckets(ws, int(config.get("eval_batch_size", 128))):
        out[idx] = model(PackedNets.pack([ws[i] for i in idx])).squeeze(-1)
    return torch.sigmoid(out) if config.get("sigmoid", True) else out
