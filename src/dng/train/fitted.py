"""Runs of models fitted once instead of trained by steps (StatNN: a gradient-boosted
regressor). Same run directory as any run: ``config.json``, ``metrics.csv`` (one row),
``best.pt`` (no learned tensors: the regressor is fitted again when the run is loaded, see
:func:`fit_on_zoo`), ``train.json``."""

from __future__ import annotations

import time
from pathlib import Path



from dng.errors import DNGError
from dng.io import DirLock, atomic_write_json
from dng.metrics import evaluate
from dng.train.config import TrainConfig, save_config
from dng.train.loggers import RunLogger


def fit_on_zoo(model, task, train_data):
    """Fit ``model`` on a train split, on the task's output scale (deterministic)."""
    return model.fit(train_data.weights, task.to_output(train_data.column(task.target)))


def fit_once(model, task, cfg: TrainConfig, zoo_dir, train_data, val_data, out: Path,
             save_checkpoint, log=print) -> dict:
    """Fit, score the val split, write the run's files (``save_checkpoint``: the run
    format's writer, passed in by the loop)."""
    if (out / "config.json").exists():
        raise DNGError(f"{out} already holds a run; choose another --out")
    with DirLock(out, "dng train"):
        save_config(out / "config.json", cfg)
        t0 = time.perf_counter()
        fit_on_zoo(model, task, train_data)
        seconds = time.perf_counter() - t0
        m = evaluate(model, val_data, task)
        logger = RunLogger(out, cfg.to_dict(), False)
        logger.row(1, seconds, float("nan"), m[task.metric], task.metric, 0.0,
                   len(train_data) / max(seconds, 1e-9))
        logger.close()
        save_checkpoint(out / "best.pt", model=model.state_dict(), step=1)
        result = {"zoo": str(zoo_dir), "task": task.to_dict(), "device": "cpu",
                  "processes": 1, "steps": 1, "train_seconds": seconds,
                  "best_val": {**m, "step": 1}, "params": 0, "trainable_params": 0,
                  "fitted": True}
        atomic_write_json(out / "train.json", result)
    log(f"{cfg.model}: fitted on {len(train_data)} networks in {seconds:.1f} s; best val {m}")
    return result


__all__ = ["fit_once", "fit_on_zoo"]
