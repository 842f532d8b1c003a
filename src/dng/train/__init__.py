"""Training jobs: any registered model on any task it serves (:mod:`dng.tasks`) — INR2JLS stage 1
(reconstruction), stage 2 (latent classifier), direct classifiers and regressors.

``presets`` (model names, presets and field help: data) → ``config`` (what a run is; checks in ``configcheck``;
YAML/override loading) → ``checkpoint`` (model through the
registry, run files) → ``loop`` (:func:`train`); ``dng.distributed`` (torchrun/DDP) and
``loggers`` (CSV, TensorBoard, W&B) serve the loop.
"""

import importlib

_WHERE = {
    "predictions": "dng.metrics", "recon_errors": "dng.metrics", "recon_mse": "dng.metrics",
    "CKPT_VERSION": "dng.train.checkpoint", "build_model": "dng.train.checkpoint",
    "load_config": "dng.train.checkpoint", "load_run_model": "dng.train.checkpoint",
    "model_kwargs": "dng.train.checkpoint", "views_for": "dng.train.checkpoint",
    "TrainConfig": "dng.train.config", "load_config_layers": "dng.train.config",
    "CLASSIFIERS": "dng.train.presets", "INR2INR_MODEL": "dng.train.presets",
    "MODELS": "dng.train.presets", "PRESETS": "dng.train.presets", "STAGE1": "dng.train.presets",
    "STAGE1_MODELS": "dng.train.presets", "STAGE2": "dng.train.presets",
    "eval_batch_size": "dng.train.loop", "train": "dng.train.loop",
    "validation_subset": "dng.train.loop",
}


def __getattr__(name: str):
    # loaded on first use: the CLI's parser reads the presets without importing torch
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'dng.train' has no attribute {name!r}")


def evaluate(model, cfg, data) -> dict:
    """Validation metrics of ``model`` over ``data`` for the config's task (classification
    and reconstruction; a regression run's task needs its zoo: see ``task_for``)."""
    from dng.metrics import evaluate as evaluate_split
    from dng.tasks import make_task
    from dng.train.loop import eval_batch_size

    task = make_task(cfg.task_name, num_classes=2, augment=cfg.augment, target=cfg.target)
    return evaluate_split(model, data, task, eval_batch_size(cfg))


__all__ = sorted([*_WHERE, "evaluate"])
