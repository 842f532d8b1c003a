"""Hostile files and broken disks (issue 25): each class refused in one line, bounded time and
memory, nothing left behind."""

import json
import os

import pytest
import torch

from dng.cli import main

FIT = ["fit", "--dataset", "digits", "--limit", "4", "--steps", "2", "--shard-size", "4",
       "--workers", "1", "--device", "cpu"]


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile") / "zoo"
    assert main([*FIT, "--out", str(d)]) == 0
    return d


def _one_line(capsys, code, want_code, match):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == want_code, err
    assert len(err) == 1 and match in err[0], err


def _siren_sd(w0):
    return {"net.0.weight": w0, "net.0.bias": torch.zeros(4),
            "net.1.weight": torch.zeros(1, 4), "net.1.bias": torch.zeros(1)}


@pytest.mark.parametrize("tensor, match", [
    (torch.zeros(1).expand(4, 2 ** 20).contiguous()[:, :2].expand(4, 2), None),  # fine
    (torch.zeros(1, 1).expand(4, 2), "expanded view"),
    (torch.zeros(4, 2, dtype=torch.int64), "real floating point"),
    (torch.zeros(4, 2, dtype=torch.complex64), "real floating point"),
])
def test_state_dicts_are_bounded_and_real(tmp_path, capsys, tensor, match):
    src = tmp_path / "sds"
    src.mkdir()
    torch.save(_siren_sd(tensor), src / "0.pt")
    code = main(["zoo", "import", str(src), "--format", "state-dicts", "--out",
                 str(tmp_path / "z"), "--image-size", "2", "2"])
    if match is None:
        assert code == 0
        return
    _one_line(capsys, code, 1, match)
    assert not (tmp_path / "z").exists()


def test_huge_image_header_is_refused_before_decoding(tmp_path, monkeypatch):
    from PIL import Image

    from dng.data.folder import _decode
    from dng.errors import DataError

    p = tmp_path / "big.png"
    Image.new("L", (64, 64)).save(p)
    monkeypatch.setenv("DNG_MAX_PIXELS", "1000")
    with pytest.raises(DataError, match="64×64 pixels"):
        _decode(p.read_bytes(), str(p))
    monkeypatch.delenv("DNG_MAX_PIXELS")
    assert _decode(p.read_bytes(), str(p)).shape == (1, 64, 64)


@pytest.mark.parametrize("edit, match", [
    (lambda m: {**m, "num_shards": 10 ** 12}, "num_shards"),
    (lambda m: "[" * 100000, "damaged manifest"),
    (lambda m: {**m, "shards": "x"}, "manifest"),
])
def test_damaged_manifests_are_one_line(zoo_dir, tmp_path, capsys, edit, match):
    import shutil

    d = tmp_path / "z"
    shutil.copytree(zoo_dir, d)
    m = json.loads((d / "zoo.json").read_text())
    new = edit(m)
    (d / "zoo.json").write_text(new if isinstance(new, str) else json.dumps(new))
    _one_line(capsys, main(["zoo", "info", str(d), "--verify"]), 1, match)


def test_write_errors_and_damaged_runs_are_one_line(zoo_dir, tmp_path, capsys):
    f = tmp_path / "a_file"
    f.write_text("x")
    args = ["train", "--zoo", str(zoo_dir), "--model", "mlp", "--steps", "2", "--probes", "0"]
    _one_line(capsys, main([*args, "--out", str(f / "run")]), 1, str(f))
    run = tmp_path / "run"
    assert main([*args, "--out", str(run)]) == 0
    capsys.readouterr()
    (run / "last.pt").write_bytes(b"")  # a 0-byte checkpoint
    _one_line(capsys, main([*args, "--out", str(run), "--resume"]), 1, "last.pt")
    (run / "config.json").write_text("[" * 100000)
    _one_line(capsys, main(["eval", str(run)]), 1, "config.json")  # a file problem: 1
    _one_line(capsys, main(["eval", str(f)]), 1, "not a dng run")


