"""Bad input through the command line: one line, the right exit code, nothing left behind;
zoos that are locked, verified and confined; runs that refuse garbage."""

import json
import os
import subprocess
import sys
import threading

import pytest
import torch

from dng.cli import main
from dng.errors import DNGError, ZooError
from dng.io import DirLock
from dng.zoo import Zoo

FIT = ["fit", "--dataset", "digits", "--limit", "6", "--steps", "3", "--shard-size", "4",
       "--workers", "1", "--device", "cpu"]


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("rel") / "zoo"
    assert main([*FIT, "--out", str(d)]) == 0
    return d


@pytest.fixture
def zoo_copy(zoo_dir, tmp_path):
    import shutil

    d = tmp_path / "zoo"
    shutil.copytree(zoo_dir, d)
    return d


def _one_line(capsys, code, expect_code, match):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == expect_code, err
    assert len(err) == 1 and match in err[0], err


BAD_ARGS = [
    (["--chunk", "0"], "--chunk"), (["--shard-size", "-4"], "--shard-size"),
    (["--lr", "nan"], "--lr"), (["--limit", "-1"], "--limit"), (["--limit", "0"], "--limit"),
    (["--copies", "99999999999"], "--copies"), (["--steps", "-3"], "--steps"),
    (["--workers", "0"], "--workers"), (["--omega", "inf"], "--omega"),
]


@pytest.mark.parametrize("extra, flag", BAD_ARGS)
def test_fit_bad_numbers_are_usage_errors_and_write_nothing(tmp_path, capsys, extra, flag):
    out = tmp_path / "z"
    with pytest.raises(SystemExit) as e:
        main(["fit", "--dataset", "digits", "--out", str(out), *extra])
    _one_line(capsys, e.value.code, 2, flag)
    assert not out.exists()


@pytest.mark.parametrize("argv, flag", [
    (["--steps", "0"], "--steps"), (["--steps", "-3"], "--steps"),
    (["--budget-minutes", "0"], "--budget-minutes"), (["--budget-minutes", "nan"], "--budget"),
    (["--lr", "-1"], "--lr"), (["--batch-size", "0"], "--batch-size"),
    (["--set", "lr=1e999"], "lr"), (["--set", "budget_minutes=-1"], "budget_minutes"),
    (["--set", "steps=abc"], "steps"), (["--set", "nope=1"], "nope"),
])
def test_train_bad_numbers_are_one_line(zoo_dir, tmp_path, capsys, argv, flag):
    out = tmp_path / "r"
    try:
        code = main(["train", "--zoo", str(zoo_dir), "--out", str(out), "--model", "mlp", *argv])
    except SystemExit as e:
        code = e.code
    _one_line(capsys, code, 2, flag)
    assert not out.exists()


