"""Interop with the reference implementation's checkpoints (key names and configs).

The ``config`` arguments are the reference constructor arguments (as stored in the fixtures'
``config`` dicts: ``act_num``, ``fourier_dim``, ``fourier_scale``, ``rnn_mode``, ``rnn_layer``,
``emb_dim``, ``drop``, ``latent_dim``, ``latent_size``, ``img_aug_size``, ``ds``, ...).
Dataset names in those configs are read here, at the border, and turned into shapes; the
models themselves never see them.
"""

from __future__ import annotations

import re

import torch

from dng.compat.keys import load_strict, rename
from dng.errors import ShapeError
from dng.models.encoder import DNGEncoder, EncoderConfig
from dng.models.heads import EncoderClassifier, LatentClassifier
from dng.models.inr2jls import INR2JLS, INR2JLSConfig
from dng.weights import MLPWeights
from dng.zoo.importer import weights_from_state_dicts


def mlp_weights_from_state_dicts(state_dicts: list[dict]) -> MLPWeights:
    """Reference SIREN state_dicts (ordered weight/bias pairs) → :class:`MLPWeights`."""
    return weights_from_state_dicts(state_dicts)


def _encoder_config(config: dict) -> EncoderConfig:
    return EncoderConfig(
        fourier_dim=int(config.get("fourier_dim", 128)),
        fourier_scale=float(config.get("fourier_scale", 3)),
        emb_dim=int(config.get("emb_dim", 512)),
        cell=str(config.get("rnn_mode", "gru")),
        passes=int(config.get("rnn_layer", 1)),
        dropout=float(config.get("drop", 0.0)),
        positional_embedding=bool(config.get("positional_embedding", config.get("pe")) or False),
        activation_embedding=bool(config.get("activation_embedding", config.get("ae")) or False),
    )


_ENC_PATTERNS = [
    (re.compile(r"^input_init_node$"), lambda m: "input_init_node"),
    (re.compile(r"^fourier_layer\.b$"), lambda m: "fourier.b"),
    (re.compile(r"^rnn_(\d+)\.(input_map|hidden_map|input_lin|hidden_lin)\.(weight|bias)$"),
     lambda m: f"cells.{m[1]}.{m[2]}.{m[3]}"),
    (re.compile(r"^(norm|node_lin|edge_lin|input_lin)_(\d+)_(\d+)\.(weight|bias)$"),
     lambda m: f"layers.{m[2]}.{m[3]}.{m[1] if m[1] != 'norm' else 'norm'}.{m[4]}"),
]


