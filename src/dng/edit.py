"""INR editing: the styles, the task, and writing edited INRs as a zoo.

**Styles** (the paper's editing job, OpenCV's conventions, on the uint8 image):

* ``dilate`` — grey dilation with a 3×3 square, one pass;
* ``erode`` — grey erosion with a 2×2 square whose anchor is its bottom-right cell, so the
  window is the pixel, the one above, the one to the left and the one above-left;
* ``gradient`` — dilation minus erosion, both with that 2×2 up-left window.

Out-of-image pixels never win (a constant border of 0 for max, 255 for min). Implemented with
``scipy.ndimage.maximum_filter`` / ``minimum_filter`` (a dependency already, well kept, and its
even-size windows sit up-left as OpenCV's do — its ``grey_dilation`` reflects the window and
would not), bit-exact against the reference's OpenCV targets (``editing_targets`` fixtures).

**Task** :class:`Edit`: the target is the stylised image in [-1, 1]; the loss is the MSE of the
model's output (a decoded image, or the rendering of edited INR weights); scores are the
per-pixel MSE on the [-1, 1] scale (``mse``) and on [0, 1] (``mse01`` = ``mse``/4).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dng.errors import ConfigError
from dng.tasks import Reconstruct, _normalize

STYLES = ("dilate", "erode", "gradient")


def stylize(images: torch.Tensor, style: str) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` → the edited uint8 images (see the module docstring)."""
    from scipy import ndimage

    if style not in STYLES:
        raise ConfigError(f"unknown style {style!r} (choose {', '.join(STYLES)})")
    if images.dtype != torch.uint8 or images.dim() != 4:
        raise ConfigError(f"stylize takes uint8 images (N, C, H, W), got {images.dtype} "
                          f"{tuple(images.shape)}")
    x = images.cpu().numpy()
    mx = lambda k: ndimage.maximum_filter(x, size=(1, 1, k, k), mode="constant", cval=0)  # noqa: E731
    mn = lambda k: ndimage.minimum_filter(x, size=(1, 1, k, k), mode="constant", cval=255)  # noqa: E731
    out = mx(3) if style == "dilate" else mn(2) if style == "erode" else mx(2) - mn(2)
    return torch.from_numpy(np.ascontiguousarray(out)).to(images.device)


@dataclass
class Edit(Reconstruct):
    """Edit the image an INR stores (see the module docstring): a reconstruction whose target
    is the stylised image."""

    style: str = "dilate"
    name: str = "edit"
    metric: str = "mse"

    def __post_init__(self):
        if self.style not in STYLES:
            raise ConfigError(f"unknown style {self.style!r} (choose {', '.join(STYLES)})")

    def target_images(self, images_u8: torch.Tensor) -> torch.Tensor:
        return _normalize(stylize(images_u8, self.style))

    def scores(self, mse, y=None):
        return {"mse": float(mse.mean()), "mse01": float(mse.mean()) / 4}

    def objective(self, metrics):
        return -metrics["mse"]

    def to_dict(self):
        return {"task": "edit", "style": self.style}


@torch.no_grad()
def edit_zoo(run: str | Path, zoo_dir: str | Path, out: str | Path, batch_size: int = 256):
    """Write the edited INRs of every network of ``zoo_dir`` (a run of an INR-output editor)
    as a zoo at ``out`` whose images are the stylised images: ``dng zoo show`` renders them
    side by side."""
    from dng.data.images import ImageSet
    from dng.errors import DNGError
    from dng.train import load_config, load_run_model
    from dng.weights import MLPWeights
    from dng.zoo import Zoo
    from dng.zoo.fit import psnr
    from dng.zoo.importer import _finish
    from dng.zoo.shards import split_stats, write_shard
    from dng.zoo.siren import render

    cfg = load_config(run)
    if cfg.task_name != "edit":
        raise DNGError(f"{run} is not an editing run (task {cfg.task_name})")
    zoo = Zoo(zoo_dir)
    model = load_run_model(Path(run), zoo)
    if not hasattr(model, "edited_weights"):
        raise DNGError(f"{run}: model {cfg.model} outputs images, not INRs (train with "
                       "--output inr to get edited INRs)")
    out = Path(out)
    if out.exists():
        raise DNGError(f"{out} already exists; choose another --out")
    a = zoo.arrays()
    parts = [model.edited_weights(w) for w in a.weight_batches(batch_size)]
    w = MLPWeights.cat(parts)
    images = stylize(a.target_images(), cfg.style)
    spec = zoo.spec
    _, H, W = zoo.image_shape
    p = psnr(render(w, spec, H, W), _normalize(images)).float()
    out.mkdir(parents=True)
    meta = {"label": a.label, "image_index": torch.arange(len(a)), "split": a.split,
            "copy": a.copy, "psnr": p}
    shards = [write_shard(out, 0, w, meta)]
    imgs = ImageSet(f"{zoo.manifest['dataset']['name']}-{cfg.style}", images, a.label,
                    a.split, zoo.classes)
    recipe = {"edited_from": str(zoo_dir), "run": str(run), "style": cfg.style}
    counts = {k: int((a.split == v).sum()) for v, k in enumerate(("train", "val", "test"))}
    return _finish(out, spec, recipe, 0, len(a), len(a), shards, imgs, zoo.classes, counts,
                   split_stats(p, a.split))
