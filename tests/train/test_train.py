"""Training jobs on a tiny zoo: every job runs, checkpoints resume to the same result."""

import json

import pytest
import torch

from dng.data import load_dataset
from dng.errors import DNGError
from dng.eval import evaluate_run
from dng.train import TrainConfig, train
from dng.zoo import FitRecipe, Zoo, build_zoo, limit_per_split

TINY = {"emb_dim": "16", "fourier_dim": "8", "latent_dim": "8", "hidden": "16",
        "eval_every": "3", "batch_size": "8"}


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("zoo") / "digits"
    build_zoo(limit_per_split(load_dataset("digits"), 16), d, recipe=FitRecipe(steps=10),
              copies=1)
    return d


def cfg(model, **kw):
    return TrainConfig.preset_config("cpu", model).override({**TINY, **kw})


@pytest.mark.parametrize("model", ["dng-encoder", "ng-gnn-lite", "mlp"])
def test_direct_classifiers(zoo_dir, tmp_path, model):
    res = train(zoo_dir, tmp_path / "run", cfg(model, steps="6"), progress=False)
    assert res["steps"] == 6 and res["best_val"]["step"] in (3, 6)
    m = evaluate_run(tmp_path / "run")
    assert m["test_size"] == 16 and m["params"] == res["params"] > 0
    assert (tmp_path / "run" / "confusion.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["model"] == model and saved["steps"] == 6


def test_two_stages_and_eval(zoo_dir, tmp_path):
    s1 = train(zoo_dir, tmp_path / "s1", cfg("inr2jls", steps="4", copies="1"), progress=False)
    assert s1["best_val"]["loss"] > 0
    train(zoo_dir, tmp_path / "s2", cfg("inr2jls-classifier", steps="4",
                                        from_run=str(tmp_path / "s1")), progress=False)
    m = evaluate_run(tmp_path / "s2")
    assert {"test_accuracy", "val_accuracy", "test_psnr", "params", "train_seconds",
            "steps"} <= set(m)
    for png in ("reconstructions.png", "confusion.png", "curves.png", "latents_pca.png"):
        assert (tmp_path / "s2" / png).is_file()


@pytest.mark.parametrize("model", ["inr2jls", "dng-encoder"])
def test_kill_and_resume_equals_straight_run(zoo_dir, tmp_path, model):
    straight = tmp_path / "straight"
    train(zoo_dir, straight, cfg(model, steps="9"), progress=False)
    # a run "killed" after step 6 (its last checkpoint), then resumed
    killed = tmp_path / "killed"
    train(zoo_dir, killed, cfg(model, steps="6"), progress=False)
    c = json.loads((killed / "config.json").read_text())
    c["steps"] = 9
    (killed / "config.json").write_text(json.dumps(c))
    train(zoo_dir, killed, TrainConfig(**c), resume=True, progress=False)
    a = torch.load(straight / "last.pt", weights_only=True)["model"]
    b = torch.load(killed / "last.pt", weights_only=True)["model"]
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=1e-5)


def test_existing_run_needs_resume(zoo_dir, tmp_path):
    train(zoo_dir, tmp_path / "r", cfg("mlp", steps="2"), progress=False)
    with pytest.raises(DNGError, match="--resume"):
        train(zoo_dir, tmp_path / "r", cfg("mlp", steps="2"), progress=False)


def test_budget_stops_training(zoo_dir, tmp_path):
    res = train(zoo_dir, tmp_path / "r", cfg("mlp", steps="100000", budget_minutes="0.02"),
                progress=False)
    assert res["steps"] < 100000 and res["train_seconds"] < 30


def test_bad_config_field():
    with pytest.raises(DNGError, match="unknown config field 'nope'"):
        cfg("mlp", nope="1")


def test_stage2_needs_stage1(zoo_dir, tmp_path):
    with pytest.raises(DNGError, match="--from"):
        train(zoo_dir, tmp_path / "r", cfg("inr2jls-classifier", steps="1"), progress=False)


def test_inr2inr_ablation_two_stages(zoo_dir, tmp_path):
    train(zoo_dir, tmp_path / "s1", cfg("inr2inr", steps="3"), progress=False)
    train(zoo_dir, tmp_path / "s2", cfg("inr2jls-classifier", steps="3",
                                        from_run=str(tmp_path / "s1")), progress=False)
    m = evaluate_run(tmp_path / "s2")
    s1 = evaluate_run(tmp_path / "s1")
    # stage 2 reads the frozen INR→INR backbone: its reconstructions are stage 1's
    assert m["test_psnr"] == pytest.approx(s1["test_psnr"], abs=1e-5)
    assert m["test_size"] == 16 and m["steps"] == 3


