"""What every reader returns: :class:`ImageSet`, the splits, and the [-1, 1] rule."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import torch

from dng.errors import DataError

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
        k = len(self.classes)
        if n and k and (int(self.labels.min()) < 0 or int(self.labels.max()) >= k):
            bad = ((self.labels < 0) | (self.labels >= k)).nonzero().flatten()
            raise DataError(f"{self.name}: label {int(self.labels[bad[0]])} of image "
                            f"{int(bad[0])} is outside 0..{k - 1} ({len(bad)} such labels) — "
                            "a damaged label file?")
        if n and (int(self.split.min()) < 0 or int(self.split.max()) > 2):
            raise DataError(f"{self.name}: split values must be 0 (train), 1 (val) or 2 (test)")
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
