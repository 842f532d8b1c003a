"""CIFAR-10/100 python batches, read with an unpickler that admits only numpy arrays
(a tampered file cannot run code)."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import torch

from dng.errors import DataError
from dng.data.download import dng_home, find_or_fetch
from dng.data.folder import load_image_folder
from dng.data.images import ImageSet, split_by_index

# --------------------------------------------------------------------------------------------
# CIFAR python batches (pickles, read with an unpickler that admits only plain numpy arrays)


class _ArrayOnlyUnpickler(pickle.Unpickler):
    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"),
                ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                ("_codecs", "encode")}

    def find_class(self, module: str, name: str):  # noqa: D401
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_cifar_batch(raw: bytes, where: str) -> dict:
    try:
        d = _ArrayOnlyUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as e:  # noqa: BLE001 - any failure means a foreign or damaged file
        raise DataError(f"{where}: not a CIFAR python batch ({e})") from None
    if not isinstance(d, dict):
        raise DataError(f"{where}: not a CIFAR python batch (no dict inside)")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in d.items()}


_CIFAR10 = ("cifar-10-batches-py", ["data_batch_1", "data_batch_2", "data_batch_3",
                                    "data_batch_4", "data_batch_5"], ["test_batch"], "labels",
            "cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            "c58f30108f718f92721af3b95e74349a")
_CIFAR100 = ("cifar-100-python", ["train"], ["test"], "fine_labels",
             "cifar-100-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
             "eb9058c3a382ffc7106e4002c42a8d85")


def _load_cifar(name: str, spec: tuple, data_dir: Path | None, n_classes: int) -> ImageSet:
    folder, train_files, test_files, label_key, archive, url, md5 = spec
    blobs: dict[str, bytes] = {}
    roots = ([data_dir / folder, data_dir / name / folder, data_dir] if data_dir else [])
    roots.append(dng_home() / name / folder)
    wanted = train_files + test_files
    root = next((r for r in roots if all((r / f).is_file() for f in wanted)), None)
    if root is not None:
        blobs = {f: (root / f).read_bytes() for f in wanted}
    else:
        tar_path = find_or_fetch(data_dir, name, [archive], {archive: (url, md5)})[0]
        try:
            with tarfile.open(tar_path) as tf:
                for m in tf.getmembers():
                    base = m.name.rsplit("/", 1)[-1]
                    if m.isfile() and base in wanted:
                        blobs[base] = tf.extractfile(m).read()
        except (tarfile.TarError, OSError, EOFError) as e:
            raise DataError(f"{tar_path}: cannot read archive ({e})") from None
        missing = [f for f in wanted if f not in blobs]
        if missing:
            raise DataError(f"{tar_path}: archive lacks {', '.join(missing)}")
    xs, ys = [], []
    for f in wanted:
        d = _read_cifar_batch(blobs[f], f)
        if "data" not in d or label_key not in d:
            raise DataError(f"{f}: CIFAR batch without 'data'/'{label_key}' entries")
        x, yl = d["data"], d[label_key]
        # types first, so that nothing expands (shared nested lists can claim gigabytes)
        if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2:
            raise DataError(f"{f}: 'data' must be a uint8 (N, 3072) array, got "
                            f"{type(x).__name__} {getattr(x, 'dtype', '')}")
        if not isinstance(yl, (list, np.ndarray)) or len(yl) != x.shape[0] or (
                isinstance(yl, list) and not all(isinstance(v, (int, np.integer)) and
                                                 not isinstance(v, bool) for v in yl)):
            raise DataError(f"{f}: '{label_key}' must be {x.shape[0]} integers")
        y = np.asarray(yl, dtype=np.int64)
        if x.shape[1] != 3072 or y.shape != (x.shape[0],):
            raise DataError(f"{f}: expected (N, 3072) pixels and N labels, got {x.shape}, {y.shape}")
        xs.append(x.reshape(-1, 3, 32, 32))
        ys.append(y)
    images = torch.from_numpy(np.concatenate(xs))
    labels = torch.from_numpy(np.concatenate(ys))
    if labels.min() < 0 or labels.max() >= n_classes:
        raise DataError(f"{name}: labels outside 0..{n_classes - 1}")
    classes = [str(i) for i in range(n_classes)]
    return ImageSet(name, images, labels, split_by_index(len(labels), 45000, 5000), classes)


def load_cifar10(data_dir: Path | None = None) -> ImageSet:
    if data_dir is not None:
        tars = [p for p in (data_dir / "cifar10-jpeg.tar", data_dir / "cifar10" / "cifar10-jpeg.tar")
                if p.is_file()]
        if tars:  # a tar of JPEG folders (train/<class>/..., test/<class>/...)
            return load_image_folder(tars[0], name="cifar10")
    return _load_cifar("cifar10", _CIFAR10, data_dir, 10)


def load_cifar100(data_dir: Path | None = None) -> ImageSet:
    return _load_cifar("cifar100", _CIFAR100, data_dir, 100)