def test_a_killed_writers_temporary_files_are_removed(zoo_dir, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    dead = 2 ** 22 + 12345  # no such process
    (run / f".last.pt.tmp{dead}").write_bytes(b"x" * 1000)
    mine = run / f".keep.tmp{os.getpid()}"
    mine.write_bytes(b"y")
    assert main(["train", "--zoo", str(zoo_dir), "--model", "mlp", "--steps", "1",
                 "--probes", "0", "--out", str(run)]) == 0
    assert not (run / f".last.pt.tmp{dead}").exists() and mine.exists()


@pytest.mark.parametrize("argv, match", [
    (["--set", "steps=${oc.env:HOME}"], "interpolations"),
    (["--set", "lr=${steps}"], "interpolations"),
])
def test_interpolations_are_refused(zoo_dir, tmp_path, capsys, argv, match):
    code = main(["train", "--zoo", str(zoo_dir), "--model", "mlp", "--out", str(tmp_path / "r"),
                 *argv])
    _one_line(capsys, code, 2, match)
    assert not (tmp_path / "r").exists()


def test_split_at_must_be_ordered(tmp_path, capsys):
    code = main(["zoo", "import", str(tmp_path), "--out", str(tmp_path / "z"), "--split-at",
                 "5,2"])
    _one_line(capsys, code, 2, "--split-at")


def test_print_config_names_each_source_and_yaml_holds_run_settings(zoo_dir, tmp_path, capsys):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"zoo: {zoo_dir}\nout: {tmp_path / 'r'}\nmodel: mlp\nlr: 0.02\n")
    assert main(["train", "--config", str(cfg), "--steps", "3", "--set", "seed=4",
                 "--print-config"]) == 0
    lines = {ln.split("=")[0].strip(): ln for ln in capsys.readouterr().out.splitlines()[1:]}
    assert lines["lr"].endswith(f"# --config {cfg}") and lines["steps"].endswith("# flag")
    assert lines["seed"].endswith("# --set") and lines["batch_size"].endswith("# preset cpu")
    assert not (tmp_path / "r").exists()  # printing trains nothing
    assert main(["train", "--config", str(cfg), "--steps", "2", "--probes", "0"]) == 0
    assert (tmp_path / "r" / "train.json").is_file()


def test_symlinks_leaving_an_import_layout_are_refused_unless_asked(tmp_path, capsys):
    src, outside = tmp_path / "sds", tmp_path / "outside"
    src.mkdir(), outside.mkdir()
    torch.save(_siren_sd(torch.zeros(4, 2)), src / "0.pt")
    torch.save(_siren_sd(torch.ones(4, 2)), outside / "secret.pt")
    (src / "1.pt").symlink_to(outside / "secret.pt")
    argv = ["zoo", "import", str(src), "--format", "state-dicts", "--image-size", "2", "2"]
    _one_line(capsys, main([*argv, "--out", str(tmp_path / "z")]), 1, "outside the layout")
    assert not (tmp_path / "z").exists()
    assert main([*argv, "--out", str(tmp_path / "z"), "--follow-symlinks"]) == 0


def test_a_failed_import_leaves_nothing(tmp_path, capsys):
    src = tmp_path / "sds"
    src.mkdir()
    for i in range(5):
        torch.save(_siren_sd(torch.zeros(4, 2)), src / f"{i}.pt")
    torch.save(_siren_sd(torch.full((4, 2), float("nan"))), src / "9.pt")  # the last one
    (tmp_path / "z").mkdir()  # an empty folder given as --out stays, empty
    code = main(["zoo", "import", str(src), "--format", "state-dicts", "--image-size", "2",
                 "2", "--out", str(tmp_path / "z")])
    assert code == 1 and list((tmp_path / "z").iterdir()) == []


def test_damaged_labels_are_refused_before_any_fitting():
    from dng.data.datasets import ImageSet
    from dng.errors import DataError

    with pytest.raises(DataError, match="label 200 of image 1"):
        ImageSet("m", torch.zeros(3, 1, 2, 2, dtype=torch.uint8), torch.tensor([0, 200, 1]),
                 torch.zeros(3, dtype=torch.int8), ["a", "b"])


def test_a_run_that_died_before_its_first_checkpoint_can_be_rerun(zoo_dir, tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    (run / "config.json").write_text("{}")  # all a step-0 crash leaves
    (run / "metrics.csv").write_text("step\n")
    assert main(["train", "--zoo", str(zoo_dir), "--model", "mlp", "--steps", "1",
                 "--probes", "0", "--out", str(run)]) == 0
    assert (run / "train.json").is_file()


def test_cifar_batch_of_shared_nested_lists_fails_fast():
    import pickle
    import time

    from dng.data.cifar import _CIFAR10, _load_cifar
    from dng.errors import DataError

    lst = [0] * 10
    for _ in range(6):  # 10**7 values behind a few hundred bytes
        lst = [lst] * 10
    raw = pickle.dumps({b"data": lst, b"labels": lst}, protocol=2)
    assert len(raw) < 1000
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "cifar-10-batches-py"
        root.mkdir()
        for f in _CIFAR10[1] + _CIFAR10[2]:
            (root / f).write_bytes(raw)
        t = time.perf_counter()
        with pytest.raises(DataError, match="'data' must be a uint8"):
            _load_cifar("cifar10", _CIFAR10, Path(d), 10)
        assert time.perf_counter() - t < 5


def test_a_zoo_is_never_complete_without_statistics(zoo_dir, tmp_path):
    import shutil

    d = tmp_path / "z"
    shutil.copytree(zoo_dir, d)
    m = json.loads((d / "zoo.json").read_text())
    m["stats"] = {}  # what a fit that died computing its statistics used to leave
    (d / "zoo.json").write_text(json.dumps(m))
    assert main([*FIT, "--out", str(d)]) == 0  # the rerun finishes it …
    assert json.loads((d / "zoo.json").read_text())["stats"]  # … with statistics
