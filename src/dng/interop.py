"""Working with the rest of the PyTorch world: zoo splits as ``torch.utils.data`` datasets of
:class:`~dng.weights.MLPWeights`, with the collate function that batches them.

>>> ds = ZooDataset(Zoo("zoos/mnist"), "train")
>>> loader = DataLoader(ds, batch_size=64, shuffle=True, collate_fn=collate_mlp)
>>> for weights, labels, images in loader: ...   # MLPWeights (64 INRs), (64,), uint8 images
"""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from dng.errors import ShapeError
from dng.weights import MLPWeights


class ZooDataset(Dataset):
    """Item ``i``: ``(MLPWeights of one INR, label, uint8 image (C, H, W))``."""

    def __init__(self, zoo, split: str | None = None, max_copy: int | None = 0):
        self.data = zoo.load(split, max_copy=max_copy)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        w, y, u8 = self.data.batch(torch.tensor([int(i)]))
        return w, y[0], u8[0]


def collate_mlp(items) -> tuple[MLPWeights, torch.Tensor, torch.Tensor]:
    """Batch ``(MLPWeights, label, image)`` items: weights concatenated along the batch,
    labels and images stacked. A ``DataLoader``'s default collate cannot batch
    :class:`MLPWeights`; this can."""
    if not items:
        raise ShapeError("collate_mlp: empty batch")
    ws, ys, ims = zip(*items)
    return MLPWeights.cat(list(ws)), torch.stack(list(ys)), torch.stack(list(ims))
