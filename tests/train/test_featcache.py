"""Stage 2 with the frozen stage-1 features computed once: the same training as computing them
at every step, and a plain fallback where caching is off, not offered or too large."""

import json

import pytest
import torch

from dng.data import load_dataset
from dng.train import TrainConfig, train
from dng.train import featcache
from dng.zoo import FitRecipe, build_zoo, limit_per_split

TINY = {"emb_dim": "16", "fourier_dim": "8", "latent_dim": "8", "eval_every": "3",
        "batch_size": "8", "probes": "4"}


@pytest.fixture(scope="module")
def stage1(tmp_path_factory):
    root = tmp_path_factory.mktemp("featcache")
    zoo = root / "digits"
    build_zoo(limit_per_split(load_dataset("digits"), 12), zoo, recipe=FitRecipe(steps=10))
    cfg = TrainConfig.preset_config("cpu", "inr2jls").override({**TINY, "steps": "3"})
    train(zoo, root / "s1", cfg, progress=False)
    return zoo, root / "s1"


def stage2(stage1, out, **kw):
    zoo, s1 = stage1
    logs = []
    cfg = TrainConfig.preset_config("cpu", "inr2jls-classifier").override(
        {**TINY, "steps": "7", "from_run": str(s1), **kw})
    res = train(zoo, out, cfg, progress=False, log=logs.append)
    return res, torch.load(out / "last.pt", weights_only=True)["model"], logs


def test_cached_features_train_as_per_step_features(stage1, tmp_path):
    res_c, cached, logs_c = stage2(stage1, tmp_path / "cached")
    res_p, plain, logs_p = stage2(stage1, tmp_path / "plain", cache_features="false")
    assert any("computed once" in m for m in logs_c)
    assert not any("computed once" in m for m in logs_p)
    assert res_c["steps"] == res_p["steps"] == 7
    assert cached.keys() == plain.keys()
    moved = [k for k in cached if k.startswith("head.") and cached[k].is_floating_point()]
    assert moved
    for k in cached:  # head trained the same way; frozen backbone untouched
        torch.testing.assert_close(cached[k], plain[k], atol=2e-5, rtol=1e-4)
    assert res_c["best_val"]["accuracy"] == res_p["best_val"]["accuracy"]
    saved = json.loads((tmp_path / "plain" / "config.json").read_text())
    assert saved["cache_features"] is False


def test_features_over_the_limit_are_computed_per_step(stage1, tmp_path, monkeypatch):
    monkeypatch.setattr(featcache, "LIMIT_BYTES", 16)
    res, _, logs = stage2(stage1, tmp_path / "big")
    assert res["steps"] == 7
    assert any("computed at every step instead" in m for m in logs)


def test_only_models_that_offer_cached_parts_are_cached(stage1):
    zoo, _ = stage1
    from dng.zoo import Zoo

    data = Zoo(zoo).load("train")
    net = torch.nn.Linear(2, 2)
    cfg = TrainConfig.preset_config("cpu", "inr2jls-classifier")
    assert featcache.cached(net, data, data, cfg) == (net, data, data)


def test_cached_split_batches_like_the_zoo(stage1):
    zoo, _ = stage1
    from dng.zoo import Zoo

    data = Zoo(zoo).load("train")
    rows = torch.arange(len(data), dtype=torch.float32)[:, None].repeat(1, 3)
    split = featcache.CachedSplit(rows, data)
    idx = torch.tensor([2, 0, 5])
    f, y, u8 = split.batch(idx)
    _, y0, u80 = data.batch(idx)
    assert torch.equal(f[:, 0], idx.float()) and torch.equal(y, y0) and torch.equal(u8, u80)
    assert torch.equal(torch.cat(list(split.weight_batches(5))), rows)
    assert torch.equal(split.column("label"), data.column("label"))
    with pytest.raises(ValueError, match="feature rows"):
        featcache.CachedSplit(rows[:-1], data)