def test_truncated_checkpoint_and_bad_config_on_resume(zoo_dir, tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", "--zoo", str(zoo_dir), "--out", str(run), "--model", "mlp",
                 "--steps", "2", "--device", "cpu"]) == 0
    capsys.readouterr()
    data = (run / "last.pt").read_bytes()
    (run / "last.pt").write_bytes(data[:len(data) // 2])
    code = main(["train", "--zoo", str(zoo_dir), "--out", str(run), "--resume", "--steps", "4",
                 "--device", "cpu"])
    _one_line(capsys, code, 1, "last.pt")
    (run / "config.json").write_text(json.dumps({"model": "mlp", "batch_size": "many"}))
    code = main(["train", "--zoo", str(zoo_dir), "--out", str(run), "--resume",
                 "--device", "cpu"])
    _one_line(capsys, code, 2, "batch_size")


def test_resume_extends_a_finished_run(zoo_dir, tmp_path):
    run = tmp_path / "r"
    base = ["train", "--zoo", str(zoo_dir), "--out", str(run), "--device", "cpu"]
    assert main([*base, "--model", "mlp", "--steps", "2"]) == 0
    assert main([*base, "--resume", "--steps", "5"]) == 0
    assert json.loads((run / "train.json").read_text())["steps"] == 5


def test_divergence_stops_the_run_with_the_step_and_value(zoo_dir, tmp_path, capsys):
    run = tmp_path / "r"
    code = main(["train", "--zoo", str(zoo_dir), "--out", str(run), "--model", "mlp",
                 "--steps", "6", "--lr", "1e30", "--set", "eval_every=3", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 1 and "diverged" in err and "steps" in err
    assert not (run / "train.json").exists()  # no "finished" run, no score


def test_manifest_that_is_a_list_or_lacks_keys(zoo_copy, capsys):
    (zoo_copy / "zoo.json").write_text("[1, 2]")
    _one_line(capsys, main(["zoo-info", str(zoo_copy)]), 1, "not a mapping")
    (zoo_copy / "zoo.json").write_text(json.dumps({"format": "dng-zoo", "version": 1}))
    _one_line(capsys, main(["zoo-info", str(zoo_copy)]), 1, "lacks")


def test_paths_stay_inside_the_zoo(zoo_copy, tmp_path):
    m = json.loads((zoo_copy / "zoo.json").read_text())
    outside = tmp_path / "outside.safetensors"
    outside.write_bytes((zoo_copy / m["shards"][0]["file"]).read_bytes())
    for name in ("../outside.safetensors", str(outside), "../../../etc/passwd"):
        bad = json.loads(json.dumps(m))
        bad["shards"][0]["file"] = name
        (zoo_copy / "zoo.json").write_text(json.dumps(bad))
        with pytest.raises(ZooError, match="leaves the zoo"):
            Zoo(zoo_copy)
    os.symlink(outside, zoo_copy / "shards" / "link.safetensors")
    bad = json.loads(json.dumps(m))
    bad["shards"][0]["file"] = "shards/link.safetensors"
    (zoo_copy / "zoo.json").write_text(json.dumps(bad))
    with pytest.raises(ZooError, match="outside the zoo"):
        Zoo(zoo_copy)


def test_flipped_bytes_are_caught_when_read_and_refitted_on_rerun(zoo_copy, capsys):
    f = zoo_copy / "shards" / "shard-00001.safetensors"
    data = bytearray(f.read_bytes())
    data[-5] ^= 0xFF  # same size, other bytes (inside the psnr tensor)
    f.write_bytes(bytes(data))
    with pytest.raises(ZooError, match="sha256"):
        Zoo(zoo_copy).load("train")
    Zoo(zoo_copy, verify_data=False).load("train")  # --no-verify reads it anyway
    (zoo_copy / "shards" / "shard-00002.safetensors").unlink()
    before = json.loads((zoo_copy / "zoo.json").read_text())["shards"]
    assert main([*FIT, "--out", str(zoo_copy)]) == 0  # rerun: refits both
    after = json.loads((zoo_copy / "zoo.json").read_text())["shards"]
    assert [s["sha256"] for s in after] == [s["sha256"] for s in before]
    Zoo(zoo_copy).verify()


def test_verify_checks_the_manifest(zoo_copy):
    m = json.loads((zoo_copy / "zoo.json").read_text())
    m["shards"][2] = dict(m["shards"][1])  # shard 1 listed twice, shard 2 lost
    m["shards"][2]["count"] = m["shards"][2]["count"]
    (zoo_copy / "zoo.json").write_text(json.dumps(m))
    with pytest.raises(ZooError, match="once each"):
        Zoo(zoo_copy).verify()


def test_labels_and_image_indices_are_validated(zoo_copy):
    from safetensors.torch import load_file, save_file

    from dng.data.datasets import sha256_file

    m = json.loads((zoo_copy / "zoo.json").read_text())
    f = zoo_copy / m["shards"][0]["file"]
    for key, value, match in (("label", 99, "labels outside"), ("label", -100, "labels outside"),
                              ("image_index", -1, "image_index outside")):
        t = load_file(str(f))
        orig = t[key].clone()
        t[key][0] = value
        save_file(t, str(f))
        m["shards"][0].update(sha256=sha256_file(f), bytes=f.stat().st_size)
        (zoo_copy / "zoo.json").write_text(json.dumps(m))
        with pytest.raises(ZooError, match=match):
            Zoo(zoo_copy).arrays()
        t[key] = orig
        save_file(t, str(f))
    img = zoo_copy / m["images"]["file"]
    t = load_file(str(img))
    t["images"] = t["images"].float()
    save_file(t, str(img))
    m["images"].update(sha256=sha256_file(img), bytes=img.stat().st_size)
    m["shards"][0].update(sha256=sha256_file(f), bytes=f.stat().st_size)
    (zoo_copy / "zoo.json").write_text(json.dumps(m))
    with pytest.raises(ZooError, match="uint8"):
        Zoo(zoo_copy).arrays()


def test_lock_refuses_a_second_writer_and_takes_over_stale_locks(tmp_path):
    with DirLock(tmp_path, "first"):
        with pytest.raises(DNGError, match="in use by `first`"):
            DirLock(tmp_path, "second").acquire()
    assert not (tmp_path / DirLock.NAME).exists()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    import socket

    (tmp_path / DirLock.NAME).write_text(json.dumps({"pid": int(dead),
                                                     "host": socket.gethostname()}))
    with DirLock(tmp_path, "third") as lock:  # the dead holder's lock is stale
        assert lock.held


def test_concurrent_fits_one_wins_the_other_gets_one_error(tmp_path):
    """Two `dng fit` on one directory with different settings, started together: exactly one
    writes the zoo, the other fails with one clear error (repeated for the race)."""
    for rep in range(3):
        out = tmp_path / f"z{rep}"
        barrier = threading.Barrier(2)
        codes = {}

        def run(steps):
            barrier.wait()
            codes[steps] = subprocess.run(
                [sys.executable, "-m", "dng", *FIT[:6], str(steps), *FIT[7:], "--out", str(out)],
                capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})

        threads = [threading.Thread(target=run, args=(s,)) for s in (3, 4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ok = [s for s, r in codes.items() if r.returncode == 0]
        bad = [r for r in codes.values() if r.returncode != 0]
        assert len(ok) >= 1
        m = json.loads((out / "zoo.json").read_text())
        assert m["complete"] and m["recipe"]["steps"] in ok
        for r in bad:  # (stderr also holds the progress bar's redraws)
            lines = [ln for ln in r.stderr.splitlines() if ln.startswith("dng fit: error")]
            assert r.returncode == 1 and len(lines) == 1 and "Traceback" not in r.stderr
            assert "in use by" in lines[0] or "different zoo" in lines[0]
        if len(ok) == 2:  # one finished before the other started: the second must be a no-op
            pytest.fail(f"both fits reported success on one directory: {codes}")


def test_reproduce_bad_method_fails_before_fitting(tmp_path, capsys):
    code = main(["reproduce", "--datasets", "digits", "--methods", "bogus", "--out",
                 str(tmp_path / "o")])
    _one_line(capsys, code, 2, "bogus")
    assert not (tmp_path / "o").exists()


def test_eval_limit_zero_and_bench_bogus_are_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["eval", str(tmp_path), "--limit", "0"])
    _one_line(capsys, e.value.code, 2, "--limit")
    code = main(["bench", "--models", "bogus", "--no-train"])
    _one_line(capsys, code, 2, "bogus")


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("DNG_DEBUG", "1")
    with pytest.raises(ZooError):
        main(["zoo-info", str(tmp_path)])
    assert torch  # imported for the checkpoint helpers above


def test_shards_and_manifest_share_the_file_mode(zoo_dir):
    modes = {p.name: p.stat().st_mode & 0o777 for p in
             [zoo_dir / "zoo.json", zoo_dir / "images.safetensors",
              *sorted((zoo_dir / "shards").iterdir())]}
    assert len(set(modes.values())) == 1, modes


def test_show_out_dir_writes_inside_it(zoo_dir, tmp_path, capsys):
    d = tmp_path / "pics"
    d.mkdir()
    assert main(["show", str(zoo_dir), "--n", "3", "--out", str(d)]) == 0
    assert (d / "show.png").stat().st_size > 1000
    assert str(d / "show.png") in capsys.readouterr().out


def test_fit_workers_die_with_a_killed_parent(tmp_path):
    """kill -9 of `dng fit` (two worker processes): its workers are gone right after."""
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "dng", "fit", "--dataset", "digits",
                             "--shard-size", "64", "--workers", "2", "--out",
                             str(tmp_path / "z"), "--device", "cpu"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children = []
    for _ in range(200):  # wait for the workers to start
        time.sleep(0.1)
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True)
        children = [int(p) for p in out.stdout.split()]
        if len(children) >= 2:
            break
    assert children, "no worker processes started"
    time.sleep(1.0)  # (workers may still be importing torch: that race is covered too)
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    def running(c):
        try:
            return "Z" not in open(f"/proc/{c}/stat").read().split()[2]
        except OSError:
            return False

    for _ in range(600):  # "at once": within the time a worker needs to finish starting
        # (importing torch: a second when idle, much longer on a loaded machine)
        alive = [c for c in children if running(c)]
        if not alive:
            break
        time.sleep(0.1)
    assert not alive, f"workers still running after the parent's kill -9: {alive}"
