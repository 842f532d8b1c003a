"""Training jobs: any registered model on any task it serves (:mod:`dng.tasks`) — INR2JLS stage 1
(reconstruction), stage 2 (latent classifier), direct classifiers and regressors.

``presets`` (model names, presets and field help: data) → ``config`` (what a run is,
YAML/override loading) → ``checkpoint`` (model through the
registry, run files) → ``loop`` (:func:`train`); ``dng.distributed`` (torchrun/DDP) and
``loggers`` (CSV, TensorBoard, W&B) serve the loop.
"""

from dng.metrics import evaluate as evaluate_split
from dng.metrics import predictions, recon_errors, recon_mse
from dng.train.checkpoint import (CKPT_VERSION, build_model, load_config, load_run_model,
                                  model_kwargs, views_for)
from dng.train.config import TrainConfig, load_config_layers
from dng.train.presets import (CLASSIFIERS, INR2INR_MODEL, MODELS, PRESETS, STAGE1, STAGE1_MODELS,
                               STAGE2)
from dng.train.loop import eval_batch_size, train, validation_subset


def evaluate(model, cfg: TrainConfig, data) -> dict:
    """Validation metrics of ``model`` over ``data`` for the config's task (classification
    and reconstruction; a regression run's task needs its zoo: see ``task_for``)."""
    from dng.tasks import make_task

    task = make_task(cfg.task_name, num_classes=2, augment=cfg.augment, target=cfg.target)
    return evaluate_split(model, data, task, eval_batch_size(cfg))


__all__ = ["CKPT_VERSION", "CLASSIFIERS", "INR2INR_MODEL", "MODELS", "PRESETS", "STAGE1",
           "STAGE1_MODELS", "STAGE2", "TrainConfig", "build_model", "eval_batch_size", "evaluate",
           "load_config", "load_config_layers", "load_run_model", "model_kwargs",
           "predictions", "recon_errors", "recon_mse", "train", "validation_subset", "views_for"]
