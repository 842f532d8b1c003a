"""A zoo (or a part of it) in memory, as stacked tensors, and its batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import torch

from dng.errors import ZooError
from dng.weights import NetWeights


@dataclass
class ZooArrays:
    """A zoo (or a part of it) in memory, as stacked tensors.

    ``weights`` (M networks), ``label``, ``image_index``, ``split``, ``copy``, ``psnr`` (M,);
    ``images`` is the zoo's image table (uint8 ``(N, C, H, W)``; empty for zoos that do not
    render), indexed by ``image_index``; ``columns``: further named targets (M,) — a CNN's
    ``test_accuracy``, …
    """

    weights: NetWeights
    label: torch.Tensor
    image_index: torch.Tensor
    split: torch.Tensor
    copy: torch.Tensor
    psnr: torch.Tensor
    images: torch.Tensor
    columns: dict = field(default_factory=dict)

    def column(self, name: str) -> torch.Tensor:
        """A named target column: ``label``, ``psnr`` or one of ``columns``."""
        if name == "label":
            return self.label
        if name in self.columns:
            return self.columns[name]
        if name == "psnr" and torch.isfinite(self.psnr).any():
            return self.psnr
        have = ["label", *(["psnr"] if torch.isfinite(self.psnr).any() else []), *self.columns]
        raise ZooError(f"the zoo has no target column {name!r} (it has: {', '.join(have)})")

    def __len__(self) -> int:
        return int(self.label.shape[0])

    def to(self, device: torch.device | str) -> "ZooArrays":
        """Everything (weights, labels, indices, the image table) on ``device``: batches are
        then gathered there, with no host↔device copy per step."""
        return ZooArrays(self.weights.to(device), self.label.to(device),
                         self.image_index.to(device), self.split.to(device),
                         self.copy.to(device), self.psnr.to(device), self.images.to(device),
                         {k: v.to(device) for k, v in self.columns.items()})

    def select(self, index: torch.Tensor) -> "ZooArrays":
        return ZooArrays(self.weights[index], self.label[index], self.image_index[index],
                         self.split[index], self.copy[index], self.psnr[index], self.images,
                         {k: v[index] for k, v in self.columns.items()})

    def target_images(self, index: torch.Tensor | None = None) -> torch.Tensor:
        """uint8 images of the INRs (all, or those at ``index``)."""
        idx = self.image_index if index is None else self.image_index[index]
        return self.images[idx]

    def batch(self, index: torch.Tensor, device: torch.device | str | None = None,
              target: str | None = "label") -> tuple[NetWeights, torch.Tensor, torch.Tensor]:
        """``(weights, y, images_uint8)`` of the networks at ``index``, on ``device``; ``y`` is
        the ``target`` column (the class label by default)."""
        y, u8 = self.targets(index, target)
        w = self.weights[index]
        if device is not None:
            w, y, u8 = w.to(device), y.to(device), u8.to(device)
        return w, y, u8

    def targets(self, index: torch.Tensor, target: str | None = "label"
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(y, images_uint8)`` of the networks at ``index`` (where they lie)."""
        y = self.column(target)[index] if target else self.label[index]
        u8 = self.images[self.image_index[index]] if self.images.numel() else self.images[:0]
        return y, u8

    def weight_batches(self, batch_size: int, device: torch.device | str | None = None
                       ) -> Iterator[NetWeights]:
        """The weights alone, in order, ``batch_size`` INRs at a time (on ``device``)."""
        for i in range(0, len(self), batch_size):
            w = self.weights[i:i + batch_size]
            yield w if device is None else w.to(device)

    def batches(self, batch_size: int, shuffle: bool = False,
                generator: torch.Generator | None = None, drop_last: bool = False,
                device: torch.device | str | None = None, target: str | None = "label"
                ) -> Iterator[tuple[NetWeights, torch.Tensor, torch.Tensor]]:
        """Yield ``(weights, y, images_uint8)`` batches (moved to ``device`` if given)."""
        n = len(self)
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        stop = n - n % batch_size if drop_last else n
        for i in range(0, stop, batch_size):
            yield self.batch(order[i:i + batch_size], device, target)
