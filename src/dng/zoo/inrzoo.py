"""INR zoos — SIRENs with the image table they were fitted to — in format 3, and formats 1/2.

Format 3 (every INR zoo written since 2026-12-02) is a :mod:`dng.zoo.netzoo` zoo with an INR
block: ``arch`` (the SIREN as an :class:`~dng.arch.Arch`), ``targets`` (``["psnr"]``), and

    inr          the SIREN spec (ω0 of the first and hidden layers, ``output_offset``,
                 ``image_range``, init, activation): what rendering a network needs
    images       the image table entry: ``images.safetensors`` holds ``images`` uint8
                 (N, C, H, W), ``labels`` int64 (N,), ``split`` int8 (N,)
    copies, shard_size, fit_seconds, inr_per_second

Its shards hold ``w{l}``, ``b{l}``, ``act`` and ``split`` as every format-3 shard, and

    label int64 (M,), image_index int64 (M,) (the row of the image table an INR represents),
    copy int64 (M,) (0 = the first init of that image), t.psnr float64 (M,) (fitting PSNR)

Formats 1 and 2 (zoos written before) have the SIREN spec as ``spec`` and no ``arch``,
``targets`` or ``inr``; their shards hold ``psnr`` (float32) and no ``act``. Both still load,
and a format-2 zoo whose fit was interrupted is finished in format 2 (its shards must agree).
"""

from __future__ import annotations

import json

import torch

from dng.errors import ZooError
from dng.weights import MLPWeights, NetWeights
from dng.zoo.arrays import ZooArrays
from dng.zoo.shards import FORMAT, read_columns
from dng.zoo.siren import SirenSpec

NEW_VERSION = 3  # what a fresh INR zoo is written in (tests set 2 to make an older zoo)
RESUMABLE = (2, 3)  # half-built zoos of these versions are finished in their own version


def format_fields(spec: SirenSpec, version: int | None = None) -> dict:
    """The manifest fields that say what an INR zoo is, in ``version`` (default: the new one)."""
    version = NEW_VERSION if version is None else version
    if version >= 3:  # as JSON holds them (lists, not tuples): a resumed fit compares them
        return json.loads(json.dumps({"format": FORMAT, "version": version,
                                      "arch": spec.arch.to_dict(), "targets": ["psnr"],
                                      "inr": spec.to_dict()}))
    return {"format": FORMAT, "version": version, "spec": spec.to_dict()}


def shard_meta(weights: NetWeights, label, image_index, split, copy, psnr,
               version: int | None = None) -> dict[str, torch.Tensor]:
    """The per-INR columns of one shard (beside its weights), in ``version``'s names."""
    version = NEW_VERSION if version is None else version
    meta = {"label": label.to(torch.int64), "image_index": image_index.to(torch.int64),
            "split": split.to(torch.int8), "copy": copy.to(torch.int64)}
    if version >= 3:
        meta["act"] = weights.act_ids().contiguous()
        meta["t.psnr"] = psnr.to(torch.float64)
    else:
        meta["psnr"] = psnr.to(torch.float32)
    return meta


def spec_of(manifest: dict) -> SirenSpec | None:
    """The SIREN spec of an INR zoo's manifest (``None``: the zoo's networks do not render)."""
    d = manifest.get("inr") if manifest.get("version", 0) >= 3 else manifest.get("spec")
    return None if d is None else SirenSpec.from_dict(d)


def read_arrays(zoo) -> ZooArrays:
    """All INRs of an INR zoo (format 1, 2 or 3) in memory, checked against the manifest."""
    spec = zoo.spec
    v3 = zoo.manifest["version"] >= 3
    L = len(spec.layer_sizes) - 1
    keys = [f"w{l}" for l in range(L)] + [f"b{l}" for l in range(L)] + \
        ["label", "image_index", "split", "copy"] + (["act", "t.psnr"] if v3 else ["psnr"])
    cat = read_columns(zoo, keys)
    try:
        weights = MLPWeights(tuple(cat[f"w{l}"] for l in range(L)),
                             tuple(cat[f"b{l}"] for l in range(L)), spec.activations)
        spec.check(weights)
    except Exception as e:  # noqa: BLE001 - one line naming the zoo
        raise ZooError(f"{zoo.path}: shards disagree with the SIREN spec ({e})") from None
    if v3 and not torch.equal(cat["act"], weights.act_ids().to(cat["act"].dtype)):
        raise ZooError(f"{zoo.path}: shard activations differ from the SIREN spec's "
                       f"{spec.activations}")
    images = _image_table(zoo)
    idx = cat["image_index"]
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= images.shape[0]):
        raise ZooError(f"{zoo.path}: image_index outside 0..{images.shape[0] - 1} "
                       f"(found {int(idx.min())}..{int(idx.max())})")
    lab, k = cat["label"], zoo.num_classes
    if k and lab.numel() and (int(lab.min()) < 0 or int(lab.max()) >= k):
        raise ZooError(f"{zoo.path}: labels outside 0..{k - 1} (found "
                       f"{int(lab.min())}..{int(lab.max())})")
    psnr = cat["t.psnr"].float() if v3 else cat["psnr"]
    return ZooArrays(weights, lab, idx, cat["split"], cat["copy"], psnr, images)


def _image_table(zoo) -> torch.Tensor:
    entry = zoo.manifest.get("images")
    if not entry:
        raise ZooError(f"{zoo.path}: an INR zoo without an image table")
    images = zoo._read(entry).get("images")
    if images is None or tuple(images.shape[1:]) != zoo.image_shape:
        raise ZooError(f"{zoo.path}: image table does not match the manifest")
    if images.dtype != torch.uint8:
        raise ZooError(f"{zoo.path}: images must be uint8, the table holds {images.dtype}")
    return images
