"""CNN zoos built here: batched training over networks, resumable, the forward it trains
equal to plain PyTorch per network."""

import json

import pytest
import torch
import torch.nn.functional as F

from dng.arch import ACTIVATIONS, Arch
from dng.zoo import Zoo
from dng.zoo.cnnbuild import build_cnn_zoo, grayscale, network_splits
from dng.zoo.cnnfit import BatchedOptimizer, draw_hypers, init_cnns

from conftest import random_cnn


@pytest.fixture(scope="module")
def digits():
    from dng.data import load_dataset

    return load_dataset("digits")


def test_batched_forward_equals_plain_pytorch_per_network():
    w = random_cnn(batch=4, channels=(3, 5), in_channels=2, classes=4)
    x = torch.randn(6, 2, 11, 11)
    out = w.arch.run(w, x, act_ids=w.act)
    for b in range(4):
        act = torch.relu if ACTIVATIONS[int(w.act[b, 0])] == "relu" else torch.tanh
        h = act(F.conv2d(x, w.weights[0][b], w.biases[0][b], 1))
        h = act(F.conv2d(h, w.weights[1][b], w.biases[1][b], 1))
        ref = F.linear(h.mean((2, 3)), w.weights[2][b], w.biases[2][b])
        torch.testing.assert_close(out[b], ref, atol=1e-5, rtol=1e-5)


def test_hyper_parameters_depend_on_the_network_id_only():
    a, b = draw_hypers(torch.arange(6), 3), draw_hypers(torch.tensor([4, 5]), 3)
    assert torch.equal(a.lr[4:], b.lr) and torch.equal(a.optimizer[4:], b.optimizer)
    assert set(a.act.tolist()) <= {ACTIVATIONS.index("relu"), ACTIVATIONS.index("tanh")}
    arch = Arch.cnn(1, [4, 4])
    wa, wb = init_cnns(arch, a, torch.arange(6), 3), init_cnns(arch, b, torch.tensor([4, 5]), 3)
    assert torch.equal(wa.weights[1][4:], wb.weights[1])


def test_batched_optimizer_matches_torch_per_kind():
    torch.manual_seed(0)
    p = torch.randn(3, 5)
    g = torch.randn(3, 5)
    lr = torch.tensor([0.1, 0.01, 0.05])
    opt = BatchedOptimizer([p.clone()], torch.tensor([0, 1, 2]), lr)
    opt.step([g])
    for i, cls in enumerate([torch.optim.Adam, torch.optim.RMSprop, torch.optim.SGD]):
        q = p[i].clone().requires_grad_(True)
        kw = {"eps": 1e-7} if cls is not torch.optim.SGD else {}
        if cls is torch.optim.RMSprop:
            kw["alpha"] = 0.9
        o = cls([q], lr=float(lr[i]), **kw)
        q.grad = g[i].clone()
        o.step()
        torch.testing.assert_close(opt.params[0][i], q.detach(), atol=1e-6, rtol=1e-5)


def test_build_resume_and_train(digits, tmp_path):
    kw = dict(count=6, epochs=(0, 1), unit=4, steps_per_epoch=3, train_size=300, test_size=100)
    zoo = build_cnn_zoo(digits, tmp_path / "z", **kw)
    a = zoo.arrays()
    assert len(a) == 12 and zoo.manifest["version"] == 3 and zoo.manifest["complete"]
    acc = a.column("test_accuracy")
    assert ((acc >= 0) & (acc <= 1)).all() and set(a.column("epoch").tolist()) == {0.0, 1.0}
    # a network's checkpoints share its split
    ids, split = a.column("net_id").long(), a.split
    for i in ids.unique():
        assert len(split[ids == i].unique()) == 1
    assert torch.equal(network_splits(6, 0)[ids], split)
    # kill after the first unit: the rerun trains the second unit again, identically
    m = json.loads((tmp_path / "z" / "zoo.json").read_text())
    (tmp_path / "z" / m["shards"][1]["file"]).unlink()
    m["shards"], m["complete"] = m["shards"][:1], False
    (tmp_path / "z" / "zoo.json").write_text(json.dumps(m))
    again = build_cnn_zoo(digits, tmp_path / "z", **kw).arrays()
    for x, y in zip(a.weights.weights, again.weights.weights):
        assert torch.equal(x, y)
    with pytest.raises(Exception, match="different zoo"):
        build_cnn_zoo(digits, tmp_path / "z", **{**kw, "count": 7})


