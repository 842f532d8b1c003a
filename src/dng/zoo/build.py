"""Build a zoo from an image set: one SIREN per image (+ ``copies`` extra inits per training image).

Work is cut into shards of ``shard_size`` INRs, written in zoo format 3 (:mod:`dng.zoo.inrzoo`;
a half-built format-2 zoo is finished in format 2). Since format 2, INR ``i``'s initial weights are
drawn from a generator seeded with ``(seed, i)`` alone, so neither the shard size, the chunk
(INRs optimised together: 32 on a CPU, 1024 on a GPU) nor the device changes which INRs come
out (up to float rounding), and a resumed job produces exactly what an uninterrupted one
would. (Format 1 zoos drew each shard's inits from ``(seed, shard)``; they still load.)
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Callable

import torch

from dng.data.datasets import TRAIN, ImageSet, normalize_images, sha256_file
from dng.device import resolve_device
from dng.errors import ZooError
from dng.io import DirLock, atomic_write_json
from dng.weights import MLPWeights
from dng.zoo.fit import FitRecipe, fit_sirens
from dng.zoo.parallel import fit_ranks, merge_rank_entries, worker_init
from dng.zoo.siren import SirenSpec, init_siren
from dng.zoo.shards import read_manifest
import dng.zoo.inrzoo as inrzoo
from dng.zoo.store import Zoo, split_stats, write_images, write_shard

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


def _seed_for(seed: int, key) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:8], "little") >> 1


def init_by_id(spec: SirenSpec, ids: torch.Tensor, seed: int) -> MLPWeights:
    """Initial weights of the INRs with global ids ``ids``: each from its own generator seeded
    with ``(seed, id)`` (drawn on the CPU, so every device starts from the same weights)."""
    parts = [init_siren(spec, 1, torch.Generator().manual_seed(_seed_for(seed, f"inr{i}")))
             for i in ids.tolist()]
    return MLPWeights.cat(parts)


def _fit_shard(targets_u8: torch.Tensor, spec: SirenSpec, recipe: FitRecipe, seed: int,
               first_id: int, progress: ProgressFn | None = None, device: str = "cpu"):
    """Fit one shard (INRs ``first_id, first_id + 1, …``) on ``device``; returns CPU tensors.
    Deterministic given the seed and the ids, whatever the chunk."""
    targets = normalize_images(targets_u8.to(device))
    parts, psnrs = [], []
    for i in range(0, len(targets), recipe.chunk):
        chunk = targets[i:i + recipe.chunk]
        init = init_by_id(spec, torch.arange(first_id + i, first_id + i + len(chunk)), seed)
        w, p = fit_sirens(chunk, spec, recipe, init=init.to(targets.device))
        parts.append(w.to("cpu"))
        psnrs.append(p.cpu())
        if progress:
            progress(len(p), float(psnrs[-1].mean()))
    return MLPWeights.cat(parts), torch.cat(psnrs).float()


def _worker_fit(args):
    weights, psnr = _fit_shard(*args)
    return weights.weights, weights.biases, psnr


def build_zoo(images: ImageSet, out: str | Path, spec: SirenSpec | None = None,
              recipe: FitRecipe | None = None, copies: int = 0, seed: int = 0,
              shard_size: int = 1024, progress: ProgressFn | None = None,
              workers: int = 1, device: str = "cpu") -> Zoo:
    """Fit (or finish fitting) a zoo into ``out`` under an exclusive lock (one writer per
    zoo: a second ``dng fit`` on the same directory is one clear error); see
    :func:`_build_zoo`."""
    from dng.distributed import ranks_from_env

    out = Path(out)
    if shard_size < 1:
        raise ZooError(f"shard_size must be >= 1, got {shard_size}")
    if copies < 0:
        raise ZooError(f"copies must be >= 0, got {copies}")
    if ranks_from_env().main:
        fresh = not out.exists()
        try:
            with DirLock(out, "dng fit"):
                return _build_zoo(images, out, spec, recipe, copies, seed, shard_size,
                                  progress, workers, device)
        except BaseException:
            if fresh and out.exists() and not any(out.iterdir()):
                out.rmdir()  # a failed start leaves nothing behind
            raise
    return _build_zoo(images, out, spec, recipe, copies, seed, shard_size, progress, workers,
                      device)


def _build_zoo(images: ImageSet, out: Path, spec: SirenSpec | None, recipe: FitRecipe | None,
               copies: int, seed: int, shard_size: int, progress: ProgressFn | None,
               workers: int, device: str) -> Zoo:
    """Fit (or finish fitting) a zoo into ``out``; returns the opened :class:`Zoo`.

    ``workers > 1`` fits shards in that many single-threaded processes; the result is the
    same as with one worker (each shard has its own seed). On an accelerator (``device``
    other than the CPU) one process fits the shards in turn and ``workers`` is ignored; give
    the recipe a large ``chunk`` (e.g. 1024) there, so that each step is one big batch.
    """
    out = Path(out)
    dev = resolve_device(device)
    C, H, W = images.image_shape
    spec = spec or SirenSpec.for_image(C)
    recipe = recipe or FitRecipe()
    if spec.out_features != C:
        raise ZooError(f"the SIREN outputs {spec.out_features} channels but {images.name} "
                       f"images have {C}")
    if not (images.split == TRAIN).any():
        raise ZooError(f"{images.name}: the train split is empty")
    image_index, copy = plan_units(images, copies)
    num = len(image_index)
    num_shards = (num + shard_size - 1) // shard_size
    mpath = out / "zoo.json"
    # a half-built zoo of an older format is finished in its own format (inrzoo.RESUMABLE)
    prior = read_manifest(out).get("version") if mpath.exists() else None
    identity = {
        **inrzoo.format_fields(spec, prior if prior in inrzoo.RESUMABLE else None),
        "recipe": recipe.to_dict(), "seed": seed, "copies": copies, "shard_size": shard_size,
        "num_inrs": num, "num_shards": num_shards,
        "dataset": {"name": images.name, "checksum": images.checksum, "classes": images.classes,
                    "image_shape": [C, H, W], "counts": images.counts()},
    }
    version = identity["version"]
    ranks = fit_ranks(dev)
    if ranks.distributed and not ranks.main:
        ranks.barrier()  # rank 0 checks or creates the manifest and the images first
    if mpath.exists():
        old = read_manifest(out)

        def same(k, v):  # the chunk does not change the INRs (format ≥ 2): not the identity
            o = old.get(k)
            if k == "recipe" and isinstance(o, dict):
                return {**o, "chunk": None} == {**v, "chunk": None}
            return o == v

        diff = list(identity) if not isinstance(old, dict) else \
            [k for k, v in identity.items() if not same(k, v)]
        if diff:
            raise ZooError(f"{out} holds a different zoo (differs in {', '.join(diff)}); "
                           "choose another --out or delete it")
        manifest = old
        if ranks.main and _drop_bad_shards(out, manifest):
            manifest["complete"] = False  # refit what is missing or corrupt
            atomic_write_json(mpath, manifest)
        if manifest.get("complete") and manifest.get("stats"):
            if ranks.distributed and ranks.main:
                ranks.barrier()
            return Zoo(out)
    else:
        if out.exists() and any(p.name != DirLock.NAME for p in out.iterdir()):
            raise ZooError(f"{out} exists and is not a dng zoo; choose an empty or new directory")
        out.mkdir(parents=True, exist_ok=True)
        manifest = {**identity, "complete": False, "shards": [], "fit_seconds": 0.0}
        manifest["images"] = write_images(out, images)
        atomic_write_json(mpath, manifest)
    if ranks.distributed and ranks.main:
        merge_rank_entries(out, manifest)  # shards of a killed multi-process run
        atomic_write_json(mpath, manifest)
        ranks.barrier()

    done = {s["file"] for s in manifest["shards"]}
    todo = [sh for sh in range(num_shards)
            if not (f"shards/shard-{sh:05d}.safetensors" in done
                    and (out / f"shards/shard-{sh:05d}.safetensors").is_file())]

    def shard_args(shard: int):
        sl = slice(shard * shard_size, min(num, (shard + 1) * shard_size))
        return images.images[image_index[sl]], spec, recipe, seed, sl.start

    todo = todo[ranks.rank::ranks.world]  # under torchrun: every world-th shard per rank
    if ranks.distributed:
        workers = 1

    def store(shard: int, weights: MLPWeights, psnr: torch.Tensor, seconds: float) -> None:
        sl = slice(shard * shard_size, min(num, (shard + 1) * shard_size))
        idx, cp = image_index[sl], copy[sl]
        meta = inrzoo.shard_meta(weights, images.labels[idx], idx, images.split[idx], cp, psnr,
                                 version)
        entry = write_shard(out, shard, weights, meta)
        if ranks.distributed:  # one writer per manifest: rank 0 merges these at the end
            atomic_write_json(out / f"{entry['file']}.entry.json",
                              {**entry, "seconds": seconds})
            return
        manifest["shards"] = [s for s in manifest["shards"] if s["file"] != entry["file"]]
        manifest["shards"].append(entry)
        manifest["shards"].sort(key=lambda s: s["file"])
        manifest["fit_seconds"] += seconds
        atomic_write_json(mpath, manifest)

    if workers <= 1 or len(todo) <= 1 or dev.type != "cpu":
        for shard in todo:
            t0 = time.perf_counter()
            weights, psnr = _fit_shard(*shard_args(shard), progress=progress, device=dev)
            store(shard, weights, psnr, time.perf_counter() - t0)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        t0 = time.perf_counter()
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                 initializer=worker_init, initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(_worker_fit, shard_args(sh)): sh for sh in todo}
            for fut in as_completed(futures):
                ws, bs, psnr = fut.result()
                weights = MLPWeights(ws, bs, spec.activations)
                t1 = time.perf_counter()
                store(futures[fut], weights, psnr, t1 - t0)  # wall time, not CPU time
                t0 = t1
                if progress:
                    progress(len(psnr), float(psnr.mean()))

    if ranks.distributed:
        ranks.barrier()
        if not ranks.main:
            ranks.barrier()  # rank 0 finalises
            return Zoo(out)
        merge_rank_entries(out, manifest)
        if len(manifest["shards"]) != num_shards:
            raise ZooError(f"{out}: {num_shards - len(manifest['shards'])} shards missing "
                           "after the multi-process fit; rerun the same command")
    # finalise: statistics over all shards
    manifest["complete"] = True
    manifest["stats"] = {}
    manifest["inr_per_second"] = num / max(manifest["fit_seconds"], 1e-9)
    atomic_write_json(mpath, manifest)
    try:
        zoo = Zoo(out)
        a = zoo.arrays()
        manifest["stats"] = split_stats(a.psnr, a.split)
    except BaseException:  # never leave "complete" with no statistics: a rerun finishes it
        manifest["complete"] = False
        atomic_write_json(mpath, manifest)
        raise
    atomic_write_json(mpath, manifest)
    zoo.manifest = manifest
    if ranks.distributed:
        ranks.barrier()
    return zoo


def _drop_bad_shards(out: Path, manifest: dict) -> list[str]:
    """Remove from the manifest the shards whose file is missing, of another size or of
    another sha256 (they are fitted again); returns their names."""
    bad = []
    for s in manifest.get("shards", []):
        f = out / s["file"]
        if not f.is_file() or f.stat().st_size != s.get("bytes", -1) \
                or sha256_file(f) != s.get("sha256"):
            bad.append(s["file"])
    if bad:
        manifest["shards"] = [s for s in manifest["shards"] if s["file"] not in bad]
    return bad
