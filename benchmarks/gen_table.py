"""Generalization prediction at equal CPU budget: Kendall τ of predicted vs true test accuracy
on a CNN zoo (issue 21's table).

Each job trains one model (``dng train --task regress``, the `cpu` preset) on the zoo for a
wall-clock budget, then ``dng eval`` scores its best-validation checkpoint on the whole test
split. Finished jobs are reused (a rerun only rewrites the table).

    OMP_NUM_THREADS=1 python benchmarks/gen_table.py --zoo ZOO --jobs dng-encoder:0,statnn:0 \\
        --minutes 10 --out RUNS

Run two with disjoint ``--jobs`` and the same ``--out`` to use both cores; ``--table`` writes
``RUNS/gen_table.md`` and ``RUNS/gen_table.json`` from whatever has finished.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

from command import command_line


def run_job(zoo: Path, out: Path, model: str, seed: int, minutes: float, sets: list[str]):
    run = out / f"{model}-s{seed}"
    if (run / "metrics.json").is_file():
        return json.loads((run / "metrics.json").read_text())
    dng = [sys.executable, "-m", "dng"]
    cmd = dng + ["train", "--zoo", str(zoo), "--model", model, "--task", "regress",
                 "--out", str(run), "--seed", str(seed), "--budget-minutes", str(minutes),
                 "--steps", "1000000"] + [x for s in sets for x in ("--set", s)]
    if (run / "config.json").is_file():
        cmd.append("--resume")
    subprocess.run(cmd, check=True)
    subprocess.run(dng + ["eval", str(run)], check=True, stdout=subprocess.DEVNULL)
    return json.loads((run / "metrics.json").read_text())


def table(out: Path, zoo: Path) -> str:
    z = json.loads((zoo / "zoo.json").read_text())
    st = z["stats"]
    rows = []
    for m in sorted(out.glob("*/metrics.json")):
        j = json.loads(m.read_text())
        cfg = json.loads((m.parent / "config.json").read_text())
        rows.append({"model": j["model"], "seed": cfg["seed"],
                     "minutes": cfg["budget_minutes"], "steps": j["steps"],
                     "train_seconds": j["train_seconds"],
                     "test_kendall_tau": j["test_kendall_tau"], "test_r2": j["test_r2"],
                     "val_kendall_tau": j["val_kendall_tau"], "test_rows": j["test_size"],
                     "zoo": {"name": z["dataset"]["name"], "recipe": z["recipe"],
                             "train": st["train"]["count"], "val": st["val"]["count"],
                             "test": st["test"]["count"]},
                     "date": datetime.date.today().isoformat()})
    lines = ["| model | seed | minutes | steps | test Kendall τ | test R² | val Kendall τ |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['seed']} | {r['minutes']} | {r['steps']} | "
                     f"**{r['test_kendall_tau']:.3f}** | {r['test_r2']:.3f} | "
                     f"{r['val_kendall_tau']:.3f} |")
    text = "\n".join(lines) + "\n"
    (out / "gen_table.md").write_text(text)
    (out / "gen_table.json").write_text(json.dumps({"rows": rows}, indent=2))
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", required=True)
    ap.add_argument("--jobs", default="", help="comma list of MODEL:SEED")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    ap.add_argument("--out", required=True)
    ap.add_argument("--table", action="store_true", help="only write the table")
    a = ap.parse_args()
    out, zoo = Path(a.out), Path(a.zoo)
    if not a.table:
        for job in filter(None, a.jobs.split(",")):
            model, seed = job.split(":")
            t0 = time.perf_counter()
            m = run_job(zoo, out, model, int(seed), a.minutes, a.set)
            print(f"[gen_table] {model} seed {seed}: test Kendall τ {m['test_kendall_tau']:.3f} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    print(table(out, zoo))
    print(f"machine: {platform.processor() or platform.machine()}; reproduce: "
          f"{command_line()}")


if __name__ == "__main__":
    main()
