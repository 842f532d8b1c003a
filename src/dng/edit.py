"""INR editing: write the edited INRs of a zoo as a new zoo (``dng edit``).

The styles are :func:`dng.data.styles.stylize` (re-exported here as ``dng.edit.stylize``), the
task is :class:`dng.tasks.Edit`: the paper's image output (``--model inr2jls``) and the
INR-output editor (``--output inr``, :mod:`dng.models.inr_editor`) train on it.
"""

from __future__ import annotations

from pathlib import Path

import torch

from dng.data.styles import STYLES, stylize
from dng.tasks import Edit, _normalize

__all__ = ["STYLES", "Edit", "edit_zoo", "stylize"]


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
    from dng.zoo.inrzoo import shard_meta
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
    meta = shard_meta(w, a.label, torch.arange(len(a)), a.split, a.copy, p)
    shards = [write_shard(out, 0, w, meta)]
    imgs = ImageSet(f"{zoo.manifest['dataset']['name']}-{cfg.style}", images, a.label,
                    a.split, zoo.classes)
    recipe = {"edited_from": str(zoo_dir), "run": str(run), "style": cfg.style}
    counts = {k: int((a.split == v).sum()) for v, k in enumerate(("train", "val", "test"))}
    return _finish(out, spec, recipe, 0, len(a), len(a), shards, imgs, zoo.classes, counts,
                   split_stats(p, a.split))
