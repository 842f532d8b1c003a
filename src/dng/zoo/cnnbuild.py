"""Build a zoo of small CNNs here (``dng zoo fit --kind cnn``): networks trained in units of
``unit`` at once (:mod:`dng.zoo.cnnfit`), each unit one shard of a format-3 zoo holding every
network's checkpoints at the chosen epochs, with each checkpoint's test accuracy.

Resumable like the INR zoos: the manifest lists a shard only once it is on disk, a rerun of
the same command trains only the units that are missing, one writer per zoo (a lock). Networks
are split by id (a seeded permutation: 70 % train, 10 % val, 20 % test), so the checkpoints of
one network never straddle splits.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import torch

from dng.arch import Arch
from dng.data.datasets import TEST, ImageSet, normalize_images
from dng.errors import ZooError
from dng.io import DirLock, atomic_write_json
from dng.weights import NetWeights
from dng.zoo.cnnfit import draw_hypers, init_cnns, score, train_cnns
from dng.zoo.netzoo import manifest, shard_tensors, target_stats, trained_on
from dng.zoo.shards import read_manifest, write_shard
from dng.zoo.store import Zoo

SPLIT_FRACTIONS = (0.7, 0.1, 0.2)


def grayscale(images: ImageSet) -> ImageSet:
    """RGB → one luminance channel (ITU-R 601: 0.299 R + 0.587 G + 0.114 B, rounded), as
    CIFAR10-GS is made."""
    x = images.images.float()
    y = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).round().clamp(0, 255)
    return ImageSet(images.name + "-gs", y.to(torch.uint8)[:, None], images.labels,
                    images.split, images.classes)


def data_subsets(images: ImageSet, train_size: int | None, test_size: int | None, seed: int):
    """``(train_x, train_y), (test_x, test_y)``: the non-test and test images, or a seeded
    random subset of ``train_size`` / ``test_size`` of them — never the first N (an image
    folder's files are sorted by class)."""
    out = []
    for part, n in ((images.split != TEST, train_size), (images.split == TEST, test_size)):
        idx = part.nonzero().flatten()
        if n is not None and n < len(idx):
            g = torch.Generator().manual_seed(seed * 7919 + len(out))
            idx = idx[torch.randperm(len(idx), generator=g)[:n].sort().values]
        out.append((images.images[idx], images.labels[idx]))
    return out


def rescore_cnn_zoo(out: str | Path, images: ImageSet, test_size: int | None,
                    seed: int = 0) -> Zoo:
    """Score every checkpoint of a CNN zoo again on a seeded random subset of the test images
    and rewrite its ``test_accuracy`` / ``test_loss`` columns (shards replaced atomically, the
    manifest last). For zoos whose first scoring used the first N test images (before
    2026-12-01 23:10: a class-sorted folder made those two classes only)."""
    from safetensors.torch import load_file

    out = Path(out)
    with DirLock(out, "dng zoo rescore"):
        m = read_manifest(out)
        zoo = Zoo(out)
        arch = zoo.arch
        _, (te_x, te_y) = data_subsets(images, None, test_size, seed)
        tx = normalize_images(te_x).float()
        for i, s in enumerate(m["shards"]):
            t = load_file(str(out / s["file"]))
            L = len(arch.layers)
            w = NetWeights([t[f"w{l}"] for l in range(L)], [t[f"b{l}"] for l in range(L)],
                           arch, t["act"])
            acc, loss = score(arch, w, tx, te_y)
            meta = {k: v for k, v in t.items() if not k.startswith(("w", "b"))}
            meta["t.test_accuracy"], meta["t.test_loss"] = acc.double(), loss.double()
            m["shards"][i] = write_shard(out, int(s["file"][-17:-12]), w, meta)
        m["recipe"] = {**m["recipe"], "test_images": len(te_x), "subsets": "seeded random",
                       "rescored": True}
        cols = _columns(out, m)
        m["stats"] = target_stats(cols["split"], {k: cols[k] for k in ("test_accuracy",
                                                                        "epoch")})
        atomic_write_json(out / "zoo.json", m)
    return Zoo(out)


def network_splits(count: int, seed: int) -> torch.Tensor:
    """Split of each network id (int8 ``(count,)``): 70 / 10 / 20 % of a seeded permutation."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    split = torch.empty(count, dtype=torch.int8)
    a = round(SPLIT_FRACTIONS[0] * count)
    b = a + round(SPLIT_FRACTIONS[1] * count)
    split[order[:a]], split[order[a:b]], split[order[b:]] = 0, 1, 2
    return split


def build_cnn_zoo(images: ImageSet, out: str | Path, count: int,
                  epochs: tuple[int, ...] = (0, 1, 2, 4), unit: int = 64,
                  batch_size: int = 32, seed: int = 0, train_size: int | None = None,
                  test_size: int | None = None, steps_per_epoch: int | None = None,
                  channels: tuple[int, ...] = (16, 16, 16),
                  progress: Callable[[int], None] | None = None, device=None) -> Zoo:
    """Train ``count`` CNNs (the Small CNN Zoo's architecture by default) on ``images`` and keep
    their checkpoints at ``epochs`` in a format-3 zoo at ``out``; see the module docstring.
    An epoch is ``steps_per_epoch`` steps (default: the training images / ``batch_size``)."""
    out = Path(out)
    if count < 1 or unit < 1 or not epochs or min(epochs) < 0:
        raise ZooError("count and unit must be >= 1 and epochs non-negative")
    epochs = tuple(sorted(set(int(e) for e in epochs)))
    C = images.image_shape[0]
    arch = Arch.cnn(C, list(channels), 3, 2, dense=(len(images.classes),))
    (tr_x, tr_y), (te_x, te_y) = data_subsets(images, train_size, test_size, seed)
    if len(tr_x) == 0 or len(te_x) == 0:
        raise ZooError(f"{images.name}: CNNs need training and test images")
    spe = steps_per_epoch or max(1, len(tr_x) // batch_size)
    n_units = -(-count // unit)
    recipe = {"kind": "cnn", "count": count, "epochs": list(epochs), "unit": unit,
              "batch_size": batch_size, "steps_per_epoch": spe, "train_images": len(tr_x),
              "test_images": len(te_x), "subsets": "seeded random", "channels": list(channels)}
    dataset = trained_on(images)
    targets = ["test_accuracy", "test_loss", "train_loss", "epoch", "net_id", "lr", "l2",
               "dropout", "train_fraction", "init_std", "init", "optimizer"]
    identity = manifest(arch, targets, dataset, recipe, seed, count * len(epochs), n_units)
    split_of = network_splits(count, seed)
    x = normalize_images(tr_x).float()
    tx = normalize_images(te_x).float()

    def unit_rows(u: int):
        ids = torch.arange(u * unit, min(count, (u + 1) * unit))
        hyp = draw_hypers(ids, seed)
        order = torch.argsort(hyp.act, stable=True)  # one activation per slice: faster
        ids, hyp = ids[order], hyp.select(order)
        w0 = init_cnns(arch, hyp, ids, seed)
        gen = torch.Generator().manual_seed(seed * 1_000_003 + u)
        rows, metas = [], []
        for cp in train_cnns(arch, w0, hyp, x, tr_y, tx, te_y, list(epochs), spe,
                             batch_size, gen, progress, device):
            cols = {"test_accuracy": cp.test_accuracy, "test_loss": cp.test_loss,
                    "train_loss": cp.train_loss,
                    "epoch": torch.full((len(ids),), float(cp.epoch)),
                    "net_id": ids.double(), **hyp.columns()}
            rows.append(cp.weights)
            metas.append(shard_tensors(cp.weights, split_of[ids], cols))
        return NetWeights.cat(rows), {k: torch.cat([mm[k] for mm in metas]) for k in metas[0]}

    return build_units(out, identity, n_units, unit_rows)


def build_units(out: Path, identity: dict, n_units: int, unit_rows) -> Zoo:
    """Write a format-3 zoo unit by unit (``unit_rows(u) → (weights, meta tensors)``, one
    shard each), resumably: units already on disk are skipped; a lock keeps one writer; a
    failed start leaves nothing behind. Statistics of ``test_accuracy`` and ``epoch`` at
    the end."""
    fresh = not out.exists()
    try:
        with DirLock(out, "dng zoo fit"):
            m = _open(out, identity)
            done = {s["file"] for s in m["shards"] if (out / s["file"]).is_file()}
            m["shards"] = [s for s in m["shards"] if s["file"] in done]
            t0 = time.perf_counter()
            for u in range(n_units):
                if f"shards/shard-{u:05d}.safetensors" in done:
                    continue
                weights, meta = unit_rows(u)
                m["shards"].append(write_shard(out, u, weights, meta))
                m["fit_seconds"] = m.get("fit_seconds", 0.0) + time.perf_counter() - t0
                t0 = time.perf_counter()
                atomic_write_json(out / "zoo.json", m)
            m["shards"].sort(key=lambda s: s["file"])
            zoo_cols = _columns(out, m)
            m["stats"] = target_stats(zoo_cols["split"], {k: zoo_cols[k] for k in
                                                          ("test_accuracy", "epoch")})
            m["complete"] = True
            atomic_write_json(out / "zoo.json", m)
    except BaseException:
        if fresh and out.exists() and not any(p.name != DirLock.NAME for p in out.iterdir()):
            import shutil

            shutil.rmtree(out, ignore_errors=True)  # a failed start leaves nothing behind
        raise
    return Zoo(out)


def _open(out: Path, identity: dict) -> dict:
    mpath = out / "zoo.json"
    if mpath.exists():
        old = read_manifest(out)
        keys = ("arch", "targets", "dataset", "recipe", "seed", "num_inrs", "num_shards")
        want = json.loads(json.dumps(identity))  # as it reads back (tuples → lists)
        diff = [k for k in keys if not isinstance(old, dict) or old.get(k) != want[k]]
        if diff:
            raise ZooError(f"{out} holds a different zoo (differs in {', '.join(diff)}); "
                           "choose another --out or delete it")
        old["complete"] = False
        return old
    if out.exists() and any(p.name != DirLock.NAME for p in out.iterdir()):
        raise ZooError(f"{out} exists and is not a dng zoo; choose an empty or new directory")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(mpath, identity)
    return dict(identity)


def _columns(out: Path, m: dict) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    parts: dict[str, list] = {}
    for s in m["shards"]:
        t = load_file(str(out / s["file"]))
        for k in ("split", "t.test_accuracy", "t.epoch"):
            parts.setdefault(k.removeprefix("t."), []).append(t[k])
    return {k: torch.cat(v) for k, v in parts.items()}
