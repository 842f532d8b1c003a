"""benchmarks/gpu_paper.py rehearsed on the CPU with tiny sizes: it fits, measures both paths,
trains, evaluates, and leaves at most 8 small files in OUT that resume."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def test_gpu_paper_script_rehearsal_on_cpu(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO / "src")}
    r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_paper.py"), "--dataset",
                        "digits", "--out", str(out), "--work", str(tmp_path / "work"), "--tiny",
                        "--device", "cpu", "--minutes", "5", "--max-run-minutes", "0.05",
                        "--copies", "1"], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    files = sorted(p.name for p in out.iterdir())
    assert len(files) <= 8 and all((out / f).stat().st_size < 16 * 2**20 for f in files)
    s = json.loads((out / "gpu_paper.json").read_text())
    assert {"device", "date", "command", "runs"} <= set(s)
    extras = [m for m, mod in (("ng-gnn", "torch_geometric"), ("nfn", "nfn"))
              if importlib.util.find_spec(mod)]  # the published baselines, when installed
    assert [r["model"] for r in s["runs"]] == ["dng-encoder", *extras, "inr2jls",
                                              "inr2jls-classifier"]
    for run in s["runs"]:
        assert {"model", "dataset", "steps", "steps_per_s", "test_accuracy", "minutes"} <= set(run)
        assert run["steps"] > 0
    enc = json.loads((out / "enc-metrics.json").read_text())  # the scored run came back too
    assert s["runs"][0]["test_accuracy"] == enc["test_accuracy"]
    assert enc["test_size"] == 64 and enc["steps"] == s["runs"][0]["steps"]
    assert [x["model"] for x in s["speed"]] == ["dng-encoder", "inr2jls"]
    ck = torch.load(out / "s1-last.pt", weights_only=True)
    assert all(v.dtype == torch.bfloat16 for v in ck["model"].values() if v.is_floating_point())
    # a later run resumes from what came back
    run = tmp_path / "again"
    run.mkdir()
    (run / "config.json").write_bytes((out / "enc-config.json").read_bytes())
    (run / "last.pt").write_bytes((out / "enc-last.pt").read_bytes())
    cfg = json.loads((run / "config.json").read_text())
    steps = s["runs"][0]["steps"] + 5
    r = subprocess.run([sys.executable, "-m", "dng", "train", "--zoo",
                        str(tmp_path / "work" / "zoo-digits"), "--out", str(run), "--resume",
                        "--steps", str(steps), "--set", "budget_minutes=null",
                        "--device", "cpu"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((run / "train.json").read_text())["steps"] == steps
    assert cfg["model"] == "dng-encoder"
