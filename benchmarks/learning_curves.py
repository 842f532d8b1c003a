"""Validation accuracy against training wall-clock minutes, for runs of `probes_table.py`.

Answers "does the order of two models change with more minutes?": each run's validation
accuracy (its own ``metrics.csv``) against the minutes it had trained when it was measured —
for INR2JLS, stage 2's curve starts after stage 1's minutes, since stage 2 cannot start
earlier. Writes a figure and prints a markdown table of the best validation accuracy reached
by each run within 10, 20, 40 and 60 minutes.

    python benchmarks/learning_curves.py RUNS/cifar10/inr2jls-k64-s0 \\
        RUNS/cifar10/ng-gnn-lite-k64-s0 --out benchmarks/figures/cifar10_curves.png
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

from command import command_line

MARKS = (10, 20, 40, 60)


def _rows(path: Path) -> list[tuple[float, float]]:
    with open(path) as f:
        return [(float(r["seconds"]) / 60, float(r["val_metric"])) for r in csv.DictReader(f)
                if r["val_metric"] not in ("", "nan") and math.isfinite(float(r["val_metric"]))]


def curve(run: Path) -> tuple[str, list[tuple[float, float]]]:
    """``(label, [(minutes, val accuracy)])`` of one run folder."""
    job = json.loads((run / "job.json").read_text()) if (run / "job.json").is_file() else {}
    label = f"{job.get('method', run.name)} K={job.get('probes', '?')} s{job.get('seed', '?')}" \
        f" ({job.get('minutes', '?'):g} min)" if job else run.name
    if (run / "stage2" / "metrics.csv").is_file():  # INR2JLS: classification is stage 2
        s1 = float(json.loads((run / "stage1" / "train.json").read_text())["train_seconds"])
        return label, [(m + s1 / 60, v) for m, v in _rows(run / "stage2" / "metrics.csv")]
    return label, _rows(run / "metrics.csv")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="figure to write (PNG)")
    args = ap.parse_args()
    curves = [curve(r) for r in args.runs]
    print("| run | " + " | ".join(f"best val ≤ {m} min" for m in MARKS) + " |")
    print("|---|" + "---|" * len(MARKS))
    for label, pts in curves:
        cells = []
        for m in MARKS:
            vals = [v for t, v in pts if t <= m + 0.5]
            cells.append(f"{100 * max(vals):.2f} %" if vals and pts[-1][0] >= m - 1 else "–")
        print(f"| {label} | " + " | ".join(cells) + " |")
    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.2))
        for label, pts in curves:
            ax.plot([t for t, _ in pts], [100 * v for _, v in pts], marker=".", label=label)
        ax.set_xlabel("training wall-clock minutes (one core)")
        ax.set_ylabel("validation accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.out, dpi=110)
        print(f"figure: {args.out}")
    print(f"reproduce: {command_line()}")


if __name__ == "__main__":
    main()