def encoder_state_from_official(state_dict: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in state_dict.items():
        if not key.startswith(prefix):
            continue
        out[rename(key[len(prefix):], _ENC_PATTERNS, "encoder")] = value
    return out


def _load(module: torch.nn.Module, state: dict, what: str) -> None:
    load_strict(module, state, what)


def encoder_from_official(state_dict: dict, config: dict) -> DNGEncoder:
    enc = DNGEncoder(tuple(config["act_num"]), _encoder_config(config))
    _load(enc, encoder_state_from_official(state_dict), "encoder")
    return enc.eval()


def _image_shape(config: dict, channels: int) -> tuple[int, int, int]:
    """Reference configs name a dataset; its images are 32×32 for CIFAR, else 28×28."""
    side = 32 if "cifar" in str(config.get("ds", "")) else 28
    return channels, side, side


def inr2jls_from_official(state_dict: dict, config: dict) -> INR2JLS:
    act = tuple(config["act_num"])
    cfg = INR2JLSConfig(encoder=_encoder_config(config), latent_dim=int(config["latent_dim"]),
                        views=int(config.get("img_aug_size", 6)),
                        generator_hidden=int(state_dict["latent_gen.src_fusion.0.weight"].shape[0]))
    C, H, W = _image_shape(config, act[-1])
    if (H // 4) ** 2 != int(config.get("latent_size", (H // 4) ** 2)):
        raise ShapeError(f"latent_size {config.get('latent_size')} does not fit {H}×{W} images "
                         f"(needs {(H // 4) ** 2})")
    model = INR2JLS(act, (C, H, W), cfg)
    state = encoder_state_from_official(state_dict, "encoder.")
    state = {f"encoder.{k}": v for k, v in state.items()}
    for k, v in state_dict.items():
        if k.startswith("latent_gen."):
            state[k.replace("latent_gen.latent_init", "generator.tokens")
                   .replace("latent_gen.src_fusion.", "generator.fusion.")] = v
        elif k.startswith("decoder.conv."):
            state[k.replace("decoder.conv.", "decoder.net.")] = v
    _load(model, state, "INR2JLS")
    return model.eval()


def latent_classifier_from_official(state_dict: dict, config: dict) -> LatentClassifier:
    in_dim = int(config.get("in_dim", state_dict["conv.0.weight"].shape[1]))
    grid = 8 if "cifar" in str(config.get("ds", "")) else 7
    classes = int(config.get("cls_num", state_dict[max(k for k in state_dict if k.startswith("head."))
                                                    ].shape[0]))
    head = LatentClassifier(in_dim, grid, classes, views=int(config.get("img_aug_size", 6)),
                            dropout=float(config.get("drop", 0.2)))
    _load(head, dict(state_dict), "latent classifier")
    return head.eval()


def dng_classifier_from_official(state_dict: dict, config: dict) -> EncoderClassifier:
    act = tuple(config["act_num"])
    classes = int(state_dict["classifier.6.weight"].shape[0])
    model = EncoderClassifier(act, classes, _encoder_config(config),
                              hidden=int(config.get("cls_dim", 128)),
                              dropout=float(config.get("cls_drop", 0.5)))
    state = encoder_state_from_official(state_dict, "encoder.")
    state = {f"encoder.{k}": v for k, v in state.items()}
    state.update({k.replace("classifier.", "head."): v for k, v in state_dict.items()
                  if k.startswith("classifier.")})
    _load(model, state, "encoder classifier")
    return model.eval()


def official_inputs_to_weights(e: torch.Tensor, b: torch.Tensor, act: list[int],
                               activations: list[str] | None = None) -> MLPWeights:
    """The reference encoder inputs ``(e (B, E), b (B, N))`` → :class:`MLPWeights`.

    ``e`` holds each block ``W_lᵀ`` flattened row-major (source-major), blocks concatenated;
    ``b`` the biases of layers 1..L concatenated.
    """
    ws, bs, eo, bo = [], [], 0, 0
    for l in range(len(act) - 1):
        n_in, n_out = act[l], act[l + 1]
        ws.append(e[:, eo:eo + n_in * n_out].reshape(-1, n_in, n_out).transpose(1, 2).contiguous())
        bs.append(b[:, bo:bo + n_out].contiguous())
        eo, bo = eo + n_in * n_out, bo + n_out
    if eo != e.shape[1] or bo != b.shape[1]:
        raise ShapeError(f"inputs of width {e.shape[1]}/{b.shape[1]} do not fit act {act}")
    return MLPWeights.from_layers(ws, bs, activations)


def weights_to_official_inputs(weights: MLPWeights) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`official_inputs_to_weights`."""
    e = torch.cat([w.transpose(1, 2).flatten(1) for w in weights.weights], dim=1)
    b = torch.cat(list(weights.biases), dim=1)
    return e, b


from dng.compat.official_cnn import (cnn_inputs_to_weights, cnn_predictor_from_official,  # noqa: E402,F401
                                     predict_smallcnnzoo)
from dng.compat.official_park import (park_net, park_predictor_from_official,  # noqa: E402,F401
                                      predict_park)
from dng.compat.official_vit import predict_vit, vit_predictor_from_official  # noqa: E402,F401
