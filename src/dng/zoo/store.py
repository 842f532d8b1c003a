"""On-disk zoos: a directory of safetensors shards plus a ``zoo.json`` manifest.

Layout::

    DIR/zoo.json                    manifest (what the networks are, recipe, seed, dataset,
                                    counts, stats, shards)
    DIR/images.safetensors          INR zoos: images uint8 (N, C, H, W), labels, split
    DIR/shards/shard-00000.safetensors
        w0, b0, …, w{L-1}, b{L-1}   stacked weights (M, n_out, n_in[, k_h, k_w]), biases
                                    (M, n_out)
        split, label, …             per-network columns

The columns of each kind of zoo: :mod:`dng.zoo.inrzoo` (INRs with images, formats 1–3) and
:mod:`dng.zoo.netzoo` (any architecture with named targets, format 3).

A shard is written to a temporary name and renamed into place, and only then listed in the
manifest (itself replaced atomically), so a killed job never leaves a shard that is read as
valid; rerunning the job fits only the shards that are missing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from dng.data.datasets import SPLIT_NAMES, sha256_file
from dng.errors import ShapeError, ZooError
from dng.io import read_json
from dng.arch import Arch
from dng.zoo.arrays import ZooArrays
from dng.zoo.shards import (FORMAT, _load_tensors, save_tensors_atomic, split_stats,  # noqa: F401
                            write_images, write_shard)
from dng.zoo.inrzoo import read_arrays as read_inr_arrays, spec_of

# 1: the first INR zoos; 2: INR inits drawn per INR id (chunk-independent); 3: any
# architecture, named targets (dng.zoo.netzoo), INR zoos with an INR block (dng.zoo.inrzoo)
SUPPORTED_VERSIONS = (1, 2, 3)


_VERIFIED: set[tuple] = set()  # (path, size, mtime, sha256) of files checked in this process


class Zoo:
    """A fitted zoo on disk. Opening checks the manifest against the files; data loads lazily.

    >>> zoo = Zoo("zoos/mnist")
    >>> train = zoo.load("train", max_copy=0)     # ZooArrays, plain INRs of training images
    >>> for weights, labels, images in train.batches(64, shuffle=True): ...
    """

    REQUIRED = ("format", "version", "complete", "spec", "shards", "images", "num_inrs",
                "num_shards", "dataset")

    def __init__(self, path: str | os.PathLike, verify_data: bool = True):
        """``verify_data``: check each file's sha256 when it is first read in this process
        (cheap beside training; ``False`` for those who must skip it)."""
        self.path = Path(path)
        self.verify_data = verify_data
        mpath = self.path / "zoo.json"
        if not mpath.is_file():
            raise ZooError(f"{self.path}: not a dng zoo (no zoo.json)")
        self.manifest = read_json(mpath, "manifest", kind=None, error=ZooError)
        m = self.manifest
        if not isinstance(m, dict):
            raise ZooError(f"{mpath}: not a dng zoo manifest (a {type(m).__name__}, not a "
                           "mapping)")
        if m.get("format") != FORMAT or m.get("version") not in SUPPORTED_VERSIONS:
            raise ZooError(f"{mpath}: not a dng zoo manifest (format {m.get('format')!r}, "
                           f"version {m.get('version')!r})")
        required = self.REQUIRED if m["version"] < 3 else tuple(
            k for k in self.REQUIRED if k not in ("spec", "images")) + ("arch",)
        missing = [k for k in required if k not in m]
        if missing:
            raise ZooError(f"{mpath}: manifest lacks {', '.join(missing)}")
        if not m.get("complete"):
            done = len(m.get("shards", []))
            raise ZooError(f"{self.path}: zoo is incomplete ({done}/{m.get('num_shards', '?')} "
                           "shards); rerun the same `dng fit` command to finish it")
        try:
            self.spec = spec_of(m)
            classes = m["dataset"]["classes"]
            shape = m["dataset"]["image_shape"]
            if not isinstance(classes, list) or len(shape) != 3:
                raise TypeError("dataset.classes / image_shape")
            listed = sum(int(s["count"]) for s in m["shards"])
            [str(s["file"]) for s in self._entries()]  # each entry names a file
            if "arch" in m:
                self.arch  # noqa: B018 - validates the description (ZooError if bad)
        except (TypeError, KeyError, ValueError, AttributeError, ShapeError) as e:
            raise ZooError(f"{mpath}: malformed manifest ({type(e).__name__}: {e})") from None
        if listed != m["num_inrs"]:
            raise ZooError(f"{mpath}: shards hold {listed} INRs but the manifest says "
                           f"{m['num_inrs']}")
        for s in self._entries():
            f = self.file(s["file"])
            if not f.is_file():
                raise ZooError(f"{f}: missing (listed in {mpath})")
            if "bytes" in s and f.stat().st_size != s["bytes"]:
                raise ZooError(f"{f}: {f.stat().st_size} bytes but the manifest says "
                               f"{s['bytes']} (truncated or replaced)")
        self._arrays: ZooArrays | None = None

    def _entries(self) -> list[dict]:
        """The manifest's file entries: shards, and the image table where there is one."""
        m = self.manifest
        return list(m["shards"]) + ([m["images"]] if m.get("images") else [])

    def file(self, name: str) -> Path:
        """The path of a file the manifest names, which must stay inside the zoo (no absolute
        names, no ``..``, no symlink out)."""
        root = self.path.resolve()
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ZooError(f"{self.path / 'zoo.json'}: file name {name!r} leaves the zoo")
        p = (self.path / name)
        if not p.resolve().is_relative_to(root):
            raise ZooError(f"{self.path / 'zoo.json'}: {name!r} resolves outside the zoo "
                           f"({p.resolve()})")
        return p

    def _read(self, entry: dict) -> dict[str, torch.Tensor]:
        """A listed file's tensors, its sha256 checked first (unless ``verify_data=False``)."""
        f = self.file(entry["file"])
        if self.verify_data:
            st = f.stat()
            key = (str(f.resolve()), st.st_size, st.st_mtime_ns, entry.get("sha256"))
            if key not in _VERIFIED:  # once per file and process, not once per Zoo object
                if sha256_file(f) != entry.get("sha256"):
                    raise ZooError(f"{f}: sha256 differs from the manifest (corrupted file; "
                                   "rerun `dng fit` to refit it, or pass --no-verify to read "
                                   "it anyway)")
                _VERIFIED.add(key)
        return _load_tensors(f)

    # ------------------------------------------------------------------ info
    def __len__(self) -> int:
        return int(self.manifest["num_inrs"])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.manifest["dataset"]["image_shape"])  # type: ignore[return-value]

    @property
    def arch(self) -> Arch:
        """The networks' architecture (format 3: the manifest's ``arch``; SIREN zoos: their
        MLP)."""
        if "arch" in self.manifest:
            d = self.manifest["arch"]
            if isinstance(d, dict) and d.get("family") == "mixed":
                from dng.mixed import MixedArch
                try:
                    return MixedArch.from_dict(d)
                except ShapeError as e:
                    raise ZooError(f"{self.path}: bad architectures in zoo.json ({e})") from None
            if isinstance(d, dict) and d.get("family") == "vit":
                from dng.vit import ViTSpec
                try:
                    return ViTSpec.from_dict(d)
                except (ShapeError, TypeError) as e:
                    raise ZooError(f"{self.path}: bad ViT description in zoo.json ({e})"
                                   ) from None
            return Arch.from_dict(d)
        s = self.spec
        return Arch.mlp(s.layer_sizes, s.activations, s.omegas)

    @property
    def renders(self) -> bool:
        """Whether the zoo's networks are INRs with images to compare their renderings with."""
        return self.spec is not None and bool(self.manifest.get("images")) and \
            self.manifest["images"].get("count", 0) > 0

    @property
    def first_omega(self) -> float:
        return self.spec.first_omega if self.spec is not None else 30.0

    @property
    def num_classes(self) -> int:
        return len(self.manifest["dataset"]["classes"])

    @property
    def classes(self) -> list[str]:
        return list(self.manifest["dataset"]["classes"])

    def verify(self) -> None:
        """Check the manifest (shards ``0..S-1`` listed once each, counts adding up) and every
        file's sha256."""
        m = self.manifest
        names = [s["file"] for s in m["shards"]]
        n = m.get("num_shards")
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= len(names):
            raise ZooError(f"{self.path}: manifest says num_shards={n!r} but lists "
                           f"{len(names)} shards")
        want = [f"shards/shard-{i:05d}.safetensors" for i in range(n)]
        if sorted(names) != want:
            extra = sorted(set(names) - set(want)) or sorted(n for n in names
                                                             if names.count(n) > 1)
            lost = sorted(set(want) - set(names))
            raise ZooError(f"{self.path}: manifest shards do not cover 0..{m['num_shards'] - 1} "
                           f"once each (missing {lost[:3]}, unexpected or repeated {extra[:3]})")
        for s in self._entries():
            f = self.file(s["file"])
            if sha256_file(f) != s["sha256"]:
                raise ZooError(f"{f}: sha256 differs from the manifest (corrupted file)")

    # ------------------------------------------------------------------ data
    def arrays(self) -> ZooArrays:
        """All INRs in memory (loaded once, then cached)."""
        if self._arrays is None and self.spec is None:
            from dng.zoo.netzoo import read_arrays

            self._arrays = read_arrays(self)
        if self._arrays is None:
            self._arrays = read_inr_arrays(self)
        return self._arrays

    def load(self, split: str | None = None, max_copy: int | None = None) -> ZooArrays:
        """INRs of one split (``train``/``val``/``test``, or all), with copies ``<= max_copy``
        (``0`` = only the INR fitted from the first init; ``None`` = all copies)."""
        a = self.arrays()
        keep = torch.ones(len(a), dtype=torch.bool)
        if split is not None:
            if split not in SPLIT_NAMES:
                raise ZooError(f"unknown split {split!r} (train, val or test)")
            keep &= a.split == SPLIT_NAMES.index(split)
        if max_copy is not None:
            keep &= a.copy <= max_copy
        idx = keep.nonzero().flatten()
        if idx.numel() == 0:
            raise ZooError(f"{self.path}: no INRs in split {split!r}")
        return a.select(idx)

    def summary(self) -> str:
        if self.spec is None:
            from dng.zoo.netzoo import summary

            return summary(self)
        m = self.manifest
        d = m["dataset"]
        lines = [f"zoo {self.path} (format {m['version']}): {m['num_inrs']} INRs of SIREN "
                 f"{'→'.join(map(str, self.spec.layer_sizes))} (ω0={self.spec.first_omega:g})",
                 f"  dataset {d['name']} ({len(d['classes'])} classes, images "
                 f"{'×'.join(map(str, d['image_shape']))}, sha256 {d['checksum'][:12]}…)",
                 f"  recipe {json.dumps(m['recipe'])}, seed {m['seed']}, copies {m['copies']}"]
        for name, st in m["stats"].items():
            if "psnr_mean" not in st:  # imported without images: nothing to compare with
                lines.append(f"  {name:5s}: {st['count']:7d} INRs (no images: PSNR n/a)")
                continue
            lines.append(f"  {name:5s}: {st['count']:7d} INRs, PSNR mean {st['psnr_mean']:.2f} dB,"
                         f" p5 {st['psnr_p5']:.2f} dB")
        if m.get("fit_seconds") is not None:
            lines.append(f"  fit {m['fit_seconds']:.1f} s, {m['inr_per_second']:.1f} INR/s")
        return "\n".join(lines)
