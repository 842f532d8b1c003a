"""The reference implementation's generalization predictor on Small CNN Zoo networks
(``official_dng_cnn/FORMAT.md``): its checkpoints, its input tensors, its predictions.

The reference model is our :class:`~dng.models.heads.EncoderClassifier` with one output on a
:class:`~dng.models.encoder.DNGEncoder` built with ``message="heads"`` (kernel taps as heads),
``pad_taps="zeros"`` (unmasked padded heads, quirk Q3) and ``network_activation_embedding``
(one activation vector per network added to every bias node, Q4); the sigmoid belongs to the
regression task (:func:`predict_smallcnnzoo` applies it).
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from dng.arch import ACTIVATIONS, Arch
from dng.compat.keys import load_strict, rename
from dng.errors import ShapeError
from dng.models.encoder import EncoderConfig
from dng.models.heads import EncoderClassifier
from dng.weights import NetWeights
from dng.zoo.smallcnnzoo import read_smallcnnzoo

# rows of the reference's activation embedding, by activation (FORMAT.md §5: 0 relu, 1 tanh)
OFFICIAL_ACTIVATIONS = ("relu", "tanh")


def tap_encoder_config(config: dict, dim: int, att_dim: int, heads: int, **fixed
                       ) -> EncoderConfig:
    """A reference taps-as-heads encoder's config (one pass; its defaults ``dim`` for
    ``fourier_dim``/``emb_dim``, ``att_dim``, ``heads``), with the model's ``fixed`` flags."""
    if int(config.get("rnn_layer", 1)) != 1:
        raise ShapeError("the reference taps-as-heads encoders run one pass only "
                         "(rnn_layer >= 2 crashes there: quirk Q6 of official_dng_cnn)")
    return EncoderConfig(fourier_dim=int(config.get("fourier_dim", dim)),
                         fourier_scale=float(config.get("fourier_scale", 1)),
                         emb_dim=int(config.get("emb_dim", dim)),
                         cell=str(config.get("rnn_mode", "gru")), passes=1,
                         dropout=float(config.get("drop", 0.0)), message="heads",
                         att_dim=int(config.get("att_dim", att_dim)), heads=heads, **fixed)


def cnn_encoder_config(config: dict) -> EncoderConfig:
    return tap_encoder_config(config, 128, 32, int(config.get("n_heads", 9)), pad_taps="zeros",
                              network_activation_embedding=True)


_PATTERNS = [
    (re.compile(r"^encoder\.input_init_node$"), lambda m: "encoder.input_init_node"),
    (re.compile(r"^encoder\.fourier_layer\.b$"), lambda m: "encoder.fourier.b"),
    (re.compile(r"^encoder\.rnn_(\d+)\.(\w+)\.(weight|bias)$"),
     lambda m: f"encoder.cells.{m[1]}.{m[2]}.{m[3]}"),
    (re.compile(r"^encoder\.(norm|src_node_lin|edge_lin|dst_node_lin)_(\d+)_(\d+)\.(weight|bias)$"),
     lambda m: f"encoder.layers.{m[2]}.{m[3]}."
               f"{ {'norm': 'norm', 'src_node_lin': 'src_lin', 'edge_lin': 'edge_lin', 'dst_node_lin': 'dst_lin'}[m[1]] }.{m[4]}"),
    (re.compile(r"^encoder\.mapping_(\d+)_(\d+)\.([02])\.(weight|bias)$"),
     lambda m: f"encoder.layers.{m[1]}.{m[2]}.{'map1' if m[3] == '0' else 'map2'}.{m[4]}"),
    (re.compile(r"^head\.(\d+)\.(weight|bias)$"), lambda m: f"head.{m[1]}.{m[2]}"),
]


def cnn_predictor_from_official(state_dict: dict, config: dict,
                                arch: Arch | None = None) -> EncoderClassifier:
    """The reference predictor (``predict_cnn.py``) as an :class:`EncoderClassifier` with one
    output (a logit). ``arch`` defaults to the Small CNN Zoo network of ``config['act_num']``."""
    act = list(config["act_num"])
    if arch is None:
        arch = Arch.cnn(act[0], act[1:-1], dense=(act[-1],))
    model = EncoderClassifier(arch, 1, cnn_encoder_config(config),
                              hidden=int(config.get("head_dim", 1024)),
                              dropout=float(config.get("head_drop", 0.0)))
    state = {}
    for key, value in state_dict.items():
        if key in ("encoder.paddings",):
            continue  # a zero buffer: the padded heads are built from the layer's bias
        if key == "encoder.act_emb":
            emb = torch.zeros(len(ACTIVATIONS), value.shape[1], dtype=value.dtype)
            for row, name in enumerate(OFFICIAL_ACTIVATIONS[:value.shape[0]]):
                emb[ACTIVATIONS.index(name)] = value[row]
            state["encoder.net_act_emb"] = emb
            continue
        state[rename(key, _PATTERNS, "predictor")] = value
    load_strict(model, state, "CNN predictor")
    return model.eval()


def cnn_inputs_to_weights(edges: list[torch.Tensor], biases: list[torch.Tensor],
                          act: torch.Tensor, arch: Arch) -> NetWeights:
    """The reference's encoder inputs (``inputs_edges`` ``(B, T, c_in·c_out)`` per conv layer,
    ``(B, in·out)`` per dense layer, source-major; ``inputs_act`` 0 relu / 1 tanh) →
    :class:`NetWeights`."""
    ws = []
    for e, layer in zip(edges, arch.layers):
        if layer.kind == "conv":
            t = e.reshape(-1, layer.taps, layer.n_in, layer.n_out).permute(0, 3, 2, 1)
            ws.append(t.reshape(-1, layer.n_out, layer.n_in, *layer.kernel).contiguous())
        else:
            ws.append(e.reshape(-1, layer.n_in, layer.n_out).transpose(1, 2).contiguous())
    ids = torch.tensor([ACTIVATIONS.index(OFFICIAL_ACTIVATIONS[int(a)]) for a in act])
    acts = ids[:, None].repeat(1, len(arch.layers))
    acts[:, -1] = ACTIVATIONS.index("linear")
    return NetWeights(ws, [b.contiguous() for b in biases], arch, acts)


@torch.no_grad()
def predict_smallcnnzoo(state_dict: dict, config: dict, layout_dir: str | Path,
                        dtype: torch.dtype = torch.float32, step: int | None = 86
                        ) -> torch.Tensor:
    """The official checkpoint's predictions (after the sigmoid when ``config['sigmoid']``)
    for every row of a Small CNN Zoo folder at ``step``, in file order, read by our importer:
    ``(M,)``."""
    zoo = read_smallcnnzoo(layout_dir, step=step)
    model = cnn_predictor_from_official(state_dict, config, zoo.arch).to(dtype)
    logit = model(zoo.weights.to(dtype)).squeeze(-1)
    return torch.sigmoid(logit) if config.get("sigmoid", True) else logit
