"""The paper's two ablations on one zoo, equal wall-clock budget per variant.

    python benchmarks/ablations.py --zoo zoos/fashion-mnist --out runs/ablations --budget-minutes 15
    python benchmarks/ablations.py ... --only noise,inr2inr      # a subset (e.g. one per core)

Augmentation (INR2JLS, stage 1 + stage 2 in the budget, split 60/40):
``none`` (1 view), ``noise`` (weight noise, 1 view), ``rotflip`` (the 6 views — the default).
Architecture: ``inr2jls`` (= rotflip), ``inr2inr`` (decode SIREN weights, loss on the rendered
image; stage 2 on the readout), ``encoder-only`` (DNG-Encoder + MLP head, no decoder),
``no-latent-generator`` (one Linear from the readout to all tokens).

Finished variants are reused (their ``metrics.json``), so the script resumes; ``--table``
trains nothing and writes ``ablations.md`` from what is there ("–" for variants not run).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from dng.pipeline import result_dir, run_classifier, run_inr2jls
from dng.train import STAGE1

VARIANTS = {
    # name: (kind, stage-1 overrides)
    "none": ("inr2jls", {"augment": "none"}),
    "noise": ("inr2jls", {"augment": "noise:0.01"}),
    "rotflip": ("inr2jls", {"augment": "rotflip"}),
    "inr2inr": ("inr2jls", {"model": "inr2inr", "augment": "none"}),
    "encoder-only": ("dng-encoder", {}),
    # 6 views, like the INR2JLS row it is compared with (the cpu preset now has one view)
    "no-latent-generator": ("inr2jls", {"latent_generator": "false", "augment": "rotflip"}),
}
GROUPS = (("augmentation", ("none", "noise", "rotflip")),
          ("architecture", ("rotflip", "inr2inr", "encoder-only", "no-latent-generator")))


def run_variant(name: str, zoo: Path, out: Path, minutes: float) -> dict:
    kind, s1 = VARIANTS[name]
    if kind == "dng-encoder":
        return run_classifier("dng-encoder", zoo, out / name, minutes)
    return run_inr2jls(zoo, out / name, minutes, overrides={STAGE1: dict(s1)})


def _steps(out: Path, name: str, metrics: dict) -> str:
    if VARIANTS[name][0] != "inr2jls":
        return str(metrics.get("steps", "–"))
    s1 = out / name / "stage1" / "train.json"
    s1_steps = json.loads(s1.read_text())["steps"] if s1.is_file() else "?"
    return f"{s1_steps} + {metrics.get('steps', '?')}"


def table(out: Path, zoo: Path, minutes: float) -> str:
    lines = [f"# Ablations, {minutes:g} min per variant (`cpu` preset), zoo `{zoo}`, runs in "
             f"`{out}`", ""]
    for group, rows in GROUPS:
        lines += [f"## {group}", "", "| variant | test accuracy (%) | val accuracy (%) | "
                  "test PSNR (dB) | steps (stage 1 + 2) |", "|---|---|---|---|---|"]
        for r in rows:
            label = "inr2jls (rotflip)" if r == "rotflip" and group == "architecture" else r
            m = result_dir(out / r, VARIANTS[r][0]) / "metrics.json"
            if not m.is_file():
                lines.append(f"| {label} | – | – | – | – |")
                continue
            d = json.loads(m.read_text())
            psnr = d.get("test_psnr")
            steps = _steps(out, r, d)
            lines.append(f"| {label} | {100 * d['test_accuracy']:.2f} | "
                         f"{100 * d['val_accuracy']:.2f} | "
                         f"{'–' if psnr is None else f'{psnr:.2f}'} | {steps} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zoo", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-minutes", "--minutes", dest="minutes", type=float, default=15.0,
                    help="wall-clock minutes per variant (--minutes: older spelling)")
    ap.add_argument("--only", help=f"comma list of {', '.join(VARIANTS)}")
    ap.add_argument("--table", action="store_true",
                    help="train nothing: write ablations.md from the finished variants")
    args = ap.parse_args(argv)
    out = Path(args.out)
    names = [] if args.table else args.only.split(",") if args.only else list(VARIANTS)
    bad = [n for n in names if n not in VARIANTS]
    if bad:
        ap.error(f"unknown variant(s) {bad}; choose from {list(VARIANTS)}")
    for n in names:
        t0 = time.perf_counter()
        m = run_variant(n, Path(args.zoo), out, args.minutes)
        print(f"[ablation] {n}: test accuracy {100 * m['test_accuracy']:.2f} % "
              f"({time.perf_counter() - t0:.0f} s incl. evaluation)", flush=True)
    text = table(out, Path(args.zoo), args.minutes)
    (out / "ablations.md").write_text(text)
    print(text)
    print(f"machine: {platform.processor() or platform.machine()}; command: "
          f"python {' '.join(sys.argv)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
