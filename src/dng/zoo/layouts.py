"""The field's published INR zoo layouts: which file is which INR (label, image index, split,
extra copy), recognised from the directory structure alone.

* ``nfn`` — NFN / DNG-paper zoos: ``siren_<ds>_wts/randinit_smaller_<label>s/net<idx>.pth``
  and ``randinit_smaller_aug<k>_<label>s/net<idx>.pth`` (the k-th extra random-init copy of
  *training* image ``idx``); keys ``net.0.linear.weight … net.2.weight/bias``. Splits by index
  as the paper's: ``idx < a`` train, ``a ≤ idx < b`` val, the rest test (MNIST
  ``a, b = 45 000, 50 000``; Fashion-MNIST ``55 000, 60 000``).
* ``dwsnets`` — DWSNets / neural-graphs zoos:
  ``<root>/<name>_<split>_<label>_<idx>/checkpoints/model_final.pth`` (``split`` is ``train``
  or ``test``; a validation split is carved from train with a fixed seed); keys
  ``seq.<i>.weight/bias``; every layer's output + 0.5 is the image in [0, 1].
* ``state-dicts`` — anything else: files in sorted path order, no labels, all in ``test``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from dng.errors import ZooError

FORMATS = ("auto", "nfn", "dwsnets", "state-dicts")
_NFN_DIR = re.compile(r"randinit_smaller(?:_aug(\d+))?_(\d+)s")
_NFN_FILE = re.compile(r"net(\d+)\.pth")
_DWS_DIR = re.compile(r".+_(train|test|val)_(\d+)_(\d+)")


@dataclass(frozen=True)
class Entry:
    """One INR file and what the layout says of it (``-1`` where it says nothing)."""

    path: Path
    label: int
    index: int
    copy: int
    split: int  # 0 train, 1 val, 2 test


def detect(root: Path) -> str:
    """``nfn``, ``dwsnets`` or ``state-dicts``, from the directory structure."""
    if root.is_dir():
        if any(_NFN_DIR.fullmatch(d.name) for d in root.iterdir() if d.is_dir()):
            return "nfn"
        if any(_DWS_DIR.fullmatch(d.name) and (d / "checkpoints" / "model_final.pth").is_file()
               for d in root.iterdir() if d.is_dir()):
            return "dwsnets"
    return "state-dicts"


def nfn_entries(root: Path, split_at: tuple[int, int]) -> list[Entry]:
    out = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        m = _NFN_DIR.fullmatch(d.name)
        if not m:
            continue
        copy, label = (int(m.group(1)) + 1 if m.group(1) is not None else 0), int(m.group(2))
        for f in d.iterdir():
            fm = _NFN_FILE.fullmatch(f.name)
            if not fm:
                continue
            idx = int(fm.group(1))
            split = 0 if idx < split_at[0] else 1 if idx < split_at[1] else 2
            if copy and split != 0:
                raise ZooError(f"{f}: an extra copy (aug{copy - 1}) of image {idx}, which is "
                               f"not a training image (train < {split_at[0]})")
            out.append(Entry(f, label, idx, copy, split))
    if not out:
        raise ZooError(f"{root}: no randinit_smaller_*/net<idx>.pth files (NFN layout)")
    out.sort(key=lambda e: (e.copy, e.index))
    seen = set()
    for e in out:
        if (e.copy, e.index) in seen:
            raise ZooError(f"{e.path}: image {e.index} copy {e.copy} appears twice")
        seen.add((e.copy, e.index))
    return out


def dwsnets_entries(root: Path, val_size: int | None = None, seed: int = 0) -> list[Entry]:
    out = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        m = _DWS_DIR.fullmatch(d.name)
        f = d / "checkpoints" / "model_final.pth"
        if not m or not f.is_file():
            continue
        split = {"train": 0, "val": 1, "test": 2}[m.group(1)]
        out.append(Entry(f, int(m.group(2)), int(m.group(3)), 0, split))
    if not out:
        raise ZooError(f"{root}: no <name>_<split>_<label>_<idx>/checkpoints/model_final.pth "
                       "folders (DWSNets layout)")
    out.sort(key=lambda e: (e.split, e.index, e.label))
    train = [i for i, e in enumerate(out) if e.split == 0]
    if not any(e.split == 1 for e in out) and train:
        n = val_size if val_size is not None else max(1, len(train) // 10)
        g = torch.Generator().manual_seed(seed)
        for i in torch.randperm(len(train), generator=g)[:n].tolist():
            e = out[train[i]]
            out[train[i]] = Entry(e.path, e.label, e.index, e.copy, 1)
    return out


def state_dict_entries(sources: list[Path], exts: tuple[str, ...]) -> list[Entry]:
    files: list[Path] = []
    for src in sources:
        if src.is_dir():
            found = sorted(f for f in src.rglob("*") if f.suffix in exts and f.is_file())
            if not found:
                raise ZooError(f"{src}: no {'/'.join(exts)} files inside")
            files += found
        elif src.is_file():
            files.append(src)
        else:
            raise ZooError(f"{src}: no such file or directory")
    return [Entry(f, -1, i, 0, 2) for i, f in enumerate(files)]
