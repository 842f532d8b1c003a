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
    total = float(cm.sum())
    acc = float(cm.diag().sum()) / total if total else float("nan")
    ax.set_title(f"test accuracy {100 * acc:.1f} % ({int(total)} networks)", fontsize=9)
    top = float(cm.max()) if cm.numel() else 0.0
    for i in range(k):
        for j in range(k):
            if k <= 20:  # white on dark cells, black on light ones
                dark = top > 0 and float(cm[i, j]) > 0.55 * top
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if dark else "black")
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
    name = rows[0].get("val_name") or ("psnr" if max((v for v in out["val_metric"] if v == v),
                                                     default=0.0) > 1.0 else "accuracy")
    out["val_name"] = name
    out["stage1"] = name == "psnr"
    return out


METRIC_TITLES = {"psnr": ("PSNR (dB)", 1.0), "accuracy": ("accuracy (%)", 100.0),
                 "kendall_tau": ("Kendall τ", 1.0), "mse": ("MSE", 1.0)}


def plot_curves(runs: list[Path], path: Path, labels: list[str] | None = None) -> None:
    """One row per run: training loss and the validation metric (PSNR for stage-1 runs,
    accuracy otherwise) at every evaluation, with markers."""
    plt = _plt()
    labels = labels or [Path(r).name for r in runs]
    fig, axes = plt.subplots(len(runs), 2, figsize=(9, 2.8 * len(runs)), squeeze=False)
    for (ax_loss, ax_val), run, label in zip(axes, runs, labels):
        c = read_curve(run)
        title, scale = METRIC_TITLES.get(c.get("val_name", "accuracy"),
                                         (c.get("val_name", "metric"), 1.0))
        if c:
            ax_loss.plot(c["step"], c["train_loss"], marker="o", ms=3)
            val = [(st, scale * v) for st, v in zip(c["step"], c["val_metric"])
                   if v == v]  # rows between validations carry the training loss only
            ax_val.plot([st for st, _ in val], [v for _, v in val], marker="o", ms=3,
                        color="C1")
        ax_loss.set_title(f"{label}: training loss", fontsize=9)
        ax_loss.set_yscale("log")
        ax_val.set_title(f"{label}: validation {title}", fontsize=9)
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
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_regression(pred: torch.Tensor, true: torch.Tensor, path: Path, target: str,
                    groups: list[str] | None = None, title: str = "") -> None:
    """Predicted vs true values (test split), one colour per group (e.g. activation)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    p, t = pred.double().numpy(), true.double().numpy()
    if groups is not None:
        for g in sorted(set(groups)):
            m = [x == g for x in groups]
            ax.scatter(t[m], p[m], s=6, alpha=0.6, label=g)
        ax.legend(fontsize=7, markerscale=2)
    else:
        ax.scatter(t, p, s=6, alpha=0.6)
    lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
    ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
    ax.set_xlabel(f"true {target}")
    ax.set_ylabel(f"predicted {target}")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
