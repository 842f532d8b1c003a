"""Fitting the paper's kind of zoo (`--recipe nfn`: 300 steps, lr 1e-3) end to end, with and
without glibc keeping freed memory (``DNG_MALLOC_TUNING``), side by side in one run.

    python benchmarks/fit_speed.py --data-dir DIR [--n 1024] [--workers 2] [--chunks 32]

Each configuration is one ``dng zoo fit`` process (a fresh zoo, the first ``n`` MNIST training
images, ``--limit``), timed from start to exit: reading MNIST, fitting, writing shards and
statistics. Both fit the same INRs (format 2: each init from the seed and the INR id), so the
per-layer statistics and PSNR of the two zoos are compared too (the issue's "same result").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

from command import command_line
from dng.zoo import Zoo
from dng.zoo.stats import layer_stats


def fit(data_dir: str, n: int, workers: int, chunk: int, tuning: bool, out: str) -> dict:
    env = {**os.environ, "DNG_MALLOC_TUNING": "1" if tuning else "0", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "dng.cli", "zoo", "fit", "--dataset", "mnist", "--data-dir",
           data_dir, "--limit", str(n), "--out", out, "--workers", str(workers), "--chunk",
           str(chunk), "--shard-size", str(max(chunk, n // (4 * workers))), "--device", "cpu"]
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    zoo = Zoo(out)
    a = zoo.arrays()
    return {"tuning": tuning, "chunk": chunk, "workers": workers, "inrs": len(zoo),
            "seconds": seconds, "inr_per_s": len(zoo) / seconds,
            "psnr_mean": float(a.psnr.mean()), "stats": layer_stats(a.weights)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("DNG_DATA_DIR"), required=False)
    ap.add_argument("--n", type=int, default=1024, help="images per split (--limit)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunks", default="32")
    ap.add_argument("--json")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="dng-fit-speed-")
    rows = []
    try:
        for chunk in map(int, args.chunks.split(",")):
            for tuning in (False, True):
                out = os.path.join(tmp, f"z{chunk}{int(tuning)}")
                r = fit(args.data_dir, args.n, args.workers, chunk, tuning, out)
                shutil.rmtree(out)
                rows.append(r)
                print(f"chunk {chunk}, DNG_MALLOC_TUNING={int(tuning)}: {r['inrs']} INRs in "
                      f"{r['seconds']:.1f} s = {r['inr_per_s']:.1f} INR/s end to end, "
                      f"PSNR mean {r['psnr_mean']:.3f} dB", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = rows[0]
    for r in rows[1:]:
        dev = max(abs(r["stats"][l][k] / base["stats"][l][k] - 1)
                  for l in range(len(base["stats"])) for k in ("weight_std", "bias_std"))
        print(f"chunk {r['chunk']}, tuning {int(r['tuning'])} vs the first row: "
              f"{r['inr_per_s'] / base['inr_per_s']:.2f}x INR/s; per-layer std differ by at "
              f"most {100 * dev:.3f} %, PSNR by {r['psnr_mean'] - base['psnr_mean']:+.3f} dB")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; reproduce: "
          f"{command_line()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
