"""Dataset readers on small synthetic files written in each real format (no network)."""

import gzip
import io
import pickle
import struct
import tarfile

import numpy as np
import pytest
import torch
from PIL import Image

from dng.data import load_dataset, normalize_images
from dng.data.datasets import load_image_folder, read_idx
from dng.errors import ConfigError, DataError


def write_idx(path, arr, gz=True):
    header = bytes([0, 0, 8, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if gz else data)


def make_idx_dir(root, n_train=60, n_test=10, gz=True, side=28):
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    suf = ".gz" if gz else ""
    write_idx(root / f"train-images-idx3-ubyte{suf}", rng.integers(0, 256, (n_train, side, side)), gz)
    write_idx(root / f"train-labels-idx1-ubyte{suf}", rng.integers(0, 10, n_train), gz)
    write_idx(root / f"t10k-images-idx3-ubyte{suf}", rng.integers(0, 256, (n_test, side, side)), gz)
    write_idx(root / f"t10k-labels-idx1-ubyte{suf}", rng.integers(0, 10, n_test), gz)
    return root


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_idx(tmp_path, gz):
    make_idx_dir(tmp_path / "mnist", gz=gz)
    s = load_dataset("mnist", tmp_path)
    assert s.images.shape == (70, 1, 28, 28) and s.images.dtype == torch.uint8
    # paper split rule by index: 45000/5000/rest -> here everything below 45000 is train
    assert s.counts() == {"train": 70, "val": 0, "test": 0}
    raw = read_idx(tmp_path / "mnist" / ("train-images-idx3-ubyte" + (".gz" if gz else "")))
    assert np.array_equal(s.images[:60, 0].numpy(), raw)


def test_split_sizes_are_the_papers(data_dir):
    """Train and test sets concatenated, split by index: Fashion-MNIST 55 000 / 5 000 / 10 000,
    MNIST 45 000 / 5 000 / 20 000 (the test split holds MNIST train images 50 000–59 999)."""
    f = load_dataset("fashion-mnist", data_dir)
    assert f.counts() == {"train": 55000, "val": 5000, "test": 10000} and len(f.classes) == 10
    m = load_dataset("mnist", data_dir)
    assert m.counts() == {"train": 45000, "val": 5000, "test": 20000}
    assert (m.split[:45000] == 0).all() and (m.split[50000:] == 2).all()


def test_truncated_idx(tmp_path):
    root = make_idx_dir(tmp_path / "mnist", gz=False)
    f = root / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated"):
        load_dataset("mnist", tmp_path)


def test_wrong_image_size(tmp_path):
    make_idx_dir(tmp_path / "mnist", side=20)
    with pytest.raises(DataError, match="expected 28x28"):
        load_dataset("mnist", tmp_path)


def test_missing_files(tmp_path):
    with pytest.raises(DataError, match="missing dataset file train-images-idx3-ubyte.gz"):
        load_dataset("mnist", tmp_path)


def test_foreign_idx(tmp_path):
    root = make_idx_dir(tmp_path / "mnist")
    (root / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"hello world, not idx"))
    with pytest.raises(DataError, match="bad magic"):
        load_dataset("mnist", tmp_path)


def _cifar_batch(n, label_key, n_classes, rng):
    return pickle.dumps({b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
                         label_key.encode(): list(rng.integers(0, n_classes, n)),
                         b"batch_label": b"x"}, protocol=2)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_cifar_python_batches_in_tar(tmp_path, name):
    rng = np.random.default_rng(0)
    if name == "cifar10":
        folder, files, key, k = "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)] + [
            "test_batch"], "labels", 10
        archive = "cifar-10-python.tar.gz"
    else:
        folder, files, key, k = "cifar-100-python", ["train", "test"], "fine_labels", 100
        archive = "cifar-100-python.tar.gz"
    with tarfile.open(tmp_path / archive, "w:gz") as tf:
        for f in files:
            raw = _cifar_batch(4, key, k, rng)
            info = tarfile.TarInfo(f"{folder}/{f}")
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))
    s = load_dataset(name, tmp_path)
    assert s.images.shape == (4 * len(files), 3, 32, 32)
    assert len(s.classes) == k


def test_cifar_pickle_with_code_is_refused(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (folder / "train").write_bytes(pickle.dumps({"data": Evil()}))
    (folder / "test").write_bytes(pickle.dumps({"data": 1}))
    with pytest.raises(DataError, match="refusing to load builtins.print"):
        load_dataset("cifar100", tmp_path)


def _png(arr):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_image_folder_and_tar(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "imgs"
    with tarfile.open(tmp_path / "imgs.tar", "w") as tf:
        for split, n in (("train", 10), ("test", 2)):
            for cls in ("cat", "dog"):
                d = root / split / cls
                d.mkdir(parents=True)
                for i in range(n):
                    raw = _png(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
                    (d / f"{i:04d}.png").write_bytes(raw)
                    info = tarfile.TarInfo(f"{split}/{cls}/{i:04d}.png")
                    info.size = len(raw)
                    tf.addfile(info, io.BytesIO(raw))
    a = load_image_folder(root)
    b = load_dataset(f"folder:{tmp_path / 'imgs.tar'}")
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert a.classes == ["cat", "dog"]
    assert a.counts() == {"train": 18, "val": 2, "test": 4}
    assert a.images.shape == (24, 3, 8, 8)


def test_image_folder_mixed_sizes(tmp_path):
    for i, side in enumerate((8, 9)):
        d = tmp_path / "train" / "a"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{i}.png").write_bytes(_png(np.zeros((side, side), np.uint8)))
    with pytest.raises(DataError, match="all images must match"):
        load_image_folder(tmp_path)


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match="no images under train"):
        load_image_folder(tmp_path)


def test_digits_offline_default():
    s = load_dataset("digits")
    assert s.images.shape == (1797, 1, 28, 28)
    assert s.counts() == {"train": 1257, "val": 180, "test": 360}
    x = normalize_images(s.images)
    assert x.min() >= -1 and x.max() <= 1


def test_unknown_dataset():
    with pytest.raises(ConfigError, match="unknown dataset 'nope'"):
        load_dataset("nope")
