"""Zoo format 3: networks of any :class:`~dng.arch.Arch` with named target columns.

Layout (beside format 1/2's SIREN zoos, read by the same :class:`~dng.zoo.store.Zoo`)::

    DIR/zoo.json     format "dng-zoo", version 3, arch (Arch.to_dict), targets (column names),
                     dataset (name, classes, image_shape of the networks' inputs), recipe, seed,
                     stats per split, shards
    DIR/shards/shard-00000.safetensors
        w0, b0, …     weights (M, n_out, n_in[, k_h, k_w]) and biases (M, n_out)
        act           int64 (M, L): per-network activation indices (dng.arch.ACTIVATIONS)
        split         int8 (M,): 0 train, 1 val, 2 test
        label         int64 (M,) (only where the networks have a class label)
        t.NAME        float64 (M,): one per target column (test_accuracy, step, …)

Zoos that render (INRs) are format-3 zoos with an INR block and an image table besides
(:mod:`dng.zoo.inrzoo`, which also reads formats 1 and 2). A zoo of several architectures
keeps one bucket per architecture (``arch`` of family ``mixed``, :class:`~dng.mixed.MixedNets`).

:class:`NetZooWriter` writes shards one by one (a resumable job lists each in the manifest as it
lands) or a whole zoo into a temporary folder renamed into place (an import: all or nothing).
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import torch

from dng.arch import Arch
from dng.data.datasets import SPLIT_NAMES
from dng.errors import ShapeError, ZooError
from dng.mixed import MixedArch, MixedNets
from dng.io import atomic_write_json
from dng.vit import ViTSpec, ViTWeights
from dng.weights import NetWeights
from dng.zoo.arrays import ZooArrays
from dng.zoo.shards import FORMAT, read_columns, write_shard

VERSION = 3


def manifest(arch: Arch, targets: list[str], dataset: dict, recipe: dict, seed: int,
             num: int, num_shards: int) -> dict:
    return {"format": FORMAT, "version": VERSION, "complete": False, "arch": arch.to_dict(),
            "targets": list(targets), "dataset": dataset, "recipe": recipe, "seed": seed,
            "copies": 0, "num_inrs": num, "num_shards": num_shards, "shards": [],
            "images": None, "stats": {}}


def trained_on(images) -> dict:
    """The manifest's ``dataset`` entry of a zoo of networks trained on ``images`` (its
    classes are the networks' outputs, not the zoo's labels: the zoo has none)."""
    return {"name": images.name, "checksum": images.checksum, "classes": [],
            "image_shape": list(images.image_shape), "network_classes": images.classes}


def shard_tensors(weights, split: torch.Tensor, columns: dict[str, torch.Tensor],
                  label: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    meta = {"split": split.to(torch.int8)}
    if isinstance(weights, NetWeights):
        meta["act"] = weights.act_ids().contiguous()
    if label is not None:
        meta["label"] = label.to(torch.int64)
    meta.update({f"t.{k}": v.to(torch.float64) for k, v in columns.items()})
    return meta


def target_stats(split: torch.Tensor, columns: dict[str, torch.Tensor]) -> dict:
    out = {}
    for s, name in enumerate(SPLIT_NAMES):
        m = split == s
        if m.any():
            out[name] = {"count": int(m.sum()),
                         **{f"{k}_mean": float(v[m].double().mean()) for k, v in columns.items()}}
    return out


def write_netzoo(out: str | Path, weights: NetWeights, split: torch.Tensor,
                 columns: dict[str, torch.Tensor], dataset: dict, recipe: dict, seed: int = 0,
                 shard_size: int = 4096, label: torch.Tensor | None = None) -> Path:
    """Write a whole format-3 zoo: into ``.OUT.tmpPID`` beside ``out``, renamed into place at
    the end — a failure leaves nothing behind. ``out`` must not exist yet."""
    out = Path(out)
    if out.exists():
        raise ZooError(f"{out} already exists; choose another --out")
    M = len(weights)
    if not (len(split) == M and all(len(v) == M for v in columns.values())):
        raise ZooError("zoo columns and weights disagree in length")
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        n_shards = max(1, math.ceil(M / shard_size))
        arch = weights.spec if isinstance(weights, ViTWeights) else weights.arch
        m = manifest(arch, list(columns), dataset, recipe, seed, M, n_shards)
        for i in range(n_shards):
            sl = slice(i * shard_size, (i + 1) * shard_size)
            meta = shard_tensors(weights[sl], split[sl], {k: v[sl] for k, v in columns.items()},
                                 None if label is None else label[sl])
            m["shards"].append(write_shard(tmp, i, weights[sl], meta))
        m["stats"] = target_stats(split, columns)
        m["complete"] = True
        atomic_write_json(tmp / "zoo.json", m)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_arrays(zoo) -> ZooArrays:
    """All networks of a format-3 zoo in memory (a :class:`~dng.zoo.store.Zoo` calls this)."""
    m = zoo.manifest
    arch = zoo.arch
    targets = list(m.get("targets", []))
    if isinstance(arch, MixedArch):
        return _read_mixed(zoo, arch, targets)
    if isinstance(arch, ViTSpec):
        wkeys = [f"p.{k}" for k, _ in arch.keys()]
    else:
        L = len(arch.layers)
        wkeys = [f"w{l}" for l in range(L)] + [f"b{l}" for l, layer in enumerate(arch.layers)
                                               if layer.bias] + ["act"]
    keys = wkeys + ["split"] + [f"t.{k}" for k in targets]
    cat = read_columns(zoo, keys, optional=("label",))
    try:
        if isinstance(arch, ViTSpec):
            weights = ViTWeights(arch, {k: cat[f"p.{k}"] for k, _ in arch.keys()})
        else:
            weights = NetWeights([cat[f"w{l}"] for l in range(L)],
                                 [cat.get(f"b{l}") for l in range(L)], arch, cat["act"])
    except Exception as e:  # noqa: BLE001 - one line naming the zoo
        raise ZooError(f"{zoo.path}: shards disagree with the architecture ({e})") from None
    return _arrays(zoo, weights, cat, targets)


def _read_mixed(zoo, arch: MixedArch, targets: list[str]) -> ZooArrays:
    """Shards of a mixed zoo: ``arch_id`` and, per architecture ``k`` present, ``a{k}.w{l}``,
    ``a{k}.b{l}``, ``a{k}.act`` (its rows in shard order)."""
    ids, cols, groups = [], {}, {}
    for s in zoo.manifest["shards"]:
        t = zoo._read(s)
        need = ["arch_id", "split"] + [f"t.{k}" for k in targets]
        missing = [k for k in need if k not in t]
        if missing:
            raise ZooError(f"{zoo.file(s['file'])}: shard lacks {', '.join(missing)}")
        a = t["arch_id"].long()
        if len(a) != s["count"] or (len(a) and (int(a.min()) < 0 or
                                                int(a.max()) >= len(arch.archs))):
            raise ZooError(f"{zoo.file(s['file'])}: arch_id rows or values do not fit the "
                           "manifest")
        ids.append(a)
        for k in need[1:] + (["label"] if "label" in t else []):
            cols.setdefault(k, []).append(t[k])
        for k in a.unique().tolist():
            A = arch.archs[k]
            try:
                w = NetWeights([t[f"a{k}.w{l}"] for l in range(len(A.layers))],
                               [t.get(f"a{k}.b{l}") for l in range(len(A.layers))], A,
                               t[f"a{k}.act"])
            except (KeyError, ShapeError) as e:
                raise ZooError(f"{zoo.file(s['file'])}: architecture {k}'s tensors do not fit "
                               f"({e})") from None
            groups.setdefault(k, []).append(w)
    cat = {k: torch.cat(v) for k, v in cols.items()}
    try:
        weights = MixedNets(arch, torch.cat(ids), [NetWeights.cat(groups[k]) if k in groups
                                                   else None for k in range(len(arch.archs))])
    except ShapeError as e:
        raise ZooError(f"{zoo.path}: shards disagree with the architectures ({e})") from None
    return _arrays(zoo, weights, cat, targets)


def _arrays(zoo, weights, cat: dict, targets: list[str]) -> ZooArrays:
    M = len(weights)
    label = cat.get("label", torch.zeros(M, dtype=torch.int64))
    k = zoo.num_classes
    if k and M and (int(label.min()) < 0 or int(label.max()) >= k):
        raise ZooError(f"{zoo.path}: labels outside 0..{k - 1}")
    C, H, W = zoo.image_shape
    return ZooArrays(weights, label, torch.zeros(M, dtype=torch.int64), cat["split"],
                     torch.zeros(M, dtype=torch.int64), torch.full((M,), float("nan")),
                     torch.zeros(0, C, H, W, dtype=torch.uint8),
                     {k: cat[f"t.{k}"] for k in targets})


def summary(zoo) -> str:
    m = zoo.manifest
    d = m["dataset"]
    r = m.get("recipe", {})
    what = (f"{m['num_inrs']} checkpoints ({r['count']} networks × epochs {r['epochs']})"
            if r.get("kind") == "cnn" else f"{m['num_inrs']} networks")
    lines = [f"zoo {zoo.path} (format {m['version']}): {what}, {zoo.arch.describe()} "
             f"({zoo.arch.num_parameters} parameters)",
             f"  trained on {d['name']}; targets: {', '.join(m.get('targets', [])) or 'none'}",
             f"  recipe {m['recipe']}, seed {m['seed']}"]
    for name, st in m.get("stats", {}).items():
        means = ", ".join(f"{k[:-5]} mean {v:.4g}" for k, v in st.items() if k.endswith("_mean"))
        lines.append(f"  {name:5s}: {st['count']:7d} rows{', ' + means if means else ''}")
    return "\n".join(lines)
