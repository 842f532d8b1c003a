"""Readers for the image datasets (see :mod:`dng.data` for the splits)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from dng.errors import ConfigError, DataError

TRAIN, VAL, TEST = 0, 1, 2
SPLIT_NAMES = ("train", "val", "test")


@dataclass
class ImageSet:
    """All images of one dataset, in memory.

    Attributes:
        name: dataset name (``mnist``, ``digits``, ...).
        images: uint8 ``(N, C, H, W)``.
        labels: int64 ``(N,)``.
        split: int8 ``(N,)``, 0 train / 1 val / 2 test.
        classes: class names, ``len(classes)`` = number of classes.
        checksum: sha256 over images and labels (identifies the data a zoo was fitted to).
    """

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    split: torch.Tensor
    classes: list[str]
    checksum: str = field(default="")

    def __post_init__(self) -> None:
        n = self.images.shape[0]
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise DataError(f"{self.name}: images must be uint8 (N, C, H, W), got "
                            f"{self.images.dtype} {tuple(self.images.shape)}")
        if n == 0:
            raise DataError(f"{self.name}: the dataset holds no images")
        if self.labels.shape != (n,) or self.split.shape != (n,):
            raise DataError(f"{self.name}: {n} images but {self.labels.shape[0]} labels / "
                            f"{self.split.shape[0]} split entries")
        if not self.checksum:
            h = hashlib.sha256()
            h.update(self.images.numpy().tobytes())
            h.update(self.labels.numpy().astype("<i8").tobytes())
            self.checksum = h.hexdigest()

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    def counts(self) -> dict[str, int]:
        return {SPLIT_NAMES[s]: int((self.split == s).sum()) for s in range(3)}

    def subset(self, index: torch.Tensor) -> "ImageSet":
        return ImageSet(self.name, self.images[index], self.labels[index], self.split[index],
                        self.classes)


def normalize_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 images to float32 in [-1, 1]: ``(u8 / 255 - 0.5) / 0.5`` (the reference's rule)."""
    return (images.float() / 255.0 - 0.5) / 0.5


def split_by_index(n: int, n_train: int, n_val: int) -> torch.Tensor:
    split = torch.full((n,), TEST, dtype=torch.int8)
    split[:n_train] = TRAIN
    split[n_train:n_train + n_val] = VAL
    return split


# --------------------------------------------------------------------------------------------
# Checksums and downloads


def _file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    return _file_digest(path, "sha256")


def md5_file(path: Path) -> str:
    return _file_digest(path, "md5")


def dng_home() -> Path:
    return Path(os.environ.get("DNG_HOME", Path.home() / ".cache" / "dng"))


def download(url: str, dest: Path, md5: str) -> Path:
    """Download ``url`` to ``dest`` (atomically) and check the md5 the source publishes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
            while chunk := r.read(1 << 20):
                f.write(chunk)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise DataError(f"could not download {url}: {e}. Without network, pass --data-dir "
                        "with the files (see README)") from None
    if md5_file(tmp) != md5:
        tmp.unlink(missing_ok=True)
        raise DataError(f"{url}: checksum mismatch (expected md5 {md5}); file discarded")
    os.replace(tmp, dest)
    return dest


def find_or_fetch(data_dir: Path | None, subdir: str, names: list[str],
                  sources: dict[str, tuple[str, str]] | None) -> list[Path]:
    """Locate files ``names`` (any of the alternatives separated by '|') under ``data_dir``.

    Looks in ``data_dir``, ``data_dir/subdir`` and the cache ``DNG_HOME/subdir``. When a file is
    missing and ``data_dir`` was not given, it is downloaded from ``sources`` into the cache.
    """
    roots = [data_dir, data_dir / subdir] if data_dir is not None else []
    roots.append(dng_home() / subdir)
    found = []
    for name in names:
        alts = name.split("|")
        hit = next((r / a for r in roots for a in alts if (r / a).is_file()), None)
        if hit is None:
            if data_dir is not None or sources is None or alts[0] not in sources:
                where = ", ".join(str(r) for r in roots)
                raise DataError(f"missing dataset file {alts[0]} (looked in {where})")
            url, md5 = sources[alts[0]]
            hit = download(url, dng_home() / subdir / alts[0], md5)
        found.append(hit)
    return found


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
        x = np.asarray(d["data"], dtype=np.uint8)
        y = np.asarray(d[label_key], dtype=np.int64)
        if x.ndim != 2 or x.shape[1] != 3072 or y.shape != (x.shape[0],):
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


# --------------------------------------------------------------------------------------------
# Generic image folders: <split>/<class>/<file>.{png,jpg,jpeg}, as a directory or a tar

_IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp")


def _decode(raw: bytes, where: str) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as im:
            mode = "L" if im.mode in ("L", "1", "I;16") else "RGB"
            arr = np.asarray(im.convert(mode))
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
    if name.startswith("folder:"):
        return load_image_folder(Path(name[len("folder:"):]))
    key = name.lower().replace("_", "-")
    key = {"fashion": "fashion-mnist", "fashionmnist": "fashion-mnist", "cifar-10": "cifar10",
           "cifar-100": "cifar100"}.get(key, key)
    if key not in DATASETS:
        if Path(name).exists():
            return load_image_folder(Path(name))
        raise ConfigError(f"unknown dataset {name!r}; choose one of {', '.join(dataset_names())}")
    return DATASETS[key](data_dir)
