"""Accuracy per CPU-minute with and without probe features (issue: probe activations).

Each job trains one model on one zoo for a wall-clock budget with the `cpu` preset and
``probes=K``, then scores the selected checkpoint on the zoo's whole test split. Finished jobs
are reused (a rerun only rewrites the table); a killed job resumes from its checkpoint.

    OMP_NUM_THREADS=1 python benchmarks/probes_table.py --zoo mnist=ZOO_DIR \\
        --jobs mnist:dng-encoder:64,mnist:dng-encoder:0 --minutes 20 --out RUNS

Run two of these with disjoint ``--jobs`` and the same ``--out`` to use both cores (one
thread each); ``--table`` writes ``RUNS/probes_table.md`` from whatever has finished.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from command import command_line
from dng.pipeline import STAGE1_SHARE, result_dir, run_classifier, run_inr2jls


def run_job(zoo: Path, out: Path, model: str, probes: int, minutes: float, seed: int,
            mode: str = "post", extra: dict | None = None,
            stage1_share: float = STAGE1_SHARE) -> dict:
    extra = dict(extra or {})
    tag = "".join(f"-{k}{v}" for k, v in sorted(extra.items()))
    if model == "inr2jls" and stage1_share != STAGE1_SHARE:  # default: the old names
        tag += f"-split{stage1_share:g}"
    run = out / f"{model}-k{probes}{'' if mode == 'post' else '-' + mode}{tag}-s{seed}"
    ov = {"probes": str(probes), "probe_mode": mode, **extra}
    t0 = time.perf_counter()
    if model == "inr2jls":
        m = run_inr2jls(zoo, run, minutes, seed, overrides={"inr2jls": ov}, device="cpu",
                        stage1_share=stage1_share)
        if stage1_share != STAGE1_SHARE:
            extra["stage1_share"] = stage1_share
    else:
        m = run_classifier(model, zoo, run, minutes, seed, overrides=ov, device="cpu")
    m = {**m, "job_seconds": time.perf_counter() - t0}
    (run / "job.json").write_text(json.dumps({**m, "method": model, "probes": probes,
                                              "probe_mode": mode, "set": extra,
                                              "minutes": minutes, "seed": seed,
                                              "zoo": str(zoo)}, indent=2))
    return m


def table(out: Path) -> str:
    rows = []
    for job in sorted(out.glob("*/*/job.json")):
        j = json.loads(job.read_text())
        method = j.get("method") or job.parent.name.rsplit("-k", 1)[0]  # (older job files)
        steps = []
        for d in ([job.parent / "stage1", job.parent / "stage2"] if method == "inr2jls"
                  else [result_dir(job.parent, method)]):
            steps.append(str(json.loads((d / "train.json").read_text())["steps"]))
        zoo = json.loads((Path(j["zoo"]) / "zoo.json").read_text())
        counts = zoo["dataset"]["counts"]
        k = f"{j['probes']}" + (f" ({j['probe_mode']})" if j.get("probe_mode", "post") != "post"
                                and j["probes"] else "") \
            + "".join(f", {f}={v}" for f, v in j.get("set", {}).items())
        rows.append((job.parent.parent.name, method, k, j["seed"], j["minutes"],
                     100 * j["test_accuracy"], j["test_size"], " + ".join(steps),
                     f"{counts['train']}/{counts['val']}/{counts['test']}",
                     j.get("test_psnr")))
    lines = ["| dataset | model | K (probes) | seed | minutes | test accuracy % | test INRs | "
             "steps | zoo train/val/test | test PSNR of stage 1 (dB) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        psnr = f"{r[9]:.2f}" if r[9] is not None else "–"
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:g} | **{r[5]:.2f}** | "
                     f"{r[6]} | {r[7]} | {r[8]} | {psnr} |")
    text = "\n".join(lines) + "\n"
    (out / "probes_table.md").write_text(text)
    return text


def merge_json(out: Path, path: Path, recipe: str = "nfn") -> int:
    """Add (or replace) this table's rows in ``path`` (benchmarks/results/cpu_table.json's
    format: one row per dataset, model, probes, seed, minutes and zoo size)."""
    import datetime

    rows = json.loads(path.read_text())["rows"] if path.is_file() else []
    new = []
    for job in sorted(out.glob("*/*/job.json")):
        j = json.loads(job.read_text())
        method = j.get("method") or job.parent.name.rsplit("-k", 1)[0]
        dirs = ([job.parent / "stage1", job.parent / "stage2"] if method == "inr2jls"
                else [result_dir(job.parent, method)])
        steps = [json.loads((d / "train.json").read_text())["steps"] for d in dirs]
        zoo = json.loads((Path(j["zoo"]) / "zoo.json").read_text())
        c = zoo["dataset"]["counts"]
        new.append({"dataset": job.parent.parent.name, "model": method,
                    "probes": j["probes"], "seed": j["seed"], "minutes": j["minutes"],
                    "steps": steps if len(steps) > 1 else steps[0],
                    "test_accuracy": round(j["test_accuracy"], 6), "test_inrs": j["test_size"],
                    "zoo": {"recipe": zoo.get("recipe", {}).get("name", recipe),
                            "train": c["train"], "val": c["val"], "test": c["test"]},
                    "date": datetime.date.fromtimestamp(job.stat().st_mtime).isoformat(),
                    **({"probe_mode": j["probe_mode"]}
                       if j["probes"] and j.get("probe_mode", "post") != "post" else {}),
                    **({"set": j["set"]} if j.get("set") else {})})
    key = lambda r: (r["dataset"], r["model"], r["probes"], r["seed"], r["minutes"],  # noqa
                     r["zoo"]["train"], r.get("probe_mode", "post"),
                     json.dumps(r.get("set", {}), sort_keys=True))
    keys = {key(r) for r in new}
    rows = [r for r in rows if key(r) not in keys] + new
    path.write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    return len(new)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", action="append", default=[], help="DATASET=ZOO_DIR (repeatable)")
    ap.add_argument("--jobs", default="", help="comma list of DATASET:MODEL:K[:pre|post]")
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="config override for every job (named in the run directory)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stage1-share", type=float, default=STAGE1_SHARE,
                    help="INR2JLS: the budget's share for stage 1 (the rest is stage 2's)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--table", action="store_true", help="only write the table")
    ap.add_argument("--json", help="also merge the rows into this JSON file "
                    "(benchmarks/results/cpu_table.json)")
    args = ap.parse_args()
    out = Path(args.out)
    zoos = dict(z.split("=", 1) for z in args.zoo)
    if not args.table:
        for job in filter(None, args.jobs.split(",")):
            ds, model, k, *mode = job.split(":")
            t0 = time.perf_counter()
            m = run_job(Path(zoos[ds]), out / ds, model, int(k), args.minutes, args.seed,
                        *(mode or ["post"]), extra=dict(kv.split("=", 1) for kv in args.set),
                        stage1_share=args.stage1_share)
            print(f"[probes_table] {ds} {model} K={k}: test accuracy "
                  f"{100 * m['test_accuracy']:.2f} % ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
    print(table(out))
    if args.json:
        print(f"{merge_json(out, Path(args.json))} rows merged into {args.json}")
    print(f"machine: {platform.processor() or platform.machine()}; reproduce: "
          f"{command_line()}")


if __name__ == "__main__":
    main()
