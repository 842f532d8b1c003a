"""Models at equal CPU budget on one zoo and one task: generalization prediction (Kendall τ of
predicted vs true test accuracy on a CNN zoo, issue 21) or INR editing (test MSE, issue 22).

Each job trains one model (``dng train --task regress``, the `cpu` preset) on the zoo for a
wall-clock budget, then ``dng eval`` scores its best-validation checkpoint on the whole test
split. Finished jobs are reused (a rerun only rewrites the table).

    OMP_NUM_THREADS=1 python benchmarks/gen_table.py --zoo ZOO --jobs dng-encoder:0,statnn:0 \\
        --minutes 10 --out RUNS
    OMP_NUM_THREADS=1 python benchmarks/gen_table.py --task edit --set style=dilate --zoo ZOO \\
        --jobs inr-editor:0,inr2jls:0,nfn-editor:0,mlp-image:0 --minutes 10 --out RUNS

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


def run_job(zoo: Path, out: Path, model: str, seed: int, minutes: float, sets: list[str],
            task: str = "regress", own: list[str] = (), device: str = "cpu"):
    """One job; ``own``: this job's FIELD=VALUE settings (named in its run directory)."""
    tag = "".join(f"-{kv.replace('=', '')}" for kv in own)
    run = out / f"{model}{tag}-s{seed}"
    sets = list(sets) + list(own)
    if (run / "metrics.json").is_file():
        return json.loads((run / "metrics.json").read_text())
    dng = [sys.executable, "-m", "dng"]
    cmd = dng + ["train", "--zoo", str(zoo), "--model", model, "--task", task,
                 "--out", str(run), "--seed", str(seed), "--budget-minutes", str(minutes),
                 "--steps", "1000000", "--device", device] + \
        [x for s in sets for x in ("--set", s)]
    if (run / "config.json").is_file():
        cmd.append("--resume")
    subprocess.run(cmd, check=True)
    subprocess.run(dng + ["eval", str(run), "--device", device], check=True,
                   stdout=subprocess.DEVNULL)
    return json.loads((run / "metrics.json").read_text())


def table(out: Path, zoo: Path) -> str:
    z = json.loads((zoo / "zoo.json").read_text())
    st = z["stats"]
    rows = []
    for m in sorted(out.glob("*/metrics.json")):
        j = json.loads(m.read_text())
        cfg = json.loads((m.parent / "config.json").read_text())
        keys = [k for k in ("test_kendall_tau", "test_r2", "val_kendall_tau", "test_mse",
                            "test_mse01", "val_mse") if k in j]
        rows.append({"model": j["model"], "run": m.parent.name, "task": j["task"],
                     "seed": cfg["seed"],
                     "minutes": cfg["budget_minutes"], "steps": j["steps"],
                     "train_seconds": j["train_seconds"], **{k: j[k] for k in keys},
                     "test_rows": j["test_size"],
                     "zoo": {"name": z["dataset"]["name"], "recipe": z["recipe"],
                             "train": st["train"]["count"], "val": st["val"]["count"],
                             "test": st["test"]["count"]},
                     "date": datetime.date.today().isoformat()})
    cols = [k for k in ("test_kendall_tau", "test_r2", "val_kendall_tau", "test_mse",
                        "test_mse01", "val_mse") if rows and k in rows[0]]
    lines = ["| model | run | seed | minutes | steps | " + " | ".join(cols) + " |",
             "|---|---|---|---|---|" + "---|" * len(cols)]
    for r in rows:
        vals = " | ".join(f"**{r[c]:.4f}**" if c.startswith("test_") and i == 0 else
                          f"{r[c]:.4f}" for i, c in enumerate(cols))
        lines.append(f"| {r['model']} | {r['run']} | {r['seed']} | {r['minutes']} | "
                     f"{r['steps']} | {vals} |")
    text = "\n".join(lines) + "\n"
    (out / "gen_table.md").write_text(text)
    (out / "gen_table.json").write_text(json.dumps({"rows": rows}, indent=2))
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", required=True)
    ap.add_argument("--task", default="regress", choices=["regress", "edit"])
    ap.add_argument("--jobs", default="",
                    help="comma list of MODEL:SEED[:FIELD=VALUE[+FIELD=VALUE…]]")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    ap.add_argument("--out", required=True)
    ap.add_argument("--table", action="store_true", help="only write the table")
    ap.add_argument("--device", default="cpu", help="where the models train (cpu, cuda)")
    a = ap.parse_args()
    out, zoo = Path(a.out), Path(a.zoo)
    if not a.table:
        for job in filter(None, a.jobs.split(",")):
            model, seed, *own = job.split(":")
            own = own[0].split("+") if own else []
            t0 = time.perf_counter()
            m = run_job(zoo, out, model, int(seed), a.minutes, a.set, a.task, own, a.device)
            key = "test_kendall_tau" if a.task == "regress" else "test_mse"
            print(f"[gen_table] {model} seed {seed}: {key} {m[key]:.4f} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    print(table(out, zoo))
    print(f"machine: {platform.processor() or platform.machine()}; reproduce: "
          f"{command_line()}")


if __name__ == "__main__":
    main()
