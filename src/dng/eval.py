"""Evaluate a trained run: ``metrics.json`` and pictures (reconstructions, confusion matrix,
predicted vs true, learning curves, a 2-D projection of the latents)."""

from __future__ import annotations

from pathlib import Path

import torch

from dng.data.datasets import normalize_images
from dng.errors import DNGError
from dng.models.inr2jls import VIEW_NAMES
from dng.device import resolve_device
from dng.metrics import predictions, recon_psnr
from dng.train import load_config, load_run_model
from dng.train.checkpoint import task_for
from dng.zoo import Zoo
from dng.io import atomic_write_json, read_json
from dng.report.plots import plot_confusion, plot_curves, plot_latents, plot_regression


def confusion(pred: torch.Tensor, label: torch.Tensor, k: int) -> torch.Tensor:
    return torch.bincount(label * k + pred, minlength=k * k).reshape(k, k)


def evaluate_run(run: str | Path, zoo_dir: str | Path | None = None,
                 limit: int | None = None, device: str | torch.device = "cpu",
                 progress: bool = True) -> dict:
    """Write ``RUN/metrics.json`` and PNGs; return the metrics. What is scored and drawn is
    the run's task's: reconstructions and PSNR (a model that decodes images, or stands on one),
    accuracy and a confusion matrix (classification), Kendall τ, R², MSE and predicted-vs-true
    (regression).

    ``limit``: evaluate on the first ``limit`` networks of the val and test splits only
    (recorded in the metrics as ``eval_limit``). ``device``: where the model runs;
    ``progress``: show a progress bar per pass over a split."""
    run = Path(run)
    cfg = load_config(run)
    train_info = read_json(run / "train.json", "run record") if (run / "train.json").exists() \
        else {}
    zoo_dir = zoo_dir or train_info.get("zoo")
    if zoo_dir is None:
        raise DNGError(f"{run}: which zoo? pass --zoo")
    zoo = Zoo(zoo_dir)
    dev = resolve_device(device)
    task = task_for(cfg, zoo)
    model = load_run_model(run, zoo).to(dev)
    test, val = zoo.load("test", max_copy=0), zoo.load("val", max_copy=0)
    if limit is not None:
        test = test.select(torch.arange(min(limit, len(test))))
        val = val.select(torch.arange(min(limit, len(val))))
    metrics: dict = {"model": cfg.model, "task": task.to_dict(), "eval_limit": limit,
                     "test_size": len(test),
                     "params": sum(p.numel() for p in model.parameters()),
                     "train_seconds": train_info.get("train_seconds"),
                     "steps": train_info.get("steps")}
    decoder = model if hasattr(model, "targets") else getattr(model, "backbone", None)
    if task.name == "edit":
        _edits(model, task, test, val, metrics, run, dev, progress)
        decoder = None
    elif decoder is not None and zoo.renders:
        _reconstructions(decoder, zoo, test, val, metrics, run, dev, progress)
    if task.target is not None:
        for name, split in (("test", test), ("val", val)):
            pred, y = predictions(model, split, task.eval_batch_size, task=task,
                                  progress=progress and f"eval {name} {task.metric}")
            metrics.update({f"{name}_{k}": v for k, v in task.scores(pred, y).items()})
            if name == "test":
                _task_pictures(task, zoo, test, pred, y, metrics, run)
    if decoder is not None and zoo.renders and zoo.num_classes >= 2:
        n = min(2000, len(test))
        sub = test.select(torch.arange(n))
        with torch.no_grad():
            lat = torch.cat([decoder.encode(w).cpu() for w in sub.weight_batches(256, dev)])
        plot_latents(lat, sub.label, run / "latents_pca.png")
    runs, labels = [run], [cfg.model]
    if cfg.from_run:
        runs, labels = [Path(cfg.from_run), run], ["stage 1", "stage 2"]
    plot_curves(runs, run / "curves.png", labels)
    atomic_write_json(run / "metrics.json", metrics)
    return metrics


def _reconstructions(decoder, zoo, test, val, metrics, run, dev, progress) -> None:
    from dng.report import image_grid

    metrics["test_psnr"] = recon_psnr(decoder, test, progress=progress and "eval test PSNR")
    metrics["val_psnr"] = recon_psnr(decoder, val, progress=progress and "eval val PSNR")
    n = min(8, len(test))
    sub = test.select(torch.arange(n))
    with torch.no_grad():
        rec = decoder(sub.weights.to(dev)).cpu()
    C = zoo.image_shape[0]
    rows = [("image", normalize_images(sub.target_images()))]
    for v in range(rec.shape[1] // C):
        rows.append((f"dec {VIEW_NAMES[v]}", rec[:, v * C:(v + 1) * C]))
    image_grid(rows, run / "reconstructions.png")


def _edits(model, task, test, val, metrics, run, dev, progress) -> None:
    """Editing: per-pixel MSE on [-1, 1] and [0, 1]; original / target / prediction rows."""
    from dng.metrics import recon_errors
    from dng.report import image_grid

    for name, split in (("test", test), ("val", val)):
        mse = recon_errors(model, split, task.eval_batch_size,
                           progress and f"eval {name} {task.metric}", task=task)
        metrics.update({f"{name}_{k}": v for k, v in task.scores(mse).items()})
    sub = test.select(torch.arange(min(16, len(test))))
    u8 = sub.target_images()
    with torch.no_grad():
        pred = model(sub.weights.to(dev)).cpu()
    C = u8.shape[1]
    image_grid([("original", normalize_images(u8)), (f"target ({task.style})",
                task.target_images(u8)), ("prediction", pred[:, :C].clamp(-1, 1))],
               run / "edits.png")


def _task_pictures(task, zoo, test, pred, y, metrics, run) -> None:
    if task.name == "classify":
        plot_confusion(confusion(pred, y, zoo.num_classes), zoo.classes, run / "confusion.png")
    elif task.name == "regress":
        groups = None
        if getattr(test.weights, "act", None) is not None:
            from dng.arch import ACTIVATIONS

            groups = [ACTIVATIONS[int(a)] for a in test.weights.act[:, 0]]
        plot_regression(pred, y, run / "regression.png", task.target, groups,
                        f"test: Kendall τ {metrics['test_kendall_tau']:.3f}, "
                        f"R² {metrics['test_r2']:.3f}")
