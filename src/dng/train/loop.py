"""The training loop: one function, read top to bottom.

setup (zoo, model, optimiser, resume) → for each step: batch → loss → backward → update →
now and then: validate, log, checkpoint → result. Batches follow a seeded permutation per
epoch, so a resumed run draws exactly what a straight one would; under torchrun each rank
computes its slice of every global batch (see :mod:`dng.train.distributed`).
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import torch

from dng.data.datasets import normalize_images
from dng.device import resolve_device
from dng.errors import DNGError
from dng.io import DirLock, atomic_write_json
from dng.metrics import evaluate
from dng import distributed, tasks
from dng.train.checkpoint import build_model, restore_run, save_checkpoint, task_for
from dng.train.config import TrainConfig, save_config
import dng.train.featcache as featcache
from dng.train.loggers import RunLogger
from dng.train.optim import (checkpoint_state, lr_factor, make_optimizer,  # noqa: F401
                             speed_settings)
from dng.zoo import Zoo


ROWS = 25  # metrics.csv rows to aim for in a run (training loss between validations)
VALIDATIONS = 20  # validations to aim for in a wall-clock-budget run (when they are cheap)


def _holds_run(out: Path) -> bool:
    """A run directory with something to keep: a checkpoint or a finished record (a run that
    died before its first checkpoint left only its config: a fresh start may reuse it)."""
    return (out / "config.json").exists() and any(
        (out / f).exists() for f in ("last.pt", "best.pt", "train.json"))


def eval_batch_size(cfg: TrainConfig) -> int:
    return tasks.eval_batch_size(cfg.task_name)


def validation_subset(val, cfg: TrainConfig):
    """The validation INRs scored during training: all of them, or — with ``eval_batches`` —
    a fixed random subset of ``eval_batches`` batches (the same one at every evaluation and
    for every run; the split's own order may be sorted by class, so its head is not a fair
    sample)."""
    if cfg.eval_batches is None:
        return val
    n = cfg.eval_batches * eval_batch_size(cfg)
    if n >= len(val):
        return val
    g = torch.Generator().manual_seed(0)
    return val.select(torch.randperm(len(val), generator=g)[:n].sort().values)


def zoo_identity(zoo: Zoo) -> str:
    """What makes a zoo the same zoo wherever it lies: its images, spec, recipe, seed, size."""
    m = zoo.manifest
    return (f"{m['dataset']['name']}:{m['dataset']['checksum'][:12]}:{m['num_inrs']}INRs:"
            f"seed{m['seed']}:{m['recipe'].get('steps')}steps")


def loss_fn(model, task: tasks.Task, weights, y, images_u8) -> torch.Tensor:
    """The task's training loss (kept as a function: tests and benchmarks call it)."""
    return task.loss(model, weights, y, images_u8)


