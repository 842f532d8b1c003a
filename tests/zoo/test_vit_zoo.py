"""ViT zoos built here: batched SimpleViT training (equal to per-network training), per-network
epochs, resumable, and the regression task end to end."""

import json

import pytest
import torch
import torch.nn.functional as F

from dng.data.datasets import ImageSet
from dng.vit import ViTSpec, ViTWeights
from dng.zoo.cnnbuild import network_splits
from dng.zoo.vitbuild import build_vit_zoo
from dng.zoo.vitfit import draw_epochs, init_vits, train_vits

SPEC = ViTSpec(image_size=8, patch_size=4, num_classes=3, dim=8, depth=1, heads=2, mlp_dim=16,
               dim_head=4)


@pytest.fixture(scope="module")
def tiny():
    g = torch.Generator().manual_seed(0)
    imgs = (torch.rand(200, 3, 8, 8, generator=g) * 255).to(torch.uint8)
    split = torch.zeros(200, dtype=torch.int64)
    split[160:] = 2
    return ImageSet("tiny", imgs, torch.randint(0, 3, (200,), generator=g), split,
                    ["a", "b", "c"])


def test_init_and_epochs_depend_on_the_network_id_only():
    a, b = init_vits(SPEC, torch.arange(4), 1), init_vits(SPEC, torch.tensor([2, 3]), 1)
    assert all(torch.equal(a.params[k][2:], b.params[k]) for k in a.params)
    assert torch.equal(draw_epochs(torch.arange(6), 1)[4:], draw_epochs(torch.tensor([4, 5]), 1))


def test_batched_training_equals_one_network_at_a_time():
    """Networks that stop early do not change the others' updates (the active prefix)."""
    x, y = torch.randn(40, 3, 8, 8), torch.randint(0, 3, (40,))
    w0 = init_vits(SPEC, torch.arange(3), 0).to(torch.float64)
    ep = torch.tensor([1, 2, 0])
    together = {int(i): w for idx, w, _, _ in train_vits(
        w0, ep, x.double(), y, x[:8].double(), y[:8], 2, 8,
        generator=torch.Generator().manual_seed(5)) for i, w in zip(idx, [w[j] for j in
                                                                         range(len(w))])}
    for i in range(3):
        alone = next(w for _, w, _, _ in train_vits(
            w0[i], ep[i:i + 1], x.double(), y, x[:8].double(), y[:8], 2, 8,
            generator=torch.Generator().manual_seed(5)))
        for k in alone.params:
            torch.testing.assert_close(together[i].params[k], alone.params[k], atol=1e-12,
                                       rtol=0)


def test_build_resume_and_train(tiny, tmp_path):
    kw = dict(count=6, spec=SPEC, epochs=(0, 1, 2), unit=4, batch_size=8, steps_per_epoch=2)
    zoo = build_vit_zoo(tiny, tmp_path / "z", **kw)
    a = zoo.arrays()
    assert isinstance(a.weights, ViTWeights) and len(a) == 6 and zoo.manifest["complete"]
    assert torch.equal(a.column("epoch").long().sort().values,
                       draw_epochs(torch.arange(6), 0, (0, 1, 2)).sort().values)
    ids = a.column("net_id").long()
    assert torch.equal(network_splits(6, 0)[ids], a.split)
    acc = a.column("test_accuracy")
    assert ((acc >= 0) & (acc <= 1)).all()
    m = json.loads((tmp_path / "z" / "zoo.json").read_text())
    (tmp_path / "z" / m["shards"][1]["file"]).unlink()
    m["shards"], m["complete"] = m["shards"][:1], False
    (tmp_path / "z" / "zoo.json").write_text(json.dumps(m))
    again = build_vit_zoo(tiny, tmp_path / "z", **kw).arrays()
    assert all(torch.equal(a.weights.params[k], again.weights.params[k]) for k in a.weights.params)
    with pytest.raises(Exception, match="different zoo"):
        build_vit_zoo(tiny, tmp_path / "z", **{**kw, "count": 7})
    with pytest.raises(Exception, match="does not fit"):
        build_vit_zoo(tiny, tmp_path / "z2", 2, ViTSpec(image_size=16, num_classes=3))

    from dng.cli import main

    main(["train", "--zoo", str(tmp_path / "z"), "--model", "dng-encoder", "--task", "regress",
          "--out", str(tmp_path / "r"), "--steps", "3", "--eval-every", "3", "--batch-size", "2",
          "--emb-dim", "8", "--fourier-dim", "4", "--hidden", "8", "--probes", "0"])
    out = json.loads((tmp_path / "r" / "train.json").read_text())
    assert out["steps"] == 3 and "kendall_tau" in out["best_val"]
    main(["eval", str(tmp_path / "r")])
    assert (tmp_path / "r" / "regression.png").is_file()
    main(["train", "--zoo", str(tmp_path / "z"), "--model", "ng-gnn-lite", "--task", "regress",
          "--out", str(tmp_path / "g"), "--steps", "2", "--eval-every", "2", "--batch-size", "2",
          "--hidden", "8", "--fourier-dim", "4"])
    assert "kendall_tau" in json.loads((tmp_path / "g" / "train.json").read_text())["best_val"]
    # the INR-only views say so in one line
    assert main(["zoo", "info", str(tmp_path / "z"), "--stats"]) == 2
    assert main(["zoo", "show", str(tmp_path / "z")]) == 2
    assert main(["zoo", "info", str(tmp_path / "z"), "--verify"]) == 0


