"""IDX files: MNIST and Fashion-MNIST (``.gz`` or raw)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from dng.errors import DataError
from dng.data.download import find_or_fetch
from dng.data.images import ImageSet, split_by_index

# --------------------------------------------------------------------------------------------
# IDX (MNIST, Fashion-MNIST)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (raw or gzip): big-endian header, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot read IDX file ({e})") from None
    if len(data) < 8 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path}: not an IDX uint8 file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header")
    dims = struct.unpack(">" + "I" * ndim, data[4:header])
    size = int(np.prod(dims))
    if len(data) - header != size:
        raise DataError(f"{path}: truncated or oversized IDX file: header says {dims} "
                        f"({size} bytes) but {len(data) - header} bytes follow")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_IDX_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
# md5 of the .gz archives as published by the sources (torchvision lists the same values).
_MNIST_MD5 = ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
              "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"]
_FASHION_MD5 = ["8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"]


def _load_idx_set(name: str, data_dir: Path | None, subdir: str, url: str, md5s: list[str],
                  n_train: int, n_val: int, classes: list[str]) -> ImageSet:
    sources = {f + ".gz": (url + f + ".gz", m) for f, m in zip(_IDX_FILES, md5s)}
    paths = find_or_fetch(data_dir, subdir, [f"{f}.gz|{f}" for f in _IDX_FILES], sources)
    tr_x, tr_y, te_x, te_y = (read_idx(p) for p in paths)
    for x, y, px, py in ((tr_x, tr_y, paths[0], paths[1]), (te_x, te_y, paths[2], paths[3])):
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DataError(f"{px}: expected 28x28 images, got shape {x.shape}")
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise DataError(f"{py}: {y.shape[0]} labels for {x.shape[0]} images in {px}")
    images = torch.from_numpy(np.concatenate([tr_x, te_x])[:, None].copy())
    labels = torch.from_numpy(np.concatenate([tr_y, te_y]).astype(np.int64))
    return ImageSet(name, images, labels, split_by_index(len(labels), n_train, n_val), classes)


def load_mnist(data_dir: Path | None = None) -> ImageSet:
    return _load_idx_set("mnist", data_dir, "mnist", _MNIST_URL, _MNIST_MD5, 45000, 5000,
                         [str(i) for i in range(10)])


def load_fashion_mnist(data_dir: Path | None = None) -> ImageSet:
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    return _load_idx_set("fashion-mnist", data_dir, "fashion-mnist", _FASHION_URL, _FASHION_MD5,
                         55000, 5000, classes)
