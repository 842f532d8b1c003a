"""Build a zoo of small vision transformers here (``dng zoo fit --kind vit``): SimpleViTs
trained in units of ``unit`` at once (:mod:`dng.zoo.vitfit`), one row per network (its weights
after its own number of epochs, its test accuracy), one shard per unit of a format-3 zoo.
Resumable, locked and split by network id like the CNN zoos (:mod:`dng.zoo.cnnbuild`)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from dng.data.datasets import ImageSet, normalize_images
from dng.errors import ZooError
from dng.vit import ViTSpec, ViTWeights
from dng.zoo.cnnbuild import build_units, data_subsets, network_splits
from dng.zoo.netzoo import manifest, shard_tensors, trained_on
from dng.zoo.store import Zoo
from dng.zoo.vitfit import EPOCH_CHOICES, draw_epochs, init_vits, train_vits

# the fixtures' ViT (official_dng_vit: the paper's generator)
PAPER_VIT = dict(patch_size=4, dim=32, depth=2, heads=4, mlp_dim=64, dim_head=16)


def build_vit_zoo(images: ImageSet, out: str | Path, count: int, spec: ViTSpec | None = None,
                  epochs: tuple[int, ...] = EPOCH_CHOICES, unit: int = 32,
                  batch_size: int = 128, lr: float = 1e-3, seed: int = 0,
                  train_size: int | None = None, test_size: int | None = None,
                  steps_per_epoch: int | None = None,
                  progress: Callable[[int], None] | None = None, device=None) -> Zoo:
    """Train ``count`` SimpleViTs (the paper's small ViT by default) on ``images``; each draws
    its number of epochs from ``epochs``. An epoch is ``steps_per_epoch`` steps (default: the
    training images / ``batch_size``)."""
    out = Path(out)
    if count < 1 or unit < 1 or not epochs or min(epochs) < 0:
        raise ZooError("count and unit must be >= 1 and epochs non-negative")
    C, H, W = images.image_shape
    if H != W:
        raise ZooError(f"{images.name}: a SimpleViT needs square images, got {H}×{W}")
    spec = spec or ViTSpec(image_size=H, num_classes=len(images.classes), channels=C,
                           **PAPER_VIT)
    if (spec.image_size, spec.channels, spec.num_classes) != (H, C, len(images.classes)):
        raise ZooError(f"the ViT {spec.describe()} does not fit {images.name} images "
                       f"({C}×{H}×{W}, {len(images.classes)} classes)")
    epochs = tuple(sorted(set(int(e) for e in epochs)))
    (tr_x, tr_y), (te_x, te_y) = data_subsets(images, train_size, test_size, seed)
    if len(tr_x) == 0 or len(te_x) == 0:
        raise ZooError(f"{images.name}: ViTs need training and test images")
    spe = steps_per_epoch or max(1, len(tr_x) // batch_size)
    n_units = -(-count // unit)
    recipe = {"kind": "vit", "count": count, "epoch_choices": list(epochs), "unit": unit,
              "batch_size": batch_size, "lr": lr, "optimizer": "adam",
              "steps_per_epoch": spe, "train_images": len(tr_x), "test_images": len(te_x),
              "subsets": "seeded random", "minibatches": "shared by a unit's networks"}
    dataset = trained_on(images)
    targets = ["test_accuracy", "test_loss", "epoch", "net_id"]
    identity = manifest(spec, targets, dataset, recipe, seed, count, n_units)
    split_of = network_splits(count, seed)
    x, tx = normalize_images(tr_x).float(), normalize_images(te_x).float()

    def unit_rows(u: int):
        ids = torch.arange(u * unit, min(count, (u + 1) * unit))
        ep = draw_epochs(ids, seed, epochs)
        w0 = init_vits(spec, ids, seed)
        gen = torch.Generator().manual_seed(seed * 1_000_003 + u)
        rows, metas = [], []
        for idx, w, acc, loss in train_vits(w0, ep, x, tr_y, tx, te_y, spe, batch_size, lr,
                                            gen, progress, device):
            cols = {"test_accuracy": acc, "test_loss": loss, "epoch": ep[idx].double(),
                    "net_id": ids[idx].double()}
            rows.append(w)
            metas.append(shard_tensors(w, split_of[ids[idx]], cols))
        return ViTWeights.cat(rows), {k: torch.cat([mm[k] for mm in metas]) for k in metas[0]}

    return build_units(out, identity, n_units, unit_rows)
