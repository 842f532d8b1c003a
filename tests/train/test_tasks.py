"""Tasks as values: regression on an INR zoo's PSNR from the CLI, and the task's own rules."""

import json

import pytest
import torch

from dng.errors import ConfigError
from dng.tasks import Classify, Regress, kendall_tau, make_task, r2_score


def test_psnr_regression_end_to_end(separable_zoo, tmp_path):
    from dng.cli import main

    run = tmp_path / "run"
    main(["train", "--zoo", str(separable_zoo), "--model", "dng-encoder", "--task", "regress",
          "--target", "psnr", "--out", str(run), "--steps", "6", "--eval-every", "3",
          "--emb-dim", "8", "--fourier-dim", "4", "--probes", "0"])
    main(["eval", str(run)])
    m = json.loads((run / "metrics.json").read_text())
    assert m["task"]["target"] == "psnr" and not m["task"]["sigmoid"]
    assert m["task"]["loss"] == "mse" and 20 < m["task"]["mean"] < 80  # standardised by train
    assert {"test_kendall_tau", "test_r2", "test_mse"} <= set(m)
    assert (run / "regression.png").is_file() and (run / "curves.png").is_file()


def test_regress_scores_and_standardisation():
    y = torch.tensor([30.0, 32.0, 34.0, 36.0])
    t = Regress("psnr", sigmoid=False, loss_name="mse").prepare(y)
    assert t.mean == pytest.approx(33.0) and t.std == pytest.approx(float(y.std()))
    s = t.scores(y * 2, y)
    assert s["kendall_tau"] == pytest.approx(1.0) and s["r2"] < 0
    assert r2_score(y, y) == 1.0 and kendall_tau(-y, y) == pytest.approx(-1.0)


def test_tasks_refuse_what_they_cannot_do():
    with pytest.raises(ConfigError, match="needs labels"):
        make_task("classify", num_classes=0)
    with pytest.raises(ConfigError, match="bce needs a sigmoid"):
        Regress("psnr", sigmoid=False, loss_name="bce")
    with pytest.raises(ConfigError, match="unknown task"):
        make_task("segment")
    assert isinstance(make_task("classify", num_classes=3), Classify)
    assert make_task("regress").sigmoid and make_task("regress", target="psnr").loss_name == "mse"


def test_a_model_refuses_a_task_it_does_not_serve():
    from dng.train import TrainConfig

    with pytest.raises(ConfigError, match="serves reconstruct"):
        TrainConfig.preset_config("cpu", "inr2inr").override({"task": "regress"})


def test_no_model_name_in_the_task_driven_code():
    """The loop, checkpoints, eval and metrics call the task and the registry table."""
    from pathlib import Path

    import dng
    from dng.models.registry import MODELS

    root = Path(dng.__file__).parent
    for rel in ("train/loop.py", "train/checkpoint.py", "eval.py", "metrics.py"):
        text = (root / rel).read_text()
        named = [m for m in MODELS if f'"{m}"' in text or f"'{m}'" in text]
        assert not named, f"{rel} names {named}"


def test_copies_beyond_the_zoo_are_refused_not_clamped(separable_zoo, tmp_path, capsys):
    from dng.cli import main

    assert main(["train", "--zoo", str(separable_zoo), "--model", "mlp", "--out",
                 str(tmp_path / "r"), "--steps", "1", "--set", "copies=3"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds 0 extra random-init copies" in err[0]
    assert not (tmp_path / "r").exists()
