"""torchrun: two CPU processes (gloo) train the same model as one process with the same
global batch; only rank 0 writes."""

import json
import os
import subprocess
import sys

import pytest
import torch

from dng.data import load_dataset
from dng.train import TrainConfig, train
from dng.distributed import Ranks
from dng.zoo import FitRecipe, build_zoo, limit_per_split

ARGS = ["--model", "dng-encoder", "--steps", "6", "--batch-size", "8", "--set", "emb_dim=16",
        "--set", "fourier_dim=8", "--set", "hidden=16", "--set", "dropout=0",
        "--set", "encoder_dropout=0", "--set", "eval_every=3", "--set", "probes=4",
        "--device", "cpu"]


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("zoo") / "digits"
    build_zoo(limit_per_split(load_dataset("digits"), 16), d, recipe=FitRecipe(steps=5))
    return d


def test_rank_slices_cover_the_global_batch():
    parts = [Ranks(r, 4).local_slice(8) for r in range(4)]
    assert [(p.start, p.stop) for p in parts] == [(0, 2), (2, 4), (4, 6), (6, 8)]
    with pytest.raises(Exception, match="divisible"):
        Ranks(0, 3).local_slice(8)


def test_two_gloo_processes_equal_one(zoo_dir, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    one, two = tmp_path / "one", tmp_path / "two"
    cmd = [sys.executable, "-m", "dng", "train", "--zoo", str(zoo_dir)]
    subprocess.run([*cmd, "--out", str(one), *ARGS], check=True, env=env, timeout=300)
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                        "--nproc-per-node", "2", "-m", "dng", "train", "--zoo", str(zoo_dir),
                        "--out", str(two), *ARGS], env=env, timeout=300,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    a = torch.load(one / "last.pt", weights_only=True)
    b = torch.load(two / "last.pt", weights_only=True)
    assert a["step"] == b["step"] == 6
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], atol=1e-5, rtol=1e-4)
    assert json.loads((two / "train.json").read_text())["processes"] == 2
    rows = [r.split(",") for r in (two / "metrics.csv").read_text().strip().splitlines()[1:]]
    steps = [int(r[0]) for r in rows]
    assert steps == sorted(set(steps)) == list(range(1, 7))  # every row once (rank 0 alone)
    assert sum(r[3] != "nan" for r in rows) == 2  # 2 evaluations, training loss between
    assert not list(two.glob(".*tmp*"))


def test_resume_equals_straight_run_after_config_reload(zoo_dir, tmp_path):
    """Resume from a saved config (the CLI path) continues to the same weights."""
    from dng.cli import main

    base = ["train", "--zoo", str(zoo_dir), *ARGS[:2], "--batch-size", "8",
            "--set", "emb_dim=16", "--set", "fourier_dim=8", "--set", "hidden=16",
            "--set", "eval_every=3", "--device", "cpu"]
    assert main([*base, "--out", str(tmp_path / "straight"), "--steps", "6"]) == 0
    assert main([*base, "--out", str(tmp_path / "killed"), "--steps", "3"]) == 0
    assert main(["train", "--zoo", str(zoo_dir), "--out", str(tmp_path / "killed"), "--resume",
                 "--steps", "6", "--device", "cpu"]) == 0
    a = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "killed" / "last.pt", weights_only=True)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=1e-5)
    saved = TrainConfig(**json.loads((tmp_path / "killed" / "config.json").read_text()))
    assert saved.steps == 6


def test_resume_cannot_change_the_model(zoo_dir, tmp_path, capsys):
    from dng.cli import main

    run = tmp_path / "r"
    assert main(["train", "--zoo", str(zoo_dir), "--out", str(run), "--model", "mlp",
                 "--steps", "2", "--device", "cpu"]) == 0
    assert main(["train", "--zoo", str(zoo_dir), "--out", str(run), "--model", "ng-gnn-lite",
                 "--resume", "--device", "cpu"]) == 2
    assert "cannot make it ng-gnn" in capsys.readouterr().err
    assert train  # the library entry point stays importable from dng.train


def test_fit_under_torchrun_splits_shards_and_equals_one_process(tmp_path):
    """`dng fit` with two ranks fits disjoint shards and writes the same zoo."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    fit = ["fit", "--dataset", "digits", "--limit", "6", "--steps", "3", "--shard-size", "4",
           "--device", "cpu"]
    subprocess.run([sys.executable, "-m", "dng", *fit, "--out", str(tmp_path / "one"),
                    "--workers", "1"], check=True, env=env, timeout=300, capture_output=True)
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                        "--nproc-per-node", "2", "-m", "dng", *fit, "--out",
                        str(tmp_path / "two")], env=env, timeout=300, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    a = json.loads((tmp_path / "one" / "zoo.json").read_text())
    b = json.loads((tmp_path / "two" / "zoo.json").read_text())
    assert b["complete"] and len(b["shards"]) == len(a["shards"]) == 5
    assert [s["sha256"] for s in a["shards"]] == [s["sha256"] for s in b["shards"]]
    assert not list((tmp_path / "two" / "shards").glob("*.entry.json"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_a_rank_exits_when_its_launcher_dies(tmp_path):
    """The rank arms a parent-death signal; killing the launcher ends it."""
    import signal
    import time

    pidfile = tmp_path / "rank.pid"
    rank = ("import os, time; from dng.distributed import exit_with_parent; exit_with_parent(); "
            f"open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)")
    launcher = subprocess.Popen([sys.executable, "-c",
                                 f"import subprocess, sys; subprocess.run([sys.executable, '-c', "
                                 f"{rank!r}])"])
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text():
            break
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    launcher.send_signal(signal.SIGKILL)
    launcher.wait()
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return  # the rank is gone
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    pytest.fail("the rank outlived its launcher")
