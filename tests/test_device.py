"""Devices: names resolve with clear errors; fitting, training, resuming and evaluating run
on the test device (``--dng-device``/``$DNG_TEST_DEVICE``, the CPU by default) and agree with
the CPU."""

import json

import pytest
import torch

from dng.cli import main
from dng.data import load_dataset
from dng.device import module_device, resolve_device
from dng.errors import DNGError
from dng.eval import evaluate_run
from dng.train import TrainConfig, train
from dng.zoo import FitRecipe, build_zoo, limit_per_split

TINY = {"emb_dim": "16", "fourier_dim": "8", "latent_dim": "8", "hidden": "16",
        "eval_every": "2", "batch_size": "8"}
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")


def test_resolve_device_names():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(DNGError, match="unknown device 'banana'"):
        resolve_device("banana")
    with pytest.raises(DNGError, match="not supported"):
        resolve_device("meta")
    assert module_device(torch.nn.Linear(2, 2)) == torch.device("cpu")
    assert module_device(torch.nn.Identity()) == torch.device("cpu")


@no_cuda
def test_cuda_without_gpu_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(DNGError, match="sees no CUDA GPU"):
        resolve_device("cuda")
    assert main(["fit", "--dataset", "digits", "--out", str(tmp_path / "z"), "--limit", "2",
                 "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no CUDA GPU" in err[0]
    assert not (tmp_path / "z").exists()  # nothing partial left behind


@pytest.fixture(scope="module")
def images():
    return limit_per_split(load_dataset("digits"), 6)


def test_fit_on_device_matches_cpu(images, tmp_path, dev):
    recipe = FitRecipe(steps=12, chunk=64)
    a = build_zoo(images, tmp_path / "cpu", recipe=recipe, device="cpu").arrays()
    b = build_zoo(images, tmp_path / "dev", recipe=recipe, device=dev).arrays()
    assert b.weights.device == torch.device("cpu")  # stored on the host whatever fitted them
    # same seeds, same initial draws (made on the CPU); only float rounding differs
    assert (a.psnr - b.psnr).abs().max() < 0.05, (a.psnr - b.psnr).abs().max()
    for wa, wb in zip(a.weights.weights, b.weights.weights):
        torch.testing.assert_close(wa, wb, atol=1e-3, rtol=0)


@pytest.fixture(scope="module")
def zoo_dir(images, tmp_path_factory):
    d = tmp_path_factory.mktemp("zoo") / "digits"
    build_zoo(images, d, recipe=FitRecipe(steps=10), copies=1)
    return d


def _cfg(model, **kw):
    return TrainConfig.preset_config("cpu", model).override({**TINY, **kw})


@pytest.mark.parametrize("model", ["inr2jls", "dng-encoder"])
def test_train_on_device_resume_on_cpu_and_evaluate_anywhere(zoo_dir, tmp_path, dev, model):
    run = tmp_path / "run"
    res = train(zoo_dir, run, _cfg(model, steps="4"), progress=False, device=dev)
    assert res["device"] == str(dev) and res["steps"] == 4
    # a run started on the device continues on the CPU (checkpoints hold CPU tensors)
    c = json.loads((run / "config.json").read_text())
    c["steps"] = 6
    res = train(zoo_dir, run, TrainConfig(**c), resume=True, progress=False, device="cpu")
    assert res["steps"] == 6 and res["device"] == "cpu"
    # the same checkpoint scores the same on both devices
    m_cpu = evaluate_run(run, device="cpu")
    m_dev = evaluate_run(run, device=dev)
    for k in ("test_psnr", "val_psnr", "test_accuracy", "val_accuracy"):
        if k in m_cpu:
            assert abs(m_cpu[k] - m_dev[k]) < 1e-4, (k, m_cpu[k], m_dev[k])


def test_stage2_on_device(zoo_dir, tmp_path, dev):
    train(zoo_dir, tmp_path / "s1", _cfg("inr2jls", steps="2"), progress=False, device=dev)
    res = train(zoo_dir, tmp_path / "s2", _cfg("inr2jls-classifier", steps="2",
                                               from_run=str(tmp_path / "s1")),
                progress=False, device=dev)
    # the accuracy the device run recorded is what its best.pt scores when rescored on the CPU
    # (the whole val split is the validation subset here); the frozen stage 1 did not move
    m = evaluate_run(tmp_path / "s2", device="cpu", progress=False)
    assert res["steps"] == 2
    assert abs(res["best_val"]["accuracy"] - m["val_accuracy"]) < 1e-6
    s1 = evaluate_run(tmp_path / "s1", device="cpu", progress=False)
    assert abs(s1["test_psnr"] - m["test_psnr"]) < 1e-4


def test_train_cli_device_flag(zoo_dir, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--zoo", str(zoo_dir), "--model", "mlp", "--out", str(out),
                 "--steps", "2", "--device", "cpu", "--set", "eval_every=1"]) == 0
    assert json.loads((out / "train.json").read_text())["device"] == "cpu"
    assert main(["eval", str(out), "--device", "cpu"]) == 0
    assert "test_accuracy" in capsys.readouterr().out
    assert main(["train", "--zoo", str(zoo_dir), "--model", "mlp", "--out",
                 str(tmp_path / "r2"), "--steps", "2", "--device", "banana"]) == 2
    assert not (tmp_path / "r2").exists()
