"""The fast-path options change speed, not results: on-device data, bf16 autocast, small
(bf16) checkpoints that resume, torch.compile."""

import json

import pytest
import torch

from dng.data import load_dataset
from dng.train import TrainConfig, load_run_model, train
from dng.zoo import FitRecipe, Zoo, build_zoo, limit_per_split

TINY = {"emb_dim": "16", "fourier_dim": "8", "latent_dim": "8", "hidden": "16",
        "eval_every": "3", "batch_size": "8", "dropout": "0", "encoder_dropout": "0",
        "probes": "4"}


@pytest.fixture(scope="module")
def zoo_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("zoo") / "digits"
    build_zoo(limit_per_split(load_dataset("digits"), 16), d, recipe=FitRecipe(steps=5))
    return d


def cfg(model, **kw):
    return TrainConfig.preset_config("cpu", model).override({**TINY, **kw})


def test_device_resident_data_gives_the_same_run(zoo_dir, tmp_path):
    a = train(zoo_dir, tmp_path / "a", cfg("dng-encoder", steps="6"), progress=False)
    b = train(zoo_dir, tmp_path / "b", cfg("dng-encoder", steps="6", data_on_device="false"),
              progress=False)
    assert a["best_val"] == b["best_val"]
    sa = torch.load(tmp_path / "a" / "last.pt", weights_only=True)["model"]
    sb = torch.load(tmp_path / "b" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_bf16_autocast_and_small_checkpoints_resume(zoo_dir, tmp_path):
    run = tmp_path / "r"
    c = cfg("inr2jls", steps="3", precision="bf16", checkpoint_dtype="bf16")
    res = train(zoo_dir, run, c, progress=False)
    assert res["best_val"]["loss"] == res["best_val"]["loss"]  # finite, not NaN
    st = torch.load(run / "last.pt", weights_only=True)
    assert "optimizer" not in st
    assert all(v.dtype == torch.bfloat16 for v in st["model"].values() if v.is_floating_point())
    model = load_run_model(run, Zoo(zoo_dir))  # bf16 weights load into the fp32 model
    assert next(model.parameters()).dtype == torch.float32
    c2 = TrainConfig(**{**json.loads((run / "config.json").read_text()), "steps": 6})
    assert train(zoo_dir, run, c2, resume=True, progress=False)["steps"] == 6


def test_probe_features_stay_in_float32_under_autocast():
    from dng.models.probes import ProbeFeatures
    from conftest import random_mlp

    w = random_mlp((2, 8, 1), batch=2)
    probe = ProbeFeatures(4, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        f = probe(w)
    assert all(t.dtype == torch.float32 for t in f)
    torch.testing.assert_close(f[-1], probe(w)[-1])


def test_compiled_model_trains(zoo_dir, tmp_path):
    pytest.importorskip("torch._inductor")
    train(zoo_dir, tmp_path / "c", cfg("mlp", steps="3", compile="default"), progress=False)
    train(zoo_dir, tmp_path / "e", cfg("mlp", steps="3"), progress=False)
    a = torch.load(tmp_path / "c" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "e" / "last.pt", weights_only=True)["model"]
    assert a.keys() == b.keys()  # compiled or not, the same state-dict names
    for k in a:  # and the same weights up to kernel rounding
        torch.testing.assert_close(a[k], b[k], atol=1e-4, rtol=1e-3)