def test_vit_forward_trains(tiny):
    """The batched forward learns: loss falls on a fixed batch (a sanity check of the
    gradients through ViTWeights.run)."""
    w = init_vits(SPEC, torch.arange(2), 0)
    x = (tiny.images[:16].float() / 127.5 - 1)
    y = tiny.labels[:16]
    first = last = None
    for idx, wt, _, loss in train_vits(w, torch.tensor([30, 30]), x, y, x, y, 1, 16, 1e-2,
                                       torch.Generator().manual_seed(0)):
        last = loss
    first = F.cross_entropy(w.run(x).transpose(1, 2), y.expand(2, -1), reduction="none").mean(1)
    assert (last < first).all()


def _vit_layout(root, n=6):
    """A ViT zoo in the import layout: splits.json, vit.json, one state_dict file each."""
    w = init_vits(SPEC, torch.arange(n), 3)
    root.mkdir()
    (root / "vit.json").write_text(json.dumps({k: v for k, v in SPEC.to_dict().items()
                                               if k != "family"}))
    paths = []
    for i in range(n):
        (root / f"run_{i}").mkdir()
        sd = w.state_dict(i)
        torch.save({"model": sd} if i % 2 else sd, root / f"run_{i}" / "model.pt")
        paths.append(f"run_{i}/model.pt")
    scores = [0.1 * (i + 1) for i in range(n)]
    (root / "splits.json").write_text(json.dumps({
        "train": {"path": paths[:4], "score": scores[:4]},
        "val": {"path": paths[4:5], "score": scores[4:5]},
        "test": {"path": paths[5:], "score": scores[5:]}}))
    return w, scores


def test_import_a_vit_layout_and_train(tmp_path, capsys):
    from dng.cli import main

    w, scores = _vit_layout(tmp_path / "vits")
    assert main(["zoo", "import", str(tmp_path / "vits"), "--format", "vit", "--out",
                 str(tmp_path / "z")]) == 0
    from dng.zoo.store import Zoo

    a = Zoo(tmp_path / "z").arrays()
    assert isinstance(a.weights, ViTWeights) and len(a) == 6
    for k in w.params:
        torch.testing.assert_close(a.weights.params[k], w.params[k], rtol=0, atol=0)
    torch.testing.assert_close(a.column("test_accuracy"), torch.tensor(scores,
                                                                        dtype=torch.float64))
    assert a.split.tolist() == [0, 0, 0, 0, 1, 2]
    assert main(["train", "--zoo", str(tmp_path / "z"), "--model", "dng-encoder", "--task",
                 "regress", "--out", str(tmp_path / "r"), "--steps", "2", "--eval-every", "2",
                 "--batch-size", "2", "--emb-dim", "8", "--fourier-dim", "4", "--hidden", "8",
                 "--probes", "0"]) == 0
    # bad input: another ViT shape, a missing vit.json — one error naming the file, no zoo
    cfg = json.loads((tmp_path / "vits" / "vit.json").read_text())
    (tmp_path / "vits" / "vit.json").write_text(json.dumps({**cfg, "dim": 16}))
    capsys.readouterr()
    assert main(["zoo", "import", str(tmp_path / "vits"), "--format", "vit", "--out",
                 str(tmp_path / "z2")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run_0/model.pt" in err[0] and not (tmp_path / "z2").exists()
    (tmp_path / "vits" / "vit.json").unlink()
    assert main(["zoo", "import", str(tmp_path / "vits"), "--format", "vit", "--out",
                 str(tmp_path / "z2")]) == 1
    assert "vit.json" in capsys.readouterr().err
