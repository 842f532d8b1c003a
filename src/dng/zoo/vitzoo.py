"""Importing a zoo of SimpleViTs (``dng zoo import --format vit``): the Wild Park release's
layout (:mod:`dng.zoo.parkzoo`) with ViT checkpoints —

``ROOT/splits.json`` — ``{"train" | "val" | "test": {"path": [...], "score": [...],
"step": [...] (optional)}}``, paths relative to ``ROOT``; each path a ``torch.save`` file of a
SimpleViT state_dict (or of ``{"model": state_dict}``), read with ``weights_only=True``; and
``ROOT/vit.json`` — the ViT's hyper-parameters under SimpleViT's constructor names
(``image_size, patch_size, num_classes, dim, depth, heads, mlp_dim, channels, dim_head``: the
state_dict alone cannot tell heads from head width, nor the image size). Every network must
be of that shape (one clear error naming the file otherwise). The paper's own ViT release names
its files in a way the fixtures do not record; a folder in this layout is one ``ls`` and a
few lines of JSON away from any of them.
"""

from __future__ import annotations

import json
from pathlib import Path

from dng.errors import ShapeError, ZooError
from dng.vit import ViTSpec, ViTWeights
from dng.zoo.parkzoo import read_splits_layout
from dng.zoo.statedicts import safe_load

MAX_VIT_FILE = 256 << 20  # bytes: a SimpleViT of the zoos' sizes is well under 1 MB


def read_vit_spec(path: Path) -> ViTSpec:
    from dng.io import read_json

    d = read_json(path, "ViT hyper-parameters", kind=dict, error=ZooError)
    try:
        return ViTSpec.from_dict({k: v for k, v in d.items() if k != "family"})
    except (TypeError, ShapeError, ValueError) as e:
        raise ZooError(f"{path}: not SimpleViT hyper-parameters ({e})") from None


def read_vits(root: str | Path, splits: str = "splits.json", hyper: str = "vit.json",
              follow_symlinks: bool = False):
    """``(weights: ViTWeights, split (M,) int8, columns)`` of a ViT layout."""
    root = Path(root)
    if not (root / hyper).is_file():
        raise ZooError(f"{root / hyper}: no ViT hyper-parameters (a JSON of SimpleViT's "
                       "constructor arguments; --vit-config NAME inside the folder)")
    spec = read_vit_spec(root / hyper)

    def one(f: Path) -> ViTWeights:
        if f.stat().st_size > MAX_VIT_FILE:
            raise ZooError(f"{f}: {f.stat().st_size} bytes — larger than a SimpleViT of "
                           f"{spec.describe()} can be")
        obj = safe_load(f)
        sd = obj.get("model", obj) if isinstance(obj, dict) else obj
        if not isinstance(sd, dict):
            raise ZooError(f"{f}: expected a SimpleViT state_dict, got {type(sd).__name__}")
        try:
            return ViTWeights.from_state_dicts([sd], spec)
        except ShapeError as e:
            raise ZooError(f"{f}: {e}") from None

    nets, split, cols = read_splits_layout(root, splits, follow_symlinks, one)
    return ViTWeights.cat(nets), split, cols


def import_vits(root: str | Path, out: str | Path, splits: str = "splits.json",
                hyper: str = "vit.json", follow_symlinks: bool = False):
    """Import a ViT layout as a format-3 zoo at ``out`` (all or nothing)."""
    from dng.zoo.netzoo import write_netzoo
    from dng.zoo.store import Zoo

    weights, split, cols = read_vits(root, splits, hyper, follow_symlinks)
    s = weights.spec
    dataset = {"name": "images", "classes": [], "checksum": "",
               "image_shape": [s.channels, s.image_size, s.image_size],
               "source": str(Path(root).resolve()),
               "hyperparameters": json.loads(json.dumps(s.to_dict()))}
    recipe = {"kind": "vit-import", "splits": splits, "rows": len(weights)}
    write_netzoo(out, weights, split, cols, dataset, recipe)
    return Zoo(out)