@pytest.mark.parametrize("aug", ["none", "noise:0.05", "rotflip"])
def test_augmentation_changes_what_stage1_sees(zoo_dir, tmp_path, aug):
    """rotflip: 6 target views (flips and rotations of the image); noise: the weights the
    model sees during training are perturbed (not at evaluation); none: neither."""
    from dng.train import build_model
    from dng.train.checkpoint import task_for
    from dng.train.loop import loss_fn

    c = cfg("inr2jls", steps="2", augment=aug, latent_generator="false")
    zoo = Zoo(zoo_dir)
    task = task_for(c, zoo)
    net = build_model(c, zoo)
    w, y, u8 = zoo.load("train").batch(torch.arange(4))
    seen = []
    net.register_forward_pre_hook(lambda m, args: seen.append(args[0].weights[0].clone()))
    net.train()
    loss_fn(net, task, w, y, u8)
    net.eval()
    loss_fn(net, task, w, y, u8)
    moved = (seen[0] - w.weights[0]).abs().max()
    assert (moved > 0) == aug.startswith("noise") and torch.equal(seen[1], w.weights[0])
    targets = net.targets(torch.zeros(4, 1, 28, 28).uniform_(-1, 1))
    assert targets.shape[1] == (6 if aug == "rotflip" else 1)
    if aug == "rotflip":
        assert not torch.equal(targets[:, 0], targets[:, 1])  # another view, not a copy
    assert train(zoo_dir, tmp_path / "s1", c, progress=False)["steps"] == 2


def test_a_separable_zoo_is_learned(tmp_path):
    """Dark vs bright images: their INRs differ in what they output; the DNG-Encoder (with
    probe features) trained a few dozen steps must separate them (far above 50 %)."""
    from dng.data.datasets import ImageSet, split_by_index

    g = torch.Generator().manual_seed(0)
    labels = torch.arange(96) % 2
    base = torch.randint(0, 60, (96, 1, 12, 12), generator=g, dtype=torch.uint8)
    images = base + (labels * 190).view(-1, 1, 1, 1).to(torch.uint8)
    imgs = ImageSet("toy", images, labels, split_by_index(96, 64, 16), ["dark", "bright"])
    build_zoo(imgs, tmp_path / "zoo", recipe=FitRecipe(steps=30, lr=1e-2))
    c = cfg("dng-encoder", steps="40", eval_every="40", batch_size="16", dropout="0",
            encoder_dropout="0", probes="8")
    train(tmp_path / "zoo", tmp_path / "r", c, progress=False)
    m = evaluate_run(tmp_path / "r", progress=False)
    assert m["test_accuracy"] >= 0.9


def test_reproduce_writes_the_table(tmp_path):
    from dng.pipeline import reproduce

    path = reproduce(None, ["digits"], 0.01, tmp_path, methods=("mlp", "ng-gnn"), limit=8,
                     recipe=FitRecipe(steps=3), progress=False)
    text = path.read_text()
    measured = json.loads((tmp_path / "results.json").read_text())
    for method in ("mlp", "ng-gnn"):  # each row carries the accuracy its run measured
        acc = json.loads((tmp_path / "runs" / "digits" / f"{method}-s0" / "metrics.json")
                         .read_text())["test_accuracy"]
        assert measured[method]["digits"] == [pytest.approx(100 * acc)]
        assert f"| {method} (ours) | {100 * acc:.2f} |" in text
    assert "| ng-gnn (paper) | – |" in text  # the paper has no digits number: none invented


def test_reproduce_rerun_reuses_finished_runs(tmp_path, monkeypatch):
    """A second `dng reproduce` over the same OUT trains and evaluates nothing again: it
    rebuilds the table from each run's full-test metrics.json."""
    import dng.pipeline as pipeline

    first = pipeline.reproduce(None, ["digits"], 0.01, tmp_path, methods=("mlp",), limit=8,
                               recipe=FitRecipe(steps=3), progress=False).read_text()

    def boom(*a, **k):
        raise AssertionError("a finished run was trained or evaluated again")

    monkeypatch.setattr(pipeline, "train", boom)
    monkeypatch.setattr(pipeline, "evaluate_run", boom)
    again = pipeline.reproduce(None, ["digits"], 0.01, tmp_path, methods=("mlp",), limit=8,
                               recipe=FitRecipe(steps=3), progress=False).read_text()
    assert again == first and "| mlp (ours) |" in again


