"""Evaluate a trained run: ``metrics.json`` and pictures (reconstructions, confusion matrix,
learning curves, a 2-D projection of the latents)."""

from __future__ import annotations

import csv
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


def confusion(pred: torch.Tensor, label: torch.Tensor, k: int) -> torch.Tensor:
    return torch.bincount(label * k + pred, minlength=k * k).reshape(k, k)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(cm: torch.Tensor, classes: list[str], path: Path) -> None:
    plt = _plt()
    k = len(classes)
    fig, ax = plt.subplots(figsize=(0.5 * k + 2, 0.5 * k + 1.5))
    ax.imshow(cm.numpy(), cmap="Blues")
    ax.set_xticks(range(k), classes, rotation=90, fontsize=7)
    ax.set_yticks(range(k), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(k):
        for j in range(k):
            if k <= 20:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def read_curve(run: Path) -> dict[str, list[float]]:
    """A run's ``metrics.csv`` as columns (``step``, ``train_loss``, ``val_metric``, …)."""
    with open(Path(run) / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    keys = ("step", "seconds", "train_loss", "val_metric")
    return {k: [float(r[k]) for r in rows] for k in keys} if rows else {}


def plot_curves(runs: list[Path], path: Path, labels: list[str] | None = None) -> None:
    """One row per run: training loss and the validation metric (PSNR for stage-1 runs,
    accuracy otherwise) at every evaluation, with markers."""
    plt = _plt()
    labels = labels or [Path(r).name for r in runs]
    fig, axes = plt.subplots(len(runs), 2, figsize=(9, 2.8 * len(runs)), squeeze=False)
    for (ax_loss, ax_val), run, label in zip(axes, runs, labels):
        c = read_curve(run)
        stage1 = load_config(run).model in STAGE1_MODELS
        if c:
            ax_loss.plot(c["step"], c["train_loss"], marker="o", ms=3)
            ax_val.plot(c["step"], [v if stage1 else 100 * v for v in c["val_metric"]],
                        marker="o", ms=3, color="C1")
        ax_loss.set_title(f"{label}: training loss", fontsize=9)
        ax_loss.set_yscale("log")
        ax_val.set_title(f"{label}: validation {'PSNR (dB)' if stage1 else 'accuracy (%)'}",
                         fontsize=9)
        for a in (ax_loss, ax_val):
            a.set_xlabel("step")
            a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


@torch.no_grad()
def plot_latents(latents: torch.Tensor, labels: torch.Tensor, path: Path) -> None:
    """PCA of flattened latents (or readouts) to 2-D, coloured by class."""
    plt = _plt()
    x = latents.flatten(1).double()
    x = x - x.mean(0)
    _, _, v = torch.pca_lowrank(x, q=2, center=False)
    p = (x @ v[:, :2]).numpy()
    fig, ax = plt.subplots(figsize=(4.5, 4))
    sc = ax.scatter(p[:, 0], p[:, 1], c=labels.numpy(), cmap="tab10", s=6)
    fig.colorbar(sc, ax=ax)
    ax.set_title("latents, PCA (test split)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


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
