"""The dataset registry: a name to its reader (and the bundled ``digits``). Readers live one
format to a file: :mod:`dng.data.idx`, :mod:`dng.data.cifar`, :mod:`dng.data.folder`;
:mod:`dng.data.images` holds :class:`ImageSet` (see :mod:`dng.data` for the splits)."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from dng.data.cifar import load_cifar10, load_cifar100
from dng.data.download import dng_home, download, find_or_fetch, md5_file, sha256_file
from dng.data.folder import load_image_folder
from dng.data.idx import load_fashion_mnist, load_mnist, read_idx
from dng.data.images import (SPLIT_NAMES, TEST, TRAIN, VAL, ImageSet,
                             normalize_images, split_by_index)
from dng.errors import ConfigError, suggest

# --------------------------------------------------------------------------------------------
# digits: scikit-learn's bundled 8x8 digits (UCI), shipped inside this package


def load_digits(data_dir: Path | None = None, size: int = 28) -> ImageSet:
    """The 1797 8×8 digits (values 0..16), bilinearly resampled to ``size``×``size`` uint8."""
    raw = (Path(__file__).with_name("digits.csv.gz")).read_bytes()
    table = np.loadtxt(io.StringIO(gzip.decompress(raw).decode()), delimiter=",", dtype=np.float32)
    x = torch.from_numpy(table[:, :64].reshape(-1, 1, 8, 8)) / 16.0
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    images = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    labels = torch.from_numpy(table[:, 64].astype(np.int64))
    return ImageSet("digits", images, labels, split_by_index(len(labels), 1257, 180),
                    [str(i) for i in range(10)])


DATASETS: dict[str, Callable[..., ImageSet]] = {
    "digits": load_digits,
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "cifar100": load_cifar100,
}


def dataset_names() -> list[str]:
    return sorted(DATASETS) + ["folder:PATH"]


def load_dataset(name: str, data_dir: str | os.PathLike | None = None) -> ImageSet:
    """Load a dataset by name; ``folder:PATH`` (or an existing path) loads an image folder/tar."""
    data_dir = Path(data_dir) if data_dir else (Path(os.environ["DNG_DATA_DIR"])
                                                if os.environ.get("DNG_DATA_DIR") else None)
    if name.startswith("folder:") and name[len("folder:"):].strip():
        return load_image_folder(Path(name[len("folder:"):]))
    key = name.lower().replace("_", "-")
    key = {"fashion": "fashion-mnist", "fashionmnist": "fashion-mnist", "cifar-10": "cifar10",
           "cifar-100": "cifar100"}.get(key, key)
    if not name.strip() or (name.startswith("folder:") and not name[7:].strip()):
        raise ConfigError(f"empty dataset name; choose one of {', '.join(dataset_names())}")
    if key not in DATASETS:
        if Path(name).exists():
            return load_image_folder(Path(name))
        raise ConfigError(f"unknown dataset {name!r}{suggest(key, DATASETS)}; choose one of "
                          f"{', '.join(dataset_names())}")
    return DATASETS[key](data_dir)


__all__ = ["DATASETS", "SPLIT_NAMES", "TEST", "TRAIN", "VAL", "ImageSet", "dataset_names",
           "dng_home", "download", "find_or_fetch", "load_cifar10", "load_cifar100",
           "load_dataset", "load_digits", "load_fashion_mnist", "load_image_folder",
           "load_mnist", "md5_file", "normalize_images", "read_idx", "sha256_file",
           "split_by_index"]
