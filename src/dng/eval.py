"""Evaluate a trained run: ``metrics.json`` and pictures (reconstructions, confusion matrix,
learning curves, a 2-D projection of the latents)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from dng.data.datasets import normalize_images
from dng.errors import DNGError
from dng.models.inr2jls import VIEW_NAMES
from dng.device import resolve_device
from dng.metrics import predictions, recon_psnr
from dng.train import STAGE1_MODELS, STAGE2, load_config, load_run_model
from dng.zoo import Zoo
from dng.io import atomic_write_json
from dng.report.plots import plot_confusion, plot_curves, plot_latents


def confusion(pred: torch.Tensor, label: torch.Tensor, k: int) -> torch.Tensor:
    return torch.bincount(label * k + pred, minlength=k * k).reshape(k, k)


def evaluate_run(run: str | Path, zoo_dir: str | Path | None = None,
                 limit: int | None = None, device: str | torch.device = "cpu",
                 progress: bool = True) -> dict:
    """Write ``RUN/metrics.json`` and PNGs; return the metrics.

    ``limit``: evaluate on the first ``limit`` INRs of the val and test splits only (recorded
    in the metrics as ``eval_limit``). ``device``: where the model runs; ``progress``: show a
    progress bar per pass over a split."""
    from dng.report import image_grid

    run = Path(run)
    cfg = load_config(run)
    train_info = json.loads((run / "train.json").read_text()) if (run / "train.json").exists() else {}
    zoo_dir = zoo_dir or train_info.get("zoo")
    if zoo_dir is None:
        raise DNGError(f"{run}: which zoo? pass --zoo")
    zoo = Zoo(zoo_dir)
    dev = resolve_device(device)
    model = load_run_model(run, zoo).to(dev)
    test, val = zoo.load("test", max_copy=0), zoo.load("val", max_copy=0)
    if limit is not None:
        test = test.select(torch.arange(min(limit, len(test))))
        val = val.select(torch.arange(min(limit, len(val))))
    metrics: dict = {"model": cfg.model, "eval_limit": limit, "test_size": len(test),
                     "params": sum(p.numel() for p in model.parameters()),
                     "train_seconds": train_info.get("train_seconds"),
                     "steps": train_info.get("steps")}
    stage1 = model if cfg.model in STAGE1_MODELS else getattr(model, "backbone", None)
    if stage1 is not None:
        metrics["test_psnr"] = recon_psnr(stage1, test, progress=progress and "eval test PSNR")
        metrics["val_psnr"] = recon_psnr(stage1, val, progress=progress and "eval val PSNR")
        n = min(8, len(test))
        sub = test.select(torch.arange(n))
        with torch.no_grad():
            rec = stage1(sub.weights.to(dev)).cpu()
        C = zoo.image_shape[0]
        rows = [("image", normalize_images(sub.target_images()))]
        for v in range(rec.shape[1] // C):
            rows.append((f"dec {VIEW_NAMES[v]}", rec[:, v * C:(v + 1) * C]))
        image_grid(rows, run / "reconstructions.png")
    if cfg.model not in STAGE1_MODELS:
        pred, lab = predictions(model, test, progress=progress and "eval test accuracy")
        metrics["test_accuracy"] = float((pred == lab).float().mean())
        vp, vl = predictions(model, val, progress=progress and "eval val accuracy")
        metrics["val_accuracy"] = float((vp == vl).float().mean())
        cm = confusion(pred, lab, zoo.num_classes)
        plot_confusion(cm, zoo.classes, run / "confusion.png")
    if stage1 is not None and zoo.num_classes >= 2:
        n = min(2000, len(test))
        sub = test.select(torch.arange(n))
        with torch.no_grad():
            lat = torch.cat([stage1.encode(w).cpu() for w in sub.weight_batches(256, dev)])
        plot_latents(lat, sub.label, run / "latents_pca.png")
    runs, labels = [run], [cfg.model]
    if cfg.model == STAGE2 and cfg.from_run:
        runs, labels = [Path(cfg.from_run), run], ["stage 1", "stage 2"]
    plot_curves(runs, run / "curves.png", labels)
    atomic_write_json(run / "metrics.json", metrics)
    return metrics
