"""Importing the CNN Wild Park release (Kofinas et al. 2024) as a mixed-architecture format-3
zoo.

Layout: ``ROOT/SPLITS.json`` — ``{"train" | "val" | "test": {"path": [...], "score": [...],
"step": [...] (optional)}}`` with paths relative to ``ROOT`` — and one checkpoint per path
(``…/checkpoint_*/checkpoint.pt``: ``{"model": state_dict, "config": the generator's config}``,
the config a pickled OmegaConf object, read without unpickling code:
:mod:`dng.compat.omegaconf_safe`). Each network becomes one row (its architecture from the
state_dict's shapes and the config's ``residual`` and ``activation``), target
``test_accuracy`` = its ``score`` (and ``step``).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from dng.compat.official_park import park_net
from dng.compat.omegaconf_safe import load_checkpoint, to_plain
from dng.errors import ShapeError, ZooError
from dng.mixed import MixedNets

MAX_SPLITS_BYTES = 64 << 20
SPLITS = ("train", "val", "test")


def _inside(root: Path, rel: str, follow_symlinks: bool) -> Path:
    p = root / rel
    real = p.resolve()
    if not follow_symlinks and not real.is_relative_to(root.resolve()):
        raise ZooError(f"{p}: leaves the layout {root} (a symlink or '..'); pass "
                       "--follow-symlinks to allow")
    if not real.is_file():
        raise ZooError(f"{p}: no such checkpoint (listed in the splits file)")
    return p


def read_splits_layout(root: str | Path, splits: str, follow_symlinks: bool, load_one):
    """The networks a splits file lists, in split order: ``(nets, split (M,) int8, columns)``;
    ``load_one(path) → network`` reads one file (errors name it)."""
    root = Path(root)
    sp = root / splits
    if not sp.is_file():
        raise ZooError(f"{sp}: no splits file (pass --splits NAME inside {root})")
    if sp.stat().st_size > MAX_SPLITS_BYTES:
        raise ZooError(f"{sp}: {sp.stat().st_size} bytes — larger than any splits file should be")
    try:
        table = json.loads(sp.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ZooError(f"{sp}: not a JSON splits file ({type(e).__name__})") from None
    if not isinstance(table, dict) or not any(s in table for s in SPLITS):
        raise ZooError(f"{sp}: expected {{'train': {{'path': [...], 'score': [...]}}, …}}")
    nets, split, score, step = [], [], [], []
    for s, name in enumerate(SPLITS):
        part = table.get(name)
        if part is None:
            continue
        paths, scores = (part.get("path"), part.get("score")) if isinstance(part, dict) \
            else (None, None)
        steps = part.get("step") if isinstance(part, dict) else None
        if not isinstance(paths, list) or not isinstance(scores, list) or \
                len(paths) != len(scores) or (steps is not None and len(steps) != len(paths)):
            raise ZooError(f"{sp}: split {name!r} needs equally long 'path' and 'score' lists")
        for i, (rel, sc) in enumerate(zip(paths, scores)):
            if not isinstance(rel, str) or not isinstance(sc, (int, float)) or \
                    not 0 <= float(sc) <= 1:
                raise ZooError(f"{sp}: {name}[{i}]: path must be text and score in [0, 1]")
            nets.append(load_one(_inside(root, rel, follow_symlinks)))
            split.append(s)
            score.append(float(sc))
            step.append(float(steps[i]) if steps is not None else float("nan"))
    if not nets:
        raise ZooError(f"{sp}: lists no networks")
    cols = {"test_accuracy": torch.tensor(score, dtype=torch.float64),
            "step": torch.tensor(step, dtype=torch.float64)}
    return nets, torch.tensor(split, dtype=torch.int8), cols


def _park_checkpoint(f: Path):
    ck = load_checkpoint(f)
    if not isinstance(ck.get("model"), dict) or "config" not in ck:
        raise ZooError(f"{f}: expected keys 'model' (a state_dict) and 'config'")
    cfg = to_plain(ck["config"])
    if not isinstance(cfg, dict):
        raise ZooError(f"{f}: 'config' is not a mapping")
    try:
        return park_net(ck["model"], cfg)
    except ShapeError as e:
        raise ZooError(f"{f}: {e}") from None


def read_park(root: str | Path, splits: str = "splits.json", follow_symlinks: bool = False):
    """``(weights: MixedNets, split (M,) int8, columns)`` of a Wild Park layout."""
    nets, split, cols = read_splits_layout(root, splits, follow_symlinks, _park_checkpoint)
    return MixedNets.from_nets(nets), split, cols


def import_park(root: str | Path, out: str | Path, splits: str = "splits.json",
                follow_symlinks: bool = False):
    """Import a Wild Park layout as a format-3 zoo at ``out`` (all or nothing)."""
    from dng.zoo.netzoo import write_netzoo
    from dng.zoo.store import Zoo

    weights, split, cols = read_park(root, splits, follow_symlinks)
    dataset = {"name": "cifar10", "classes": [], "image_shape": [weights.arch.n_in, 0, 0],
               "checksum": "", "source": str(Path(root).resolve())}
    recipe = {"kind": "park-import", "splits": splits, "rows": len(weights)}
    write_netzoo(out, weights, split, cols, dataset, recipe)
    return Zoo(out)
