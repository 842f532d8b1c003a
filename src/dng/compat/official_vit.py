"""The reference implementation's ViT generalization predictor (``official_dng_vit/FORMAT.md``):
its checkpoints and its predictions, on :class:`~dng.models.vit_encoder.ViTEncoder`.

The reference's dead parameters are dropped on loading: ``node_lin_i_5`` and ``emb_norm_i_0``
are never used, ``emb_norm_i_5``'s output is discarded (quirk Q1; kept with ``norm_fc2=True``).
"""

from __future__ import annotations

import re

import torch

from dng.compat.keys import load_strict, rename
from dng.models.heads import EncoderClassifier
from dng.models.vit_encoder import ViTEncoder, ViTEncoderConfig
from dng.vit import ViTSpec, ViTWeights

_DEAD = "-"
_LINS = {"to_emb_node_lin": "patch_src", "to_emb_edge_lin": "patch_edge",
         "to_emb_input_lin": "patch_in", "to_emb_emb_norm": "patch_norm",
         "last_emb_norm": "last_norm", "head_node_lin": "head_src", "head_edge_lin": "head_edge",
         "head_input_lin": "head_in", "head_emb_norm": "head_norm"}
_AFF = {"std": "scale", "mean": "shift"}


def _patterns(norm_fc2: bool):
    def emb_norm(m):
        j = int(m[2])
        if j == 0 or (j == 5 and not norm_fc2):
            return _DEAD
        return f"encoder.blocks.{m[1]}.norms.{j - 1}.{m[3]}"

    return [
        (re.compile(r"^encoder\.input_init_node$"), lambda m: "encoder.input_init_node"),
        (re.compile(r"^encoder\.fourier(?:_layer)?\.b$"), lambda m: "encoder.fourier.b"),
        (re.compile(r"^encoder\.qkv_comp_dict\.qkv_comp_edges_(\d+)$"),
         lambda m: f"encoder.blocks.{m[1]}.attn"),
        (re.compile(r"^encoder\.norm_dict\.(init|last)_norm_(std|mean)$"),
         lambda m: f"encoder.{m[1]}_aff.{_AFF[m[2]]}"),
        (re.compile(r"^encoder\.norm_dict\.(att|fc)_norm_(std|mean)_(\d+)$"),
         lambda m: f"encoder.blocks.{m[3]}.{m[1]}_aff.{_AFF[m[2]]}"),
        (re.compile(r"^encoder\.(" + "|".join(_LINS) + r")\.(weight|bias)$"),
         lambda m: f"encoder.{_LINS[m[1]]}.{m[2]}"),
        (re.compile(r"^encoder\.rnn\.(\w+)\.(weight|bias)$"), lambda m: f"encoder.cell.{m[1]}.{m[2]}"),
        (re.compile(r"^encoder\.node_lin_(\d+)_(\d+)\.(weight|bias)$"),
         lambda m: _DEAD if m[2] == "5" else f"encoder.blocks.{m[1]}.src.{m[2]}.{m[3]}"),
        (re.compile(r"^encoder\.emb_norm_(\d+)_(\d+)\.(weight|bias)$"), emb_norm),
        (re.compile(r"^encoder\.(qkv|out|fc1|fc2)_edge_lin_(\d+)\.(weight|bias)$"),
         lambda m: f"encoder.blocks.{m[2]}.edge.{m[1]}.{m[3]}"),
        (re.compile(r"^encoder\.(fc1|fc2)_input_lin_(\d+)\.(weight|bias)$"),
         lambda m: f"encoder.blocks.{m[2]}.{m[1]}_in.{m[3]}"),
        (re.compile(r"^head\.(\d+)\.(weight|bias)$"), lambda m: f"head.{m[1]}.{m[2]}"),
    ]


def vit_predictor_from_official(state_dict: dict, config: dict, spec: ViTSpec,
                                norm_fc2: bool = False) -> EncoderClassifier:
    """The reference predictor (``predict_vit.py``) as an :class:`EncoderClassifier` with one
    output (a logit) on a :class:`ViTEncoder`."""
    cfg = ViTEncoderConfig(fourier_dim=int(config.get("fourier_dim", 32)),
                           fourier_scale=float(config.get("fourier_scale", 1)),
                           emb_dim=int(config.get("emb_dim", 32)),
                           cell=str(config.get("rnn_mode", "gru")), norm_fc2=norm_fc2)
    model = EncoderClassifier(ViTEncoder(spec, cfg), 1, hidden=int(config.get("head_dim", 256)),
                              dropout=float(config.get("head_drop", 0.0)))
    pats, state = _patterns(norm_fc2), {}
    for key, value in state_dict.items():
        new = rename(key, pats, "ViT predictor")
        if new != _DEAD:
            state[new] = value.reshape(-1) if "_aff." in new else value
    load_strict(model, state, "ViT predictor")
    return model.eval()


@torch.no_grad()
def predict_vit(state_dict: dict, config: dict, vit_state_dicts: list[dict],
                vit_hyperparameters: dict, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The official checkpoint's predictions (after the sigmoid when ``config['sigmoid']``) for
    SimpleViT state_dicts of the shape ``vit_hyperparameters`` gives, in order: ``(M,)``."""
    spec = ViTSpec.from_dict(dict(vit_hyperparameters))
    model = vit_predictor_from_official(state_dict, config, spec).to(dtype)
    w = ViTWeights.from_state_dicts(vit_state_dicts, spec).to(dtype)
    out = torch.cat([model(w[s:s + 128]).squeeze(-1) for s in range(0, len(w), 128)])
    return torch.sigmoid(out) if config.get("sigmoid", True) else out
