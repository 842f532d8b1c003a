"""Where training metrics go: ``RUN/metrics.csv`` always; TensorBoard (``RUN/tb``) when the
``tensorboard`` package is installed; Weights & Biases with ``wandb=true`` when ``wandb`` is.

A backend that fails (not installed when asked for, or an error while writing) says so once
on stderr and is switched off; the CSV file, the run's record, is never optional.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

CSV_FIELDS = ("step", "seconds", "train_loss", "val_metric", "val_name", "lr", "inr_per_s")


class RunLogger:
    """``scalars(step, {...})``, ``images(step, tag, (N, C, H, W) in [-1, 1])``,
    ``row(...)`` for the CSV, ``close()``. Only the main process makes one that writes."""

    def __init__(self, out: Path, config: dict, resume: bool, enabled: bool = True,
                 wandb: bool = False, resume_step: int | None = None):
        self.out, self.enabled = Path(out), enabled
        self.backends: dict[str, object] = {}
        if not enabled:
            return
        self.csv = self.out / "metrics.csv"
        if not resume or not self.csv.exists():
            self.csv.write_text(",".join(CSV_FIELDS) + "\n")
        elif resume_step is not None:
            self._truncate(resume_step)
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # optional: `pip install tensorboard` (see the README)
            SummaryWriter = None
        if SummaryWriter is not None:
            self._guard("tensorboard", lambda: self.backends.__setitem__(
                "tensorboard", SummaryWriter(str(self.out / "tb"))))
        if wandb:
            try:
                import wandb as wb
            except ImportError:
                self._warn("wandb", "not installed (pip install wandb); logging without it")
                wb = None
            if wb is not None:
                self._guard("wandb", lambda: self.backends.__setitem__("wandb", wb.init(
                    project="dng", dir=str(self.out), config=config, name=self.out.name,
                    resume="allow")))

    def _truncate(self, step: int) -> None:
        """Resuming from ``step``: drop the rows logged after it (the killed run's), so the
        continued file has no duplicate steps."""
        lines = self.csv.read_text().splitlines(keepends=True)
        keep = lines[:1]
        for ln in lines[1:]:
            head = ln.split(",", 1)[0]
            if head.isdigit() and int(head) <= step:
                keep.append(ln)
        if len(keep) != len(lines):
            tmp = self.csv.with_name(".metrics.csv.tmp")
            tmp.write_text("".join(keep))
            os.replace(tmp, self.csv)

    def _warn(self, name: str, why: str) -> None:
        print(f"dng train: {name} logging {why}", file=sys.stderr)

    def _guard(self, name: str, fn) -> None:
        """Run ``fn``; if it raises, say so once and switch the backend off."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - a logger must not stop training
            self.backends.pop(name, None)
            self._warn(name, f"failed ({type(e).__name__}: {e}); switched off for this run")

    def row(self, step: int, seconds: float, train_loss: float, val: float, val_name: str,
            lr: float, rate: float) -> None:
        if not self.enabled:
            return
        with open(self.csv, "a", newline="") as f:
            csv.writer(f).writerow([step, f"{seconds:.1f}", f"{train_loss:.6f}", f"{val:.6f}",
                                    val_name, f"{lr:.3g}", f"{rate:.1f}"])

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if "tensorboard" in self.backends:
            tb = self.backends["tensorboard"]
            self._guard("tensorboard",
                        lambda: [tb.add_scalar(k, v, step) for k, v in values.items()])
        if "wandb" in self.backends:
            run = self.backends["wandb"]
            self._guard("wandb", lambda: run.log(values, step=step))

    def images(self, step: int, tag: str, images) -> None:
        """Example reconstructions (``(N, C, H, W)`` in [-1, 1])."""
        if not self.backends:
            return
        x = (images.detach().float().clamp(-1, 1) * 0.5 + 0.5).cpu()
        if "tensorboard" in self.backends:
            tb = self.backends["tensorboard"]
            self._guard("tensorboard", lambda: tb.add_images(tag, x, step))
        if "wandb" in self.backends:
            import wandb as wb

            run = self.backends["wandb"]
            self._guard("wandb", lambda: run.log(
                {tag: [wb.Image(i.permute(1, 2, 0).numpy()) for i in x]}, step=step))

    def close(self) -> None:
        for name, b in list(self.backends.items()):
            self._guard(name, b.close if name == "tensorboard" else b.finish)
        self.backends.clear()