def test_validation_subset_is_a_fair_sample_of_a_class_sorted_split():
    """`eval_batches` must not score only the head of a split stored class by class (the
    CIFAR JPEG tar's validation split is): the subset is a fixed random sample."""
    from dng.train import TrainConfig, validation_subset

    class Split:  # the two things validation_subset uses
        def __init__(self, label):
            self.label = label

        def __len__(self):
            return len(self.label)

        def select(self, index):
            return Split(self.label[index])

    val = Split(torch.arange(10).repeat_interleave(500))  # 5 000 INRs sorted by class
    cfg = TrainConfig(model="mlp", eval_batches=16)  # 16 × 256 = 4 096 of 5 000
    sub = validation_subset(val, cfg)
    again = validation_subset(val, cfg)
    assert len(sub) == 4096 and torch.equal(sub.label, again.label)  # same subset every time
    counts = torch.bincount(sub.label, minlength=10)
    assert counts.min() > 350 and counts.max() < 470  # every class present, none dominant
    assert validation_subset(val, TrainConfig(model="mlp", eval_batches=None)) is val


@pytest.mark.parametrize("model", ["dng-encoder", "inr2jls"])
def test_validation_builds_no_autograd_graph(zoo_dir, model):
    """Validation is pure inference: run under no_grad (and so on the models' no-grad fast
    paths), whatever the caller's grad mode."""
    from dng.train import build_model, evaluate

    c = cfg(model)
    zoo = Zoo(zoo_dir)
    net = build_model(c, zoo)
    seen = []
    net.register_forward_hook(lambda *_: seen.append(torch.is_grad_enabled()))
    with torch.enable_grad():
        m = evaluate(net, c, zoo.load("val", max_copy=0))
    assert seen and not any(seen)
    assert ("accuracy" in m) != ("psnr" in m)


def test_short_runs_log_enough_rows_and_resume_without_duplicates(zoo_dir, tmp_path):
    """A run logs ≥ ~20 metrics rows (training loss between validations); a resumed run drops
    the killed run's rows after its checkpoint, so no step appears twice."""
    import csv

    from dng.train.loggers import RunLogger

    cfg = TrainConfig(model="dng-encoder", steps=50, eval_every=25, batch_size=4, emb_dim=8,
                      fourier_dim=4, probes=0, hidden=8)
    train(zoo_dir, tmp_path / "r", cfg, progress=False)
    rows = list(csv.DictReader(open(tmp_path / "r" / "metrics.csv")))
    steps = [int(r["step"]) for r in rows]
    assert len(rows) >= 20 and steps == sorted(set(steps)) and steps[-1] == 50
    assert [int(r["step"]) for r in rows if r["val_metric"] != "nan"] == [25, 50]
    assert all(float(r["train_loss"]) > 0 for r in rows)
    # a killed run wrote rows past its last checkpoint (step 25): resuming drops them
    RunLogger(tmp_path / "r", {}, resume=True, resume_step=25)
    again = [int(r["step"]) for r in csv.DictReader(open(tmp_path / "r" / "metrics.csv"))]
    assert again == [s for s in steps if s <= 25]


def test_budget_runs_validate_often_when_validation_is_cheap(zoo_dir, tmp_path):
    """A wall-clock run validates about 20 times (and logs the training loss between)."""
    import csv

    cfg = TrainConfig(model="mlp", steps=10 ** 6, eval_every=10 ** 5, budget_minutes=0.05,
                      batch_size=4, probes=0)
    train(zoo_dir, tmp_path / "r", cfg, progress=False)
    rows = list(csv.DictReader(open(tmp_path / "r" / "metrics.csv")))
    vals = [r for r in rows if r["val_metric"] != "nan"]
    assert len(vals) >= 10 and len(rows) >= 20


def test_runs_saved_before_model_sections_load_and_resume(zoo_dir, tmp_path):
    """A run directory whose config.json holds every model setting at the top level (as
    before the model sections) loads with its model's settings, resumes and evaluates."""
    from dng.models.settings import SETTINGS
    from dng.train.config import load_run_config

    run = tmp_path / "run"
    train(zoo_dir, run, cfg("mlp", steps="3", hidden="8"), progress=False)
    saved = json.loads((run / "config.json").read_text())
    assert saved["model_config"] == {"hidden": 8, "dropout": saved["model_config"]["dropout"]}
    old = {k: v for k, v in saved.items() if k != "model_config"}
    old.update({k: d for k, (_, d) in SETTINGS.items()}, **saved["model_config"])
    (run / "config.json").write_text(json.dumps(old))  # the flat union, as written before
    back = load_run_config(run)
    assert back.model_config == saved["model_config"] and back.hidden == 8
    res = train(zoo_dir, run, back.override({"steps": "6"}), resume=True, progress=False)
    assert res["steps"] == 6 and evaluate_run(run)["test_size"] == 16
