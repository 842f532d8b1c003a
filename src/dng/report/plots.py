"""Plots of a run: confusion matrix, learning curves (from ``metrics.csv``), a 2-D map of the
latents. Image grids are :func:`dng.report.image_grid`."""

from __future__ import annotations

import csv
from pathlib import Path

import torch


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
    if not rows:
        return {}
    out = {k: [float(r[k]) for r in rows] for k in keys}
    # the metric's name is in the file (older files: PSNR values are > 1, accuracies are not)
    out["stage1"] = rows[0].get("val_name") == "psnr" if "val_name" in rows[0] \
        else max(out["val_metric"]) > 1.0
    return out


def plot_curves(runs: list[Path], path: Path, labels: list[str] | None = None) -> None:
    """One row per run: training loss and the validation metric (PSNR for stage-1 runs,
    accuracy otherwise) at every evaluation, with markers."""
    plt = _plt()
    labels = labels or [Path(r).name for r in runs]
    fig, axes = plt.subplots(len(runs), 2, figsize=(9, 2.8 * len(runs)), squeeze=False)
    for (ax_loss, ax_val), run, label in zip(axes, runs, labels):
        c = read_curve(run)
        stage1 = c.get("stage1", False)
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