def train(zoo_dir: str | Path, out: str | Path, cfg: TrainConfig, resume: bool = False,
          progress: bool = True, log=print, device: str | torch.device = "cpu",
          verify: bool = True, force: bool = False) -> dict:
    """Train one job; returns the final metrics dict (also written to ``out/train.json``).

    ``device``: where the model and its batches live (the zoo stays in host memory; each
    batch is copied over). A run may be resumed on another device, or with another number
    of processes. ``verify``: check the zoo files' sha256 as they are read. ``force``: resume
    even on a zoo other than the one the run started on."""
    out = Path(out)
    ranks = distributed.ranks_from_env()
    dev = ranks.device(resolve_device(device))
    zoo = Zoo(zoo_dir, verify_data=verify)
    if cfg.probes and not zoo.arch.is_mlp:  # said once, and the saved config says 0
        log(f"dng train: probe features need MLP weights (INRs); {zoo_dir} holds "
            f"{zoo.arch.describe()}: probes={cfg.probes} → 0")
        cfg = TrainConfig(**{**cfg.to_dict(), "probes": 0})
    try:
        task = task_for(cfg, zoo)
    except DNGError as e:
        raise DNGError(f"{zoo_dir}: {e}") from None
    if _holds_run(out) and not resume:
        raise DNGError(f"{out} already holds a run; pass --resume to continue it or choose "
                       "another --out")
    local = ranks.local_slice(cfg.batch_size)
    have = int(zoo.manifest.get("copies") or 0)
    if cfg.copies > have:  # never silently fewer than asked (the saved config says what ran)
        raise DNGError(f"{zoo_dir} holds {have} extra random-init copies per training image; "
                       f"copies={cfg.copies} asks for more (use --set copies={have} or less)")
    train_data = zoo.load("train", max_copy=cfg.copies)
    if len(train_data) == 0:
        raise DNGError(f"{zoo_dir}: the train split is empty")
    if ranks.distributed and len(train_data) < cfg.batch_size:
        raise DNGError(f"{zoo_dir}: the train split has {len(train_data)} INRs, fewer than "
                       f"one global batch ({cfg.batch_size})")
    if len(train_data) < cfg.batch_size and ranks.main:  # said, not silently shortened
        log(f"dng train: batch_size={cfg.batch_size} but the train split holds "
            f"{len(train_data)} networks: every step uses all {len(train_data)}")
    val_data = validation_subset(zoo.load("val", max_copy=0), cfg)
    created = distributed.init(ranks, dev)
    torch.manual_seed(cfg.seed)
    net = build_model(cfg, zoo, task).to(dev)
    if hasattr(net, "set_input_stats"):  # per-layer normalisation from the train split
        net.set_input_stats(train_data.weights.to(dev))  # (a resumed run loads its own)
    if getattr(net, "fitted_model", False):  # fitted once (StatNN), not stepped
        from dng.train.fitted import fit_once

        return fit_once(net, task, cfg, zoo_dir, train_data, val_data, out, save_checkpoint,
                        log)
    params = [p for p in net.parameters() if p.requires_grad]
    opt = make_optimizer(cfg, params, dev)
    autocast = speed_settings(cfg, dev)

    step, best, best_metrics, elapsed = 0, -math.inf, {}, 0.0
    if resume and (out / "last.pt").is_file():
        step, best, best_metrics, elapsed = restore_run(out, net, opt, zoo_identity(zoo),
                                                         zoo_dir, force, dev, log)
    if cfg.data_on_device:
        train_data = train_data.to(dev)  # batches are then gathered on the device
    lock = DirLock(out, "dng train")
    if ranks.main:
        lock.acquire()  # one writer per run directory
        try:
            if not resume and _holds_run(out):  # a rival started it meanwhile
                raise DNGError(f"{out} already holds a run; pass --resume to continue it")
            save_config(out / "config.json", cfg)
        except BaseException:
            lock.release()
            raise
    ranks.barrier()
    try:
        t0 = time.perf_counter()  # a frozen front end's features, once (in the budget):
        stepped, train_data, val_scored = featcache.cached(net, train_data, val_data, cfg,
                                                           log if ranks.main else None)
        elapsed += time.perf_counter() - t0
        model = distributed.wrap(stepped, ranks, dev)
        if cfg.compile != "none":
            model = torch.compile(model, mode=None if cfg.compile == "default" else cfg.compile)
        logger = RunLogger(out, cfg.to_dict(), resume, enabled=ranks.main, wandb=cfg.wandb,
                           resume_step=step)

        budget = cfg.budget_minutes * 60 if cfg.budget_minutes else math.inf
        bar = _progress_bar(cfg, step, budget) if progress and ranks.main else None
        t_start = time.perf_counter() - elapsed
        t_log, seen_log = time.perf_counter(), 0
        running, n_run = torch.zeros((), device=dev), 0
        row_steps = max(1, min(cfg.eval_every, cfg.steps // ROWS))  # ≥ ~ROWS loss rows a run
        row_secs, t_row = budget / ROWS, time.perf_counter()
        # with a wall-clock budget, validate about VALIDATIONS times too — while a validation
        # costs under 5 % of the interval (one process: ranks would have to agree on time)
        val_secs, t_val, val_cost = budget / VALIDATIONS, time.perf_counter(), 0.0
        n_train = len(train_data)
        per_epoch = max(1, n_train // cfg.batch_size)
        perm: dict[int, torch.Tensor] = {}

        def batch_at(step: int):
            """This rank's part of the global batch for ``step``: epoch ``e`` is a permutation
            seeded by ``(seed, e)`` — resumable, and the same on every rank."""
            e, k = divmod(step, per_epoch)
            if e not in perm:
                perm.clear()
                perm[e] = torch.randperm(n_train, generator=torch.Generator().manual_seed(
                    cfg.seed * 1_000_003 + e))
            idx = perm[e][k * cfg.batch_size:(k + 1) * cfg.batch_size]  # short if split < batch
            return train_data.batch(idx[local] if ranks.distributed else idx,
                                    None if cfg.data_on_device else dev, task.target)

        model.train()
        done = step >= cfg.steps or elapsed >= budget
        while not done:
            w, y, u8 = batch_at(step)
            for g in opt.param_groups:
                g["lr"] = cfg.lr * lr_factor(cfg, step)
            with autocast():
                loss = loss_fn(model, task, w, y, u8)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            step += 1
            seen_log += cfg.batch_size
            running += loss.detach()  # stays on the device: no sync per step
            n_run += 1
            done = ranks.agree(step >= cfg.steps or time.perf_counter() - t_start >= budget)
            now = time.perf_counter()
            validate = step % cfg.eval_every == 0 or done or (
                not ranks.distributed and now - t_val >= val_secs
                and val_cost <= 0.05 * val_secs)
            if not validate and ranks.main and \
                    (step % row_steps == 0 or now - t_row >= row_secs):
                part = float(running) / max(n_run, 1)
                logger.row(step, now - t_start, part, math.nan, task.metric,
                           opt.param_groups[0]["lr"], seen_log / max(now - t_log, 1e-9))
                if bar:
                    bar.set_postfix_str(f"step {step}, loss {part:.4f}")
                running, n_run, t_row, t_log, seen_log = torch.zeros((), device=dev), 0, now, \
                    now, 0
            if validate:
                t_row = now
                train_loss = float(running) / max(n_run, 1)
                if not math.isfinite(train_loss):
                    raise DNGError(f"training diverged: mean loss {train_loss} over steps "
                                   f"{step - n_run + 1}–{step} (lower --lr?); {out}/best.pt and "
                                   "last.pt hold the last good state")
                running, n_run = torch.zeros((), device=dev), 0
                if ranks.main:
                    m = evaluate(stepped, val_scored, task)
                    val_cost, t_val = time.perf_counter() - now, time.perf_counter()
                    model.train()
                    now = time.perf_counter()
                    rate = seen_log / max(now - t_log, 1e-9)
                    t_log, seen_log = now, 0
                    name = task.metric
                    lr = opt.param_groups[0]["lr"]
                    logger.row(step, now - t_start, train_loss, m[name], name, lr, rate)
                    logger.scalars(step, {"train/loss": train_loss, "train/lr": lr,
                                          "train/inr_per_s": rate, f"val/{name}": m[name]})
                    if task.needs_images:
                        _log_reconstructions(logger, net, val_data, step, dev)
                    weights = checkpoint_state(net, cfg)  # once for both files
                    if task.objective(m) > best or not best_metrics:  # (the first one: kept
                        # even when its score is undefined, e.g. Kendall τ of one network)
                        best, best_metrics = task.objective(m), {**m, "step": step}
                        save_checkpoint(out / "best.pt", model=weights, step=step)
                    small = cfg.checkpoint_dtype == "bf16"  # weights only: no optimizer state
                    save_checkpoint(out / "last.pt", model=weights,
                                    **({} if small else {"optimizer": opt.state_dict()}),
                                    step=step, best=best,
                                    best_metrics=json.dumps(best_metrics),
                                    elapsed=time.perf_counter() - t_start,
                                    torch_rng=torch.get_rng_state(), zoo_id=zoo_identity(zoo),
                                    **({"cuda_rng": torch.cuda.get_rng_state(dev)}
                                       if dev.type == "cuda" else {}))
                    if bar:  # values already on the host: no extra device sync
                        bar.set_postfix_str(f"step {step}, loss {train_loss:.4f}, "
                                            f"val {name} {m[name]:.4f}, {rate:.0f} INR/s")
                ranks.barrier()
            if bar:
                if budget < math.inf:  # the bar counts the budget's seconds, not a step cap
                    bar.update(min(int(time.perf_counter() - t_start), bar.total) - bar.n)
                else:
                    bar.update(1)
        if bar:
            bar.close()
        logger.close()
        result = {"zoo": str(zoo_dir), "task": task.to_dict(), "device": str(dev),
                  "processes": ranks.world, "threads": torch.get_num_threads(),
                  "steps": step, "train_seconds": time.perf_counter() - t_start,
                  "best_val": best_metrics, "params": sum(p.numel() for p in net.parameters()),
                  "trainable_params": sum(p.numel() for p in params)}
        if ranks.main:
            atomic_write_json(out / "train.json", result)
            log(f"{cfg.model}: {step} steps in {result['train_seconds']:.0f} s; "
                f"best val {best_metrics}")
        ranks.barrier()
        return result

    finally:
        lock.release()
        distributed.finish(created)


def _progress_bar(cfg: TrainConfig, step: int, budget: float):
    """Steps of ``cfg.steps``, or — with a wall-clock budget — seconds of the budget."""
    from tqdm import tqdm

    # redrawn twice a second on a terminal, every 30 s into a log file
    tty = sys.stderr.isatty()
    kw = dict(desc=cfg.model, dynamic_ncols=tty, mininterval=0.5 if tty else 30.0,
              file=sys.stderr)
    if budget < math.inf:
        return tqdm(total=int(budget), unit="s", **kw)
    return tqdm(total=cfg.steps, initial=step, unit="step", **kw)


@torch.no_grad()
def _log_reconstructions(logger: RunLogger, net, val_data, step: int, dev) -> None:
    """A few decoded validation images (first view) for TensorBoard / W&B."""
    if not logger.backends:
        return
    sub = val_data.select(torch.arange(min(8, len(val_data))))
    rec = net(sub.weights.to(dev))
    C = sub.target_images().shape[1]
    logger.images(step, "val/reconstructions", rec[:, :C])
    logger.images(step, "val/images", normalize_images(sub.target_images()))
