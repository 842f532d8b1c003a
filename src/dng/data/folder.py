"""Image folders and tars ``<split>/<class>/<file>`` (PNG/JPEG), the CIFAR-10 JPEG tar included."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from dng.errors import DataError
from dng.data.images import TEST, TRAIN, VAL, ImageSet

# --------------------------------------------------------------------------------------------
# Generic image folders: <split>/<class>/<file>.{png,jpg,jpeg}, as a directory or a tar

_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp")


def max_pixels() -> int:
    """The largest image a folder may hold (``DNG_MAX_PIXELS``, default 4096 × 4096): a few
    hundred bytes of PNG can claim gigabytes once decoded."""
    import os

    v = os.environ.get("DNG_MAX_PIXELS", "")
    return int(v) if v.isdigit() and int(v) > 0 else 4096 * 4096


def _decode(raw: bytes, where: str) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as im:
            w, h = im.size  # read from the header, before decoding
            if w * h > max_pixels():
                raise DataError(f"{where}: {w}×{h} pixels — more than the limit of "
                                f"{max_pixels()} (DNG_MAX_PIXELS)")
            mode = "L" if im.mode in ("L", "1", "I;16") else "RGB"
            arr = np.asarray(im.convert(mode))
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001
        raise DataError(f"{where}: cannot decode image ({e})") from None
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def load_image_folder(path: Path, name: str | None = None, val_fraction: float = 0.1) -> ImageSet:
    """Load ``<split>/<class>/<file>`` images from a directory or a (optionally gzipped) tar.

    Splits: ``train`` (its last ``val_fraction`` of each sorted listing becomes val) and
    ``test``; a missing ``test`` folder gives an empty test split. Classes are the sorted
    union of class folder names. All images must have one size and channel count.
    """
    path = Path(path)
    entries: list[tuple[str, str, str, Callable[[], bytes]]] = []
    if path.is_dir():
        for f in sorted(path.rglob("*")):
            rel = f.relative_to(path).parts
            if f.is_file() and len(rel) == 3 and f.suffix.lower() in _IMAGE_EXT:
                entries.append((rel[0], rel[1], str(f), f.read_bytes))
        tf = None
    elif path.is_file():
        try:
            tf = tarfile.open(path)
            members = tf.getmembers()
        except (tarfile.TarError, OSError, EOFError) as e:
            raise DataError(f"{path}: not a readable tar of image folders ({e})") from None
        for m in sorted(members, key=lambda m: m.name):
            parts = m.name.strip("./").split("/")
            if m.isfile() and len(parts) == 3 and Path(parts[2]).suffix.lower() in _IMAGE_EXT:
                entries.append((parts[0], parts[1], f"{path} member {m.name}",
                                (lambda m=m: tf.extractfile(m).read())))
    else:
        raise DataError(f"{path}: no such image folder or tar")
    train = [e for e in entries if e[0] == "train"]
    test = [e for e in entries if e[0] == "test"]
    if not train:
        raise DataError(f"{path}: no images under train/<class>/ (expected <split>/<class>/<file>)")
    classes = sorted({e[1] for e in train + test})
    cls_index = {c: i for i, c in enumerate(classes)}
    arrays, labels = [], []
    try:
        for split, cls, where, read in train + test:
            try:
                raw = read()
            except (tarfile.TarError, OSError, EOFError) as e:
                raise DataError(f"{where}: cannot read ({e})") from None
            arrays.append(_decode(raw, where))
            labels.append(cls_index[cls])
            if arrays[-1].shape != arrays[0].shape:
                raise DataError(f"{where}: image of shape {arrays[-1].shape}, but the first "
                                f"image has {arrays[0].shape}; all images must match")
    finally:
        if tf is not None:
            tf.close()
    # val = the last `val_fraction` of each class's sorted train listing (class-balanced;
    # for the CIFAR-10 JPEG tar this gives 45 000 / 5 000 like the paper's split sizes).
    n_train = len(train)
    split = torch.full((len(arrays),), TEST, dtype=torch.int8)
    split[:n_train] = TRAIN
    lab = torch.tensor(labels[:n_train])
    for c in range(len(classes)):
        idx = (lab == c).nonzero().flatten()
        k = int(round(len(idx) * val_fraction))
        if k:
            split[idx[-k:]] = VAL
    images = torch.from_numpy(np.stack(arrays))
    return ImageSet(name or path.stem, images, torch.tensor(labels, dtype=torch.int64), split,
                    classes)
