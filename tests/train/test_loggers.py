"""Run loggers: the CSV is always written; a failing backend says so once and is switched off."""

import csv

import torch

from dng.train.loggers import CSV_FIELDS, RunLogger


class Broken:
    def add_scalar(self, *a):
        raise OSError("disk full")

    def close(self):
        pass


def test_csv_always_and_a_failing_backend_warns_once(tmp_path, capsys):
    log = RunLogger(tmp_path, {"lr": 1e-3}, resume=False)
    log.backends["tensorboard"] = Broken()
    for step in (10, 20):
        log.row(step, 1.0 * step, 0.5, 0.75, "accuracy", 1e-3, 100.0)
        log.scalars(step, {"train/loss": 0.5})
    log.images(20, "x", torch.zeros(2, 1, 4, 4))
    log.close()
    err = capsys.readouterr().err
    assert err.count("tensorboard logging failed (OSError: disk full)") == 1
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [r["step"] for r in rows] == ["10", "20"] and tuple(rows[0]) == CSV_FIELDS
    assert rows[0]["val_name"] == "accuracy" and float(rows[1]["val_metric"]) == 0.75


def test_wandb_asked_for_but_missing_says_so(tmp_path, capsys, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_wandb(name, *a, **k):
        if name == "wandb":
            raise ImportError("no wandb")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_wandb)
    log = RunLogger(tmp_path, {}, resume=False, wandb=True)
    assert "wandb" not in log.backends
    assert "wandb logging not installed" in capsys.readouterr().err
    log.close()


def test_non_main_rank_writes_nothing(tmp_path):
    log = RunLogger(tmp_path / "r", {}, resume=False, enabled=False)
    log.row(1, 0.0, 0.1, 0.2, "psnr", 1e-3, 1.0)
    assert not (tmp_path / "r").exists()
