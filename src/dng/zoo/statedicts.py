"""Reading foreign state_dict files: ``torch.load(..., weights_only=True)`` or safetensors,
and stacking SIREN state_dicts into :class:`~dng.weights.MLPWeights` — every tensor checked
(:func:`dng.io.check_tensor`) before anything copies it."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from dng.errors import ZooError
from dng.io import check_tensor
from dng.weights import MLPWeights


def safe_load(path: Path):
    """``torch.load`` with ``weights_only=True``; one clear error for foreign/damaged files."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file
        try:
            return load_file(str(path))
        except Exception as e:  # noqa: BLE001
            raise ZooError(f"{path}: unreadable safetensors file ({e})") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise ZooError(f"{path}: refused — the file holds objects other than tensors and plain "
                       f"containers ({str(e).splitlines()[0][:200]})") from None
    except Exception as e:  # noqa: BLE001
        raise ZooError(f"{path}: not a readable torch file ({e})") from None


def weights_from_state_dicts(state_dicts: list[dict], activations: list[str] | None = None
                             ) -> MLPWeights:
    """Stack SIREN state_dicts (keys in order, as (weight, bias) pairs) into :class:`MLPWeights`.

    The official INR zoo's ``net.0.linear.weight, net.0.linear.bias, …, net.2.weight,
    net.2.bias`` is one such naming; any naming whose tensors alternate 2-D weight, 1-D bias
    works.
    """
    if not state_dicts:
        raise ZooError("no state_dicts to import")
    layers = []
    for n, sd in enumerate(state_dicts):
        if not isinstance(sd, dict):
            raise ZooError(f"state_dict {n} is a {type(sd).__name__}, not a dict")
        items = [(k, v) for k, v in sd.items() if isinstance(v, torch.Tensor)]
        if len(items) % 2 or not items:
            raise ZooError(f"state_dict {n}: expected (weight, bias) pairs, got keys "
                           f"{list(sd)[:8]}")
        for k, v in items:
            check_tensor(v, f"state_dict {n}: {k}", ZooError)
        pairs = [(items[i], items[i + 1]) for i in range(0, len(items), 2)]
        for (kw, w), (kb, b) in pairs:
            if w.dim() != 2 or b.dim() != 1 or b.shape[0] != w.shape[0]:
                raise ZooError(f"state_dict {n}: {kw} {tuple(w.shape)} / {kb} {tuple(b.shape)} "
                               "is not a (weight, bias) pair")
        layers.append(pairs)
    L = len(layers[0])
    shapes0 = [tuple(p[0][1].shape) for p in layers[0]]
    for n, pairs in enumerate(layers):
        if [tuple(p[0][1].shape) for p in pairs] != shapes0:
            raise ZooError(f"state_dict {n} has layer shapes {[tuple(p[0][1].shape) for p in pairs]}"
                           f", state_dict 0 has {shapes0}")
    ws = tuple(torch.stack([pairs[l][0][1].float() for pairs in layers]) for l in range(L))
    bs = tuple(torch.stack([pairs[l][1][1].float() for pairs in layers]) for l in range(L))
    return MLPWeights.from_layers(ws, bs, activations)
