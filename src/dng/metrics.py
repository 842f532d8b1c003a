"""Scores of a model over a zoo split: predicted classes, accuracy, reconstruction error and
PSNR. Takes a model and data and dispatches on the model's interface (a stage-1 model has
``targets(images)``; a classifier has ``predict(weights)``); it never imports training code.
"""

from __future__ import annotations

import sys

import torch

from dng.data.datasets import normalize_images
from dng.device import module_device
from dng.zoo.fit import psnr_from_mse


def is_reconstruction_model(model) -> bool:
    """Stage-1 models (INR2JLS, INR→INR) decode images: they expose ``targets(images)``."""
    return hasattr(model, "targets")


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
def predictions(model, data, batch_size: int = 256, progress: str | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted classes and true labels ``(M,)`` (on the CPU) over all of ``data``; only the
    weights travel to the model's device. ``progress``: a label to show a progress bar."""
    dev = module_device(model)
    batches = _maybe_bar(data.weight_batches(batch_size, dev), len(data), batch_size, progress)
    preds = [model.predict(w).argmax(1).cpu() for w in batches]
    return torch.cat(preds), data.label


@torch.no_grad()
def recon_errors(model, data, batch_size: int = 64, progress: str | None = None
                 ) -> torch.Tensor:
    """Per-INR reconstruction MSE ``(M,)`` (on the CPU) of a stage-1 model over all of
    ``data`` (see :func:`recon_mse`); batches run on the model's device."""
    dev = module_device(model)
    batches = _maybe_bar(data.batches(batch_size, device=dev), len(data), batch_size, progress)
    return torch.cat([recon_mse(model, w, u8).cpu() for w, _, u8 in batches])


def recon_psnr(model, data, batch_size: int = 64, progress: str | None = None) -> float:
    """Mean per-INR PSNR (dB) of a stage-1 model's decoded views over ``data``."""
    return float(psnr_from_mse(recon_errors(model, data, batch_size, progress)).mean())


def evaluate(model, data, batch_size: int | None = None) -> dict:
    """Metrics over all of ``data``: ``loss`` (mean MSE) and ``psnr`` (mean per-INR PSNR) for a
    stage-1 model, ``accuracy`` for a classifier. Leaves the model in eval mode."""
    model.eval()
    if is_reconstruction_model(model):
        mse = recon_errors(model, data, batch_size or 64)
        return {"loss": float(mse.mean()), "psnr": float(psnr_from_mse(mse).mean())}
    pred, label = predictions(model, data, batch_size or 256)
    return {"accuracy": float((pred == label).float().mean())}


def objective(metrics: dict) -> float:
    """The number a run maximises when it keeps its best checkpoint: accuracy, or −MSE."""
    return metrics["accuracy"] if "accuracy" in metrics else -metrics["loss"]


def metric_name(metrics: dict) -> str:
    """The validation metric's own name: ``accuracy`` or ``psnr``."""
    return "accuracy" if "accuracy" in metrics else "psnr"
