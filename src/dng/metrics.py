"""Scores of a model over a zoo split, as its task (:mod:`dng.tasks`) defines them: predictions
and targets, reconstruction error and PSNR. Takes a model, data and a task; it never imports
training code and names no model.
"""

from __future__ import annotations

import sys

import torch

from dng.data.datasets import normalize_images
from dng.device import module_device
from dng.zoo.fit import psnr_from_mse


def recon_mse(model, weights, images_u8: torch.Tensor) -> torch.Tensor:
    """Per-INR mean squared error ``(B,)`` of a stage-1 model's decoded views against the
    views of the images (in [-1, 1]). Callers decide about gradients."""
    rec = model(weights)
    return (rec - model.targets(normalize_images(images_u8))).pow(2).flatten(1).mean(1)


def _maybe_bar(batches, total: int, batch_size: int, desc: str | None):
    """``batches`` as they are, or wrapped in a progress bar (counting INRs) when ``desc``."""
    if not desc:
        yield from batches
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="INR", file=sys.stderr, leave=False,
              mininterval=0.5 if sys.stderr.isatty() else 30.0) as bar:
        for b in batches:
            yield b
            bar.update(min(batch_size, total - bar.n))


@torch.no_grad()
def predictions(model, data, batch_size: int = 256, progress: str | None = None,
                task=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The task's predictions and targets ``(M,)`` (on the CPU) over all of ``data`` (default
    task: classification — predicted classes and labels); only the weights travel to the
    model's device. ``progress``: a label to show a progress bar."""
    from dng.tasks import Classify

    task = task or Classify()
    dev = module_device(model)
    batches = _maybe_bar(data.weight_batches(batch_size, dev), len(data), batch_size, progress)
    preds = [task.predict(model, w).cpu() for w in batches]
    return torch.cat(preds), data.column(task.target)


@torch.no_grad()
def recon_errors(model, data, batch_size: int = 64, progress: str | None = None, task=None
                 ) -> torch.Tensor:
    """Per-INR MSE ``(M,)`` (on the CPU) of a model that outputs images over all of ``data``:
    against the INRs' own images (:func:`recon_mse`), or the task's target images (editing);
    batches run on the model's device."""
    dev = module_device(model)
    err = task.per_inr_mse if task is not None and hasattr(task, "per_inr_mse") else \
        (lambda m, w, u8: recon_mse(m, w, u8))
    batches = _maybe_bar(data.batches(batch_size, device=dev), len(data), batch_size, progress)
    return torch.cat([err(model, w, u8).cpu() for w, _, u8 in batches])


def recon_psnr(model, data, batch_size: int = 64, progress: str | None = None) -> float:
    """Mean per-INR PSNR (dB) of a stage-1 model's decoded views over ``data``."""
    return float(psnr_from_mse(recon_errors(model, data, batch_size, progress)).mean())


def evaluate(model, data, task, batch_size: int | None = None) -> dict:
    """The task's scores over all of ``data`` (reconstruction: ``loss`` = mean MSE and
    ``psnr``; classification: ``accuracy``; regression: ``kendall_tau``, ``r2``, ``mse``).
    Leaves the model in eval mode."""
    model.eval()
    bs = batch_size or task.eval_batch_size
    if task.needs_images and task.target is None:
        return task.scores(recon_errors(model, data, bs, task=task))
    pred, y = predictions(model, data, bs, task=task)
    return task.scores(pred, y)
