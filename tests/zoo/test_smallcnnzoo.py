"""Small CNN Zoo import (format-3 zoos) and the regression task on it, end to end."""

import gzip
import shutil

import numpy as np
import pytest
import torch

from dng.errors import ZooError
from dng.zoo import Zoo
from dng.zoo.smallcnnzoo import import_smallcnnzoo, read_smallcnnzoo


@pytest.fixture
def layout(cnn_fixtures, tmp_path):
    d = tmp_path / "layout"
    shutil.copytree(cnn_fixtures / "smallcnnzoo_layout", d)
    return d


def test_import_round_trip(layout, tmp_path):
    zoo = import_smallcnnzoo(layout, tmp_path / "z")
    rows = read_smallcnnzoo(layout)
    a = zoo.arrays()
    # the official split: train [2, 0, 1], val [3], test 4..7 (as rows of the file)
    assert a.split.tolist() == [0, 0, 0, 1, 2, 2, 2, 2]
    for x, y in zip(a.weights.weights, rows.weights.weights):
        assert torch.equal(x, y)
    assert torch.equal(a.column("test_accuracy"), rows.columns["test_accuracy"])
    assert zoo.arch.describe().startswith("conv3x3/s2(1→16,relu)")
    assert not zoo.renders and zoo.num_classes == 0
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    assert zoo.arch.run(a.weights, x, act_ids=a.weights.act).shape == (8, 5, 10)


def test_split_file_and_steps(layout, tmp_path):
    (tmp_path / "split.txt").write_text("\n".join(map(str, [7, 6, 5, 4, 3, 2, 1, 0])))
    zoo = import_smallcnnzoo(layout, tmp_path / "z", split_file=tmp_path / "split.txt")
    acc = read_smallcnnzoo(layout).columns["test_accuracy"]
    assert torch.equal(zoo.arrays().column("test_accuracy"), acc.flip(0))
    (tmp_path / "bad.txt").write_text("0\n1\n1\n")
    with pytest.raises(ZooError, match="not a permutation"):
        import_smallcnnzoo(layout, tmp_path / "z2", split_file=tmp_path / "bad.txt")
    with pytest.raises(ZooError, match="no rows at step 5"):
        import_smallcnnzoo(layout, tmp_path / "z3", step=5)
    assert not (tmp_path / "z2").exists() and not (tmp_path / "z3").exists()


def _rewrite_metrics(layout, fn):
    p = layout / "metrics.csv.gz"
    lines = gzip.decompress(p.read_bytes()).decode().splitlines()
    p.write_bytes(gzip.compress(("\n".join(fn(lines)) + "\n").encode()))


@pytest.mark.parametrize("damage, msg", [
    (lambda d: np.save(d / "weights.npy", np.load(d / "weights.npy")[:, :-1]), "layout needs"),
    (lambda d: np.save(d / "weights.npy", np.where(np.arange(4970) == 3, np.nan,
                                                   np.load(d / "weights.npy")).astype("float32")),
     "NaN or Inf values in rows"),
    (lambda d: _rewrite_metrics(d, lambda ls: [ls[0]] + [l.replace(",relu,", ",swish,")
                                                        for l in ls[1:]]),
     "unknown activation"),
    (lambda d: (d / "layout.csv").write_text((d / "layout.csv").read_text().replace(
        "0,16,16", "0,17,17", 1)), "spans 0..17"),
    (lambda d: (d / "layout.csv").write_text((d / "layout.csv").read_text().replace(
        '"(16, 10)"', '"(16, 2, 5)"')), "neither a conv"),
])
def test_bad_layouts_are_one_clear_error(layout, tmp_path, damage, msg):
    damage(layout)
    with pytest.raises(ZooError, match=msg):
        import_smallcnnzoo(layout, tmp_path / "z")
    assert not (tmp_path / "z").exists()
    assert not list(tmp_path.glob(".z.tmp*"))


def test_regression_trains_and_evaluates_from_the_cli(layout, tmp_path):
    from dng.cli import main

    main(["zoo", "import", "--format", "smallcnnzoo", str(layout), "--out", str(tmp_path / "z")])
    run = tmp_path / "run"
    main(["train", "--zoo", str(tmp_path / "z"), "--model", "dng-encoder", "--task", "regress",
          "--out", str(run), "--steps", "6", "--eval-every", "3", "--batch-size", "3",
          "--emb-dim", "8", "--fourier-dim", "4", "--att-dim", "2", "--hidden", "8",
          "--probes", "0"])
    main(["eval", str(run)])
    import json

    m = json.loads((run / "metrics.json").read_text())
    assert m["task"]["task"] == "regress" and m["task"]["target"] == "test_accuracy"
    assert m["task"]["sigmoid"] and m["task"]["loss"] == "bce"
    assert -1 <= m["test_kendall_tau"] <= 1 and m["test_mse"] >= 0
    assert (run / "regression.png").stat().st_size > 1000
    assert Zoo(tmp_path / "z").manifest["version"] == 3
