"""A run directory: its model (built from the config through the registry only), its
checkpoints (``last.pt`` to resume, ``best.pt`` the selected weights) and its config.

Checkpoints hold CPU tensors and plain values; they are written atomically and read with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from dng.errors import ConfigError, DNGError
from dng.io import atomic_torch_save
from dng.models import create
from dng.models.registry import entry
from dng.tasks import Task, make_task
from dng.train.config import TrainConfig, load_run_config
from dng.zoo import Zoo

CKPT_VERSION = 1


def views_for(cfg: TrainConfig) -> int:
    """Image views decoded by stage 1: the 6 rotations/flips with ``augment=rotflip``, else 1."""
    return 6 if cfg.augment == "rotflip" else 1


def task_for(cfg: TrainConfig, zoo: Zoo) -> Task:
    """The run's task, with what it needs from the zoo (classes, the train split's target
    statistics for a plain regression output) — the same value at every build of the run."""
    name = cfg.task_name
    task = make_task(name, num_classes=zoo.num_classes, augment=cfg.augment, target=cfg.target,
                     loss=None if cfg.regress_loss == "auto" else cfg.regress_loss,
                     style=getattr(cfg, "style", None))
    if task.target not in (None, "label"):
        task = task.prepare(zoo.load("train", max_copy=0).column(task.target))
    if task.needs_images and not zoo.renders:
        raise ConfigError(f"task {name} needs the networks' images; {zoo.path} has none")
    return task


def model_kwargs(cfg: TrainConfig, zoo: Zoo, task: Task | None = None) -> dict:
    """Everything :func:`dng.models.create` gets for ``cfg.model``: the config's fields its
    registry entry names, and what the entry ``needs`` from the zoo and the task."""
    e = entry(cfg.model)
    kw = {f: getattr(cfg, f) for f in e.fields}
    needs = set(e.needs)
    if "probe_omega" in needs:
        kw["probe_omega"] = zoo.first_omega
    if "image_shape" in needs:
        kw["image_shape"] = zoo.image_shape
    if "views" in needs:
        kw["views"] = views_for(cfg)
    if "omega" in needs:
        kw["omega"] = zoo.first_omega
    if "spec" in needs:
        kw["spec"] = zoo.spec
    if "num_classes" in needs:
        kw["num_classes"] = (task or task_for(cfg, zoo)).output_size()
    return kw


def build_model(cfg: TrainConfig, zoo: Zoo, task: Task | None = None) -> torch.nn.Module:
    """The model a config describes, through the registry (a model that ``needs`` a backbone:
    on the trained run of ``cfg.from_run``)."""
    kw = model_kwargs(cfg, zoo, task)
    if "backbone" in entry(cfg.model).needs:
        if not cfg.from_run:
            raise ConfigError(f"{cfg.model} needs --from RUN (a trained inr2jls or inr2inr run)")
        backbone = load_run_model(Path(cfg.from_run), zoo)
        if not hasattr(backbone, "targets"):
            raise ConfigError(f"{cfg.from_run} is not an inr2jls or inr2inr run")
        kw["backbone"] = backbone
    return create(cfg.model, zoo.arch, **kw)


def load_config(run: str | Path) -> TrainConfig:
    return load_run_config(run)


def load_run_model(run: Path, zoo: Zoo) -> torch.nn.Module:
    """A run's model with its selected (``best.pt``) weights, in eval mode."""
    cfg = load_config(run)
    model = build_model(cfg, zoo)
    st = read_checkpoint(Path(run) / "best.pt", "best.pt checkpoint (was the run trained?)")
    try:
        model.load_state_dict(st["model"])
    except (RuntimeError, KeyError) as e:
        raise DNGError(f"{run}/best.pt does not fit the run's model "
                       f"({str(e).splitlines()[0]})") from None
    if getattr(model, "fitted_model", False):  # no weights on disk: fit again (deterministic)
        from dng.train.fitted import fit_on_zoo

        fit_on_zoo(model, task_for(cfg, zoo), zoo.load("train", max_copy=0))
    return model.eval()


def save_checkpoint(path: Path, **state) -> None:
    atomic_torch_save(path, {**state, "version": CKPT_VERSION})


def read_checkpoint(path: Path, what: str = "checkpoint") -> dict:
    """Load a checkpoint safely (``weights_only``); a missing, truncated or foreign file is one
    :class:`DNGError` naming it."""
    if not path.is_file():
        raise DNGError(f"{path.parent}: no {what}")
    try:
        st = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - truncated / foreign / unsafe pickles
        why = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise DNGError(f"{path}: not a readable dng checkpoint ({why})") from None
    if not isinstance(st, dict) or st.get("version") != CKPT_VERSION:
        v = st.get("version") if isinstance(st, dict) else None
        raise DNGError(f"{path}: checkpoint format {v} is not supported "
                       f"(this dng writes {CKPT_VERSION})")
    if not isinstance(st.get("model"), dict):
        raise DNGError(f"{path}: not a dng checkpoint (no 'model' state_dict)")
    return st


def restore_run(out: Path, net, opt, zoo_id: str, zoo_dir, force: bool, dev, log
                ) -> tuple[int, float, dict, float]:
    """Load ``OUT/last.pt`` into ``net`` and ``opt`` (and the RNG state) for ``--resume``;
    return ``(step, best, best_metrics, elapsed)``. A checkpoint of another zoo (without
    ``force``), of another model, or with a damaged resume state is one :class:`DNGError`."""
    import json

    st = read_checkpoint(out / "last.pt")
    if st.get("zoo_id") not in (None, zoo_id) and not force:
        raise DNGError(f"{out} was trained on another zoo ({st['zoo_id']}); --resume "
                       f"with {zoo_dir} ({zoo_id}) needs --force")
    try:
        net.load_state_dict(st["model"])
        if "optimizer" in st:
            opt.load_state_dict(st["optimizer"])
    except (RuntimeError, ValueError, KeyError) as e:
        raise DNGError(f"{out}/last.pt does not fit this run's model (was the config "
                       f"changed? {str(e).strip().splitlines()[0][:160]})") from None
    if "optimizer" not in st:
        log(f"{out}/last.pt holds no optimizer state (checkpoint_dtype=bf16): the "
            "optimizer starts afresh")
    try:
        step, best, elapsed = int(st["step"]), float(st["best"]), float(st["elapsed"])
        best_metrics = json.loads(st["best_metrics"])
        if not isinstance(best_metrics, dict) or step < 0:
            raise ValueError("best_metrics / step")
        torch.set_rng_state(st["torch_rng"])
    except (KeyError, TypeError, ValueError, RecursionError, RuntimeError) as e:
        raise DNGError(f"{out}/last.pt: damaged resume state ({type(e).__name__}: {e}); "
                       "delete it to start over") from None
    if dev.type == "cuda" and "cuda_rng" in st:
        torch.cuda.set_rng_state(st["cuda_rng"], dev)
    return step, best, best_metrics, elapsed
