"""Writing and reading a zoo's files: safetensors shards and image tables, written under a
temporary name and renamed into place (so a killed job never leaves a file read as valid)."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from dng.data.datasets import SPLIT_NAMES, ImageSet, sha256_file
from dng.errors import ZooError
from dng.io import file_mode
from dng.weights import NetWeights

FORMAT = "dng-zoo"  # every zoo manifest's "format" (versions: dng.zoo.store)


def save_tensors_atomic(path: Path, tensors: dict[str, torch.Tensor],
                        metadata: dict[str, str] | None = None) -> str:
    """Save with safetensors under a temporary name, rename into place; return the sha256."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata=metadata)
    digest = sha256_file(tmp)
    os.chmod(tmp, file_mode())  # safetensors writes 0600; shards match the manifest's mode
    os.replace(tmp, path)
    return digest


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise ZooError(f"{path}: unreadable shard ({e})") from None


def split_stats(psnr: torch.Tensor, split: torch.Tensor) -> dict:
    out = {}
    for s, name in enumerate(SPLIT_NAMES):
        p = psnr[split == s].double()
        if p.numel():
            out[name] = {"count": int(p.numel()), "psnr_mean": float(p.mean()),
                         "psnr_p5": float(torch.quantile(p, 0.05))}
    return out


def write_images(path: Path, images: ImageSet) -> dict:
    digest = save_tensors_atomic(path / "images.safetensors",
                                 {"images": images.images, "labels": images.labels,
                                  "split": images.split})
    return {"file": "images.safetensors", "count": len(images), "sha256": digest,
            "bytes": (path / "images.safetensors").stat().st_size}


def weight_tensors(weights) -> dict[str, torch.Tensor]:
    """A weights batch as named tensors (rows first): ``w{l}``/``b{l}`` for
    :class:`NetWeights`, ``p.KEY`` (state_dict keys) for :class:`~dng.vit.ViTWeights`."""
    if isinstance(weights, NetWeights):
        tensors = {f"w{l}": w for l, w in enumerate(weights.weights)}
        tensors.update({f"b{l}": b for l, b in enumerate(weights.biases) if b is not None})
        return tensors
    if hasattr(weights, "groups"):  # MixedNets: arch_id, then a{k}.* per architecture present
        tensors = {"arch_id": weights.arch_id}
        for k, g in enumerate(weights.groups):
            if g is not None:
                tensors.update({f"a{k}.{n}": t for n, t in weight_tensors(g).items()})
                tensors[f"a{k}.act"] = g.act_ids().contiguous()
        return tensors
    return {f"p.{k}": t for k, t in weights.params.items()}


def write_shard(path: Path, index: int, weights, meta: dict[str, torch.Tensor]) -> dict:
    (path / "shards").mkdir(exist_ok=True)
    name = f"shards/shard-{index:05d}.safetensors"
    tensors = weight_tensors(weights)
    tensors.update(meta)
    digest = save_tensors_atomic(path / name, tensors)
    return {"file": name, "count": len(weights), "sha256": digest,
            "bytes": (path / name).stat().st_size}


def read_manifest(out: Path) -> dict:
    """An existing zoo's ``zoo.json`` (a job resuming it); damaged: one clear error."""
    from dng.io import read_json

    m = read_json(Path(out) / "zoo.json", f"manifest (delete {out} to start over)",
                  error=ZooError)
    if not isinstance(m.get("shards", []), list):
        raise ZooError(f"{out}/zoo.json: damaged manifest ('shards' is not a list); delete "
                       f"{out} to start over")
    return m


def read_columns(zoo, keys: list[str], optional: tuple[str, ...] = ()
                 ) -> dict[str, torch.Tensor]:
    """The named tensors of every shard of ``zoo`` (a :class:`~dng.zoo.store.Zoo`),
    concatenated in manifest order; each shard must hold every key in ``keys`` with the
    manifest's row count (one clear error naming the file otherwise). ``optional`` keys are
    read where present."""
    parts: dict[str, list[torch.Tensor]] = {}
    for s in zoo.manifest["shards"]:
        t = zoo._read(s)
        missing = [k for k in keys if k not in t]
        if missing:
            raise ZooError(f"{zoo.file(s['file'])}: shard lacks {', '.join(missing)}")
        if any(t[k].shape[0] != s["count"] for k in keys):
            raise ZooError(f"{zoo.file(s['file'])}: shard rows differ from the manifest's "
                           f"{s['count']}")
        for k in keys + [k for k in optional if k in t]:
            parts.setdefault(k, []).append(t[k])
    return {k: torch.cat(v) for k, v in parts.items()}