def test_cnn_zoo_trains_the_regression_task(digits, tmp_path):
    from dng.cli import main

    build_cnn_zoo(digits, tmp_path / "z", 8, (0, 1), 8, steps_per_epoch=2, train_size=200,
                  test_size=100)
    main(["train", "--zoo", str(tmp_path / "z"), "--model", "dng-encoder", "--task", "regress",
          "--out", str(tmp_path / "r"), "--steps", "3", "--eval-every", "3", "--batch-size", "4",
          "--emb-dim", "8", "--fourier-dim", "4", "--att-dim", "2", "--hidden", "8",
          "--probes", "0"])
    m = json.loads((tmp_path / "r" / "train.json").read_text())
    assert m["steps"] == 3 and "kendall_tau" in m["best_val"]
    assert Zoo(tmp_path / "z").arch.num_parameters == 4970
    pytest.importorskip("nfn")
    pytest.importorskip("torch_geometric")
    for model in ("nfn", "ng-gnn"):  # the baselines of issue 21 on CNN graphs
        main(["train", "--zoo", str(tmp_path / "z"), "--model", model, "--task", "regress",
              "--out", str(tmp_path / model), "--steps", "2", "--eval-every", "2",
              "--batch-size", "4", "--hidden", "4", "--fourier-dim", "4"])
        assert json.loads((tmp_path / model / "train.json").read_text())["steps"] == 2


def test_grayscale():
    from dng.data.images import ImageSet

    im = ImageSet("rgb", torch.tensor([[[[255]], [[0]], [[0]]]], dtype=torch.uint8),
                  torch.tensor([0]), torch.tensor([0], dtype=torch.int8), ["a"])
    assert grayscale(im).images.item() == 76 and grayscale(im).name == "rgb-gs"


def test_test_images_are_a_random_subset_not_the_first_n():
    """An image folder's test files are sorted by class: the first N would be one or two
    classes (a zoo built that way scored its networks on airplanes and cars only)."""
    from dng.data.images import ImageSet
    from dng.zoo.cnnbuild import data_subsets

    labels = torch.arange(10).repeat_interleave(20)  # sorted by class
    im = ImageSet("sorted", torch.zeros(200, 1, 4, 4, dtype=torch.uint8), labels,
                  torch.full((200,), 2, dtype=torch.int8), [str(i) for i in range(10)])
    im.split[:100] = 0
    (_, tr_y), (_, te_y) = data_subsets(im, 30, 40, seed=0)
    assert len(te_y) == 40 and len(te_y.unique()) >= 4 and len(tr_y.unique()) >= 4
    assert set(te_y.tolist()) <= set(range(5, 10)) and set(tr_y.tolist()) <= set(range(5))


def test_rescore_rewrites_the_test_columns_only(digits, tmp_path):
    from dng.zoo.cnnbuild import rescore_cnn_zoo

    z = build_cnn_zoo(digits, tmp_path / "z", 4, (0, 1), 4, steps_per_epoch=2, train_size=100,
                      test_size=50)
    before = z.arrays()
    after = rescore_cnn_zoo(tmp_path / "z", digits, 120).arrays()
    assert torch.equal(before.weights.weights[1], after.weights.weights[1])
    assert torch.equal(before.column("lr"), after.column("lr"))
    assert not torch.equal(before.column("test_accuracy"), after.column("test_accuracy"))
    assert Zoo(tmp_path / "z").manifest["recipe"]["rescored"]
