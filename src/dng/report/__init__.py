"""Pictures: image-vs-rendering grids (more plots live in :mod:`dng.report.plots`)."""

from __future__ import annotations

from pathlib import Path

import torch


def _to_display(x: torch.Tensor):
    """(C, H, W) in [-1, 1] → numpy image for matplotlib."""
    x = (x.clamp(-1, 1) * 0.5 + 0.5).cpu()
    return x[0].numpy() if x.shape[0] == 1 else x.permute(1, 2, 0).numpy()


def image_grid(rows: list[tuple[str, torch.Tensor]], path: str | Path, titles: list[str] | None = None
               ) -> Path:
    """Write a PNG: one row per ``(name, images (N, C, H, W) in [-1, 1])``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = rows[0][1].shape[0]
    fig, axes = plt.subplots(len(rows), n, figsize=(1.2 * n, 1.3 * len(rows)), squeeze=False)
    for r, (name, imgs) in enumerate(rows):
        for c in range(n):
            ax = axes[r][c]
            ax.imshow(_to_display(imgs[c]), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, fontsize=8)
            if r == 0 and titles:
                ax.set_title(titles[c], fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def inr_titles(labels, psnr, classes: list[str]) -> list[str]:
    """Column titles of an image/INR grid: each INR's class and its fitting PSNR."""
    k = len(classes)
    return [f"{classes[int(l)] if 0 <= int(l) < k else '?'} {float(p):.1f}dB"
            for l, p in zip(labels, psnr)]
