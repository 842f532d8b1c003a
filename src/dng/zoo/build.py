"""Build a zoo from an image set: one SIREN per image (+ ``copies`` extra inits per training image).

Work is cut into shards of ``shard_size`` INRs; shard ``s`` is fitted from a generator seeded
with ``(seed, s)``, so a resumed job produces exactly what an uninterrupted one would.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import torch

from dng.data.datasets import TRAIN, ImageSet, normalize_images
from dng.errors import ZooError
from dng.weights import MLPWeights
from dng.zoo.fit import FitRecipe, fit_sirens
from dng.zoo.siren import SirenSpec
from dng.zoo.store import (FORMAT, VERSION, Zoo, atomic_write_json, now, split_stats,
                           write_images, write_shard)

ProgressFn = Callable[[int, float], None]  # (INRs just finished, their mean PSNR)


def limit_per_split(images: ImageSet, limit: int | None) -> ImageSet:
    """Keep at most ``limit`` images of each split (the first ones)."""
    if limit is None:
        return images
    keep = torch.zeros(len(images), dtype=torch.bool)
    for s in range(3):
        idx = (images.split == s).nonzero().flatten()[:limit]
        keep[idx] = True
    return images.subset(keep.nonzero().flatten())


def plan_units(images: ImageSet, copies: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(image_index, copy)`` for every INR: all images (copy 0), then the extra copies of
    training images (copy 1..k)."""
    n = len(images)
    idx = [torch.arange(n)]
    cp = [torch.zeros(n, dtype=torch.int64)]
    train = (images.split == TRAIN).nonzero().flatten()
    for k in range(1, copies + 1):
        idx.append(train)
        cp.append(torch.full((len(train),), k, dtype=torch.int64))
    return torch.cat(idx), torch.cat(cp)


def _shard_seed(seed: int, shard: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{shard}".encode()).digest()[:8], "little") >> 1


def build_zoo(images: ImageSet, out: str | Path, spec: SirenSpec | None = None,
              recipe: FitRecipe | None = None, copies: int = 0, seed: int = 0,
              shard_size: int = 4096, progress: ProgressFn | None = None) -> Zoo:
    """Fit (or finish fitting) a zoo into ``out``; returns the opened :class:`Zoo`."""
    out = Path(out)
    C, H, W = images.image_shape
    spec = spec or SirenSpec.for_image(C)
    recipe = recipe or FitRecipe()
    if spec.out_features != C:
        raise ZooError(f"the SIREN outputs {spec.out_features} channels but {images.name} "
                       f"images have {C}")
    for s, name in enumerate(("train", "val", "test")):
        if not (images.split == s).any() and name != "test":
            raise ZooError(f"{images.name}: the {name} split is empty")
    image_index, copy = plan_units(images, copies)
    num = len(image_index)
    num_shards = (num + shard_size - 1) // shard_size
    identity = {
        "format": FORMAT, "version": VERSION, "spec": spec.to_dict(), "recipe": recipe.to_dict(),
        "seed": seed, "copies": copies, "shard_size": shard_size, "num_inrs": num,
        "num_shards": num_shards,
        "dataset": {"name": images.name, "checksum": images.checksum, "classes": images.classes,
                    "image_shape": [C, H, W], "counts": images.counts()},
    }
    mpath = out / "zoo.json"
    if mpath.exists():
        old = json.loads(mpath.read_text())
        if any(old.get(k) != v for k, v in identity.items()):
            diff = [k for k, v in identity.items() if old.get(k) != v]
            raise ZooError(f"{out} holds a different zoo (differs in {', '.join(diff)}); "
                           "choose another --out or delete it")
        manifest = old
        if manifest.get("complete"):
            return Zoo(out)
    else:
        if out.exists() and any(out.iterdir()):
            raise ZooError(f"{out} exists and is not a dng zoo; choose an empty or new directory")
        out.mkdir(parents=True, exist_ok=True)
        manifest = {**identity, "complete": False, "shards": [], "fit_seconds": 0.0}
        manifest["images"] = write_images(out, images)
        atomic_write_json(mpath, manifest)

    done = {s["file"] for s in manifest["shards"]}
    targets_all = normalize_images(images.images)
    for shard in range(num_shards):
        name = f"shards/shard-{shard:05d}.safetensors"
        if name in done and (out / name).is_file():
            continue
        t0 = now()
        sl = slice(shard * shard_size, min(num, (shard + 1) * shard_size))
        idx, cp = image_index[sl], copy[sl]
        gen = torch.Generator().manual_seed(_shard_seed(seed, shard))
        parts, psnrs = [], []
        for i in range(0, len(idx), recipe.chunk):
            w, p = fit_sirens(targets_all[idx[i:i + recipe.chunk]], spec, recipe, gen)
            parts.append(w)
            psnrs.append(p)
            if progress:
                progress(len(p), float(p.mean()))
        weights = MLPWeights.cat(parts)
        meta = {"label": images.labels[idx], "image_index": idx, "split": images.split[idx],
                "copy": cp, "psnr": torch.cat(psnrs).float()}
        entry = write_shard(out, shard, weights, meta)
        manifest["shards"] = [s for s in manifest["shards"] if s["file"] != name] + [entry]
        manifest["shards"].sort(key=lambda s: s["file"])
        manifest["fit_seconds"] += now() - t0
        atomic_write_json(mpath, manifest)

    # finalise: statistics over all shards
    manifest["complete"] = True
    manifest["stats"] = {}
    manifest["inr_per_second"] = num / max(manifest["fit_seconds"], 1e-9)
    atomic_write_json(mpath, manifest)
    zoo = Zoo(out)
    a = zoo.arrays()
    manifest["stats"] = split_stats(a.psnr, a.split)
    atomic_write_json(mpath, manifest)
    zoo.manifest = manifest
    return zoo
