"""Training jobs: INR2JLS stage 1 (reconstruction), stage 2 (latent classifier) and the direct
classifiers (``dng-encoder``, ``ng-gnn``, ``mlp``).

One short loop (:func:`train`) serves every job; a :class:`TrainConfig` describes it and is saved
as ``config.json`` in the run directory. Checkpoints (model, optimizer, step, RNG states, best
metric, format version) are written atomically; ``resume=True`` continues a killed run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
import torch.nn.functional as F

from dng.data.datasets import normalize_images
from dng.device import module_device, resolve_device
from dng.errors import DNGError
from dng.models import INR2JLS, create
from dng.models.heads import INR2JLSClassifier
from dng.models.inr2inr import INR2INR as INR2INRModel
from dng.models.inr2inr import ReadoutClassifier
from dng.zoo import Zoo
from dng.zoo.fit import psnr_from_mse
from dng.zoo.store import atomic_write_bytes, atomic_write_json

CKPT_VERSION = 1
STAGE1 = "inr2jls"
STAGE2 = "inr2jls-classifier"
INR2INR = "inr2inr"  # ablation: stage 1 decoding SIREN weights
STAGE1_MODELS = (STAGE1, INR2INR)
CLASSIFIERS = ("dng-encoder", "ng-gnn", "mlp")


@dataclass
class TrainConfig:
    """Every field can be set from the CLI (``--set name=value``)."""

    model: str = STAGE1
    preset: str = "cpu"
    steps: int = 100_000
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 0.0
    optimizer: str = "adam"  # adam | adamw
    warmup_base: float = 0.5  # lr factor min(1, base + inc·k), k bumped every `warmup_every`
    warmup_inc: float = 0.05
    warmup_every: int = 1000
    eval_every: int = 500
    eval_batches: int | None = None  # limit validation batches (None = the whole split)
    budget_minutes: float | None = None  # wall-clock budget; best-val checkpoint is kept
    seed: int = 0
    copies: int = 0  # extra random-init INR copies per training image used from the zoo
    augment: str = "rotflip"  # none | noise[:level] | rotflip  (image views for stage 1)
    # model sizes
    emb_dim: int = 128
    fourier_dim: int = 64
    fourier_scale: float = 3.0
    passes: int = 1
    cell: str = "gru"
    aggregation: str = "sum"  # "sum" (paper) or "mean" over source neurons
    positional_embedding: bool = False
    activation_embedding: bool = False
    probes: int = 0  # K probe inputs per INR (DNG models and ng-gnn; 0 = the paper's models)
    probe_mode: str = "post"  # probe features: "post"- or "pre"-activations
    latent_dim: int = 64
    latent_generator: bool = True
    dropout: float = 0.2  # classifier dropout
    hidden: int = 128  # head width of direct classifiers
    from_run: str | None = None  # stage 2: the stage-1 run directory
    extra: dict = field(default_factory=dict)

    @classmethod
    def preset_config(cls, preset: str, model: str) -> "TrainConfig":
        if preset == "paper":
            if model in STAGE1_MODELS:
                return cls(model=model, preset=preset, steps=400_000, batch_size=64, lr=1e-4,
                           emb_dim=512, fourier_dim=128, latent_dim=128, eval_every=2000)
            if model == STAGE2:
                return cls(model=model, preset=preset, steps=200_000, batch_size=64, lr=1e-4,
                           optimizer="adamw", weight_decay=0.1, warmup_base=0.3, warmup_inc=0.07,
                           eval_every=2000)
            return cls(model=model, preset=preset, steps=300_000, batch_size=128, lr=1e-4,
                       optimizer="adamw", weight_decay=5e-4, emb_dim=128, fourier_dim=128,
                       eval_every=2000)
        if preset == "cpu":
            # sized for 2 cores: D=128, F=64, latent 64, one image view (augment=none:
            # 3.0–3.6× the stage-1 steps of the 6 views; at 20 min ahead of them on
            # Fashion-MNIST and CIFAR-10, level on MNIST) — see benchmarks/RESULTS.md §5.4.
            # Validation on a fixed random 16 batches (1 024 INRs for stage 1, 4 096
            # otherwise) leaves a short budget to training; `dng eval` scores the selected
            # checkpoint on the full splits.
            # Probe features (K = 64, beyond the paper) in every model that takes them: see
            # benchmarks/RESULTS.md §7 for accuracy per CPU-minute with and without.
            common = dict(model=model, preset=preset, lr=1e-3, warmup_base=1.0, eval_batches=16,
                          augment="none", probes=64)
            if model in STAGE1_MODELS:
                return cls(batch_size=32, **common)
            if model == STAGE2:
                return cls(batch_size=64, optimizer="adamw", weight_decay=0.1, **common)
            return cls(batch_size=64, optimizer="adamw", weight_decay=5e-4, dropout=0.2, **common)
        raise DNGError(f"unknown preset {preset!r} (paper or cpu)")

    def override(self, pairs: dict[str, str]) -> "TrainConfig":
        types = {f.name: f.type for f in fields(self)}
        d = asdict(self)
        for k, v in pairs.items():
            if k not in types:
                raise DNGError(f"unknown config field {k!r}; fields: {', '.join(types)}")
            cur = d[k]
            if v.lower() in ("none", "null") and "None" in str(types[k]):
                d[k] = None
            elif isinstance(cur, bool):
                d[k] = v.lower() in ("1", "true", "yes", "on")
            elif isinstance(cur, int) and not isinstance(cur, bool):
                d[k] = int(v)
            elif isinstance(cur, float) or "float" in str(types[k]):
                d[k] = float(v)
            elif "int" in str(types[k]):
                d[k] = int(v)
            else:
                d[k] = v
        return TrainConfig(**d)


# ------------------------------------------------------------------------------ model building

def probe_kwargs(cfg: TrainConfig, zoo: Zoo) -> dict:
    """Probe settings; the sine frequency is the zoo's (its INRs' own ω)."""
    return dict(probes=cfg.probes, probe_mode=cfg.probe_mode, probe_omega=zoo.spec.first_omega)


def encoder_kwargs(cfg: TrainConfig, zoo: Zoo) -> dict:
    return dict(emb_dim=cfg.emb_dim, fourier_dim=cfg.fourier_dim, fourier_scale=cfg.fourier_scale,
                passes=cfg.passes, cell=cfg.cell, aggregation=cfg.aggregation,
                positional_embedding=cfg.positional_embedding,
                activation_embedding=cfg.activation_embedding, **probe_kwargs(cfg, zoo))


def views_for(cfg: TrainConfig) -> int:
    return 6 if cfg.augment == "rotflip" else 1


def build_model(cfg: TrainConfig, zoo: Zoo) -> torch.nn.Module:
    sizes = zoo.spec.layer_sizes
    if cfg.model == STAGE1:
        return create(STAGE1, sizes, image_shape=zoo.image_shape, latent_dim=cfg.latent_dim,
                      views=views_for(cfg), latent_generator=cfg.latent_generator,
                      **encoder_kwargs(cfg, zoo))
    if cfg.model == INR2INR:
        return create(INR2INR, sizes, image_shape=zoo.image_shape, omega=zoo.spec.first_omega,
                      **encoder_kwargs(cfg, zoo))
    if cfg.model == STAGE2:
        if not cfg.from_run:
            raise DNGError("stage 2 needs --from RUN (a trained inr2jls or inr2inr run)")
        backbone = load_run_model(Path(cfg.from_run), zoo)
        if isinstance(backbone, INR2JLS):
            return INR2JLSClassifier(backbone, zoo.num_classes, dropout=cfg.dropout)
        if isinstance(backbone, INR2INRModel):
            return ReadoutClassifier(backbone, zoo.num_classes)
        raise DNGError(f"{cfg.from_run} is not an inr2jls or inr2inr run")
    if cfg.model == "dng-encoder":
        return create("dng-encoder", sizes, num_classes=zoo.num_classes, hidden=cfg.hidden,
                      dropout=0.5, **encoder_kwargs(cfg, zoo))
    if cfg.model == "ng-gnn":
        return create("ng-gnn", sizes, num_classes=zoo.num_classes, hidden=cfg.hidden // 2,
                      fourier_dim=cfg.fourier_dim // 2, dropout=cfg.dropout,
                      **probe_kwargs(cfg, zoo))
    if cfg.model == "mlp":
        return create("mlp", sizes, num_classes=zoo.num_classes, hidden=4 * cfg.hidden,
                      dropout=cfg.dropout)
    raise DNGError(f"unknown model {cfg.model!r} ({STAGE1}, {STAGE2}, {INR2INR}, "
                   f"{', '.join(CLASSIFIERS)})")


def load_run_model(run: Path, zoo: Zoo) -> torch.nn.Module:
    cfg = load_config(run)
    model = build_model(cfg, zoo)
    ck = run / "best.pt"
    if not ck.is_file():
        raise DNGError(f"{run}: no best.pt checkpoint (was the run trained?)")
    state = torch.load(ck, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    return model.eval()


def load_config(run: Path) -> TrainConfig:
    p = Path(run) / "config.json"
    if not p.is_file():
        raise DNGError(f"{run}: not a dng run (no config.json)")
    return TrainConfig(**json.loads(p.read_text()))


# ------------------------------------------------------------------------------ loop helpers

def _images(u8: torch.Tensor) -> torch.Tensor:
    return normalize_images(u8)


def stage1_loss(model, weights, images_u8, cfg: TrainConfig) -> torch.Tensor:
    images = _images(images_u8)
    targets = model.targets(images)
    if cfg.augment.startswith("noise"):
        level = float(cfg.augment.split(":")[1]) if ":" in cfg.augment else 0.01
        if model.training:
            weights = weights.map(lambda t: t + level * t.std() * torch.randn_like(t))
    return F.mse_loss(model(weights), targets)


def _lr_factor(cfg: TrainConfig, step: int) -> float:
    return min(1.0, cfg.warmup_base + cfg.warmup_inc * (step // cfg.warmup_every))


def recon_mse(model, weights, images_u8: torch.Tensor) -> torch.Tensor:
    """Per-INR mean squared error ``(B,)`` of a stage-1 model's decoded views against the
    views of the images (in [-1, 1]). Callers decide about gradients."""
    rec = model(weights)
    return (rec - model.targets(_images(images_u8))).pow(2).flatten(1).mean(1)


def eval_batch_size(cfg: TrainConfig) -> int:
    return 64 if cfg.model in STAGE1_MODELS else 256


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


def _maybe_bar(batches, total: int, batch_size: int, desc: str | None):
    """``batches`` as they are, or wrapped in a progress bar (counting INRs) when ``desc``."""
    if not desc:
        yield from batches
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="INR", file=sys.stderr, leave=False,
              mininterval=0.5 if sys.stderr.isatty() else 30.0) as bar:
        for b in batches:
            yield b
            bar.update(min(batch_size, total - bar.n))


@torch.no_grad()
def predictions(model, data, batch_size: int = 256, progress: str | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted classes and true labels ``(M,)`` (on the CPU) over all of ``data``; only the
    weights travel to the model's device. ``progress``: a label to show a progress bar."""
    dev = module_device(model)
    batches = _maybe_bar(data.weight_batches(batch_size, dev), len(data), batch_size, progress)
    preds = [model.predict(w).argmax(1).cpu() for w in batches]
    return torch.cat(preds), data.label


@torch.no_grad()
def recon_errors(model, data, batch_size: int = 64, progress: str | None = None
                 ) -> torch.Tensor:
    """Per-INR reconstruction MSE ``(M,)`` (on the CPU) of a stage-1 model over all of
    ``data`` (see :func:`recon_mse`); batches run on the model's device."""
    dev = module_device(model)
    batches = _maybe_bar(data.batches(batch_size, device=dev), len(data), batch_size, progress)
    return torch.cat([recon_mse(model, w, u8).cpu() for w, _, u8 in batches])


def evaluate(model, cfg: TrainConfig, data) -> dict:
    """Metrics over all of ``data`` (see :func:`validation_subset`): ``loss`` (mean MSE) and
    ``psnr`` (mean per-INR PSNR) for stage 1, ``accuracy`` otherwise. Leaves the model in eval
    mode."""
    model.eval()
    if cfg.model in STAGE1_MODELS:
        mse = recon_errors(model, data, eval_batch_size(cfg))
        return {"loss": float(mse.mean()), "psnr": float(psnr_from_mse(mse).mean())}
    pred, label = predictions(model, data, eval_batch_size(cfg))
    return {"accuracy": float((pred == label).float().mean())}


def _objective(metrics: dict) -> float:
    """Higher is better."""
    return metrics["accuracy"] if "accuracy" in metrics else -metrics["loss"]


def save_checkpoint(path: Path, **state) -> None:
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, buf.getvalue())


# ------------------------------------------------------------------------------ the loop

def train(zoo_dir: str | Path, out: str | Path, cfg: TrainConfig, resume: bool = False,
          progress: bool = True, log=print, device: str | torch.device = "cpu") -> dict:
    """Train one job; returns the final metrics dict (also written to ``out/train.json``).

    ``device``: where the model and its batches live (the zoo stays in host memory; each
    batch is copied over). A run may be resumed on another device."""
    out = Path(out)
    dev = resolve_device(device)
    zoo = Zoo(zoo_dir)
    if zoo.num_classes < 2 and cfg.model not in STAGE1_MODELS:
        raise DNGError(f"{zoo_dir}: classification needs labels (the zoo has none)")
    if out.exists() and (out / "config.json").exists() and not resume:
        raise DNGError(f"{out} already holds a run; pass --resume to continue it or choose "
                       "another --out")
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    max_copy = cfg.copies
    train_data = zoo.load("train", max_copy=max_copy)
    val_data = validation_subset(zoo.load("val", max_copy=0), cfg)
    model = build_model(cfg, zoo).to(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    opt = opt_cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, best, best_metrics, elapsed = 0, -math.inf, {}, 0.0
    ckpt = out / "last.pt"
    if resume and ckpt.is_file():
        st = torch.load(ckpt, map_location="cpu", weights_only=True)
        if st.get("version") != CKPT_VERSION:
            raise DNGError(f"{ckpt}: checkpoint format {st.get('version')} is not supported")
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        step, best, elapsed = int(st["step"]), float(st["best"]), float(st["elapsed"])
        best_metrics = json.loads(st["best_metrics"])
        torch.set_rng_state(st["torch_rng"])
        if dev.type == "cuda" and "cuda_rng" in st:
            torch.cuda.set_rng_state(st["cuda_rng"], dev)
    atomic_write_json(out / "config.json", asdict(cfg))
    metrics_path = out / "metrics.csv"
    if not metrics_path.exists() or not resume:
        metrics_path.write_text("step,seconds,train_loss,val_metric,lr\n")
    tb = None
    try:
        from torch.utils.tensorboard import SummaryWriter  # optional
        tb = SummaryWriter(str(out / "tb"))
    except Exception:  # noqa: BLE001 - tensorboard not installed
        tb = None

    budget = cfg.budget_minutes * 60 if cfg.budget_minutes else math.inf
    bar = None
    if progress:
        from tqdm import tqdm
        # redrawn twice a second on a terminal, every 30 s into a log file
        tty = sys.stderr.isatty()
        bar = tqdm(total=cfg.steps, initial=step, desc=cfg.model, dynamic_ncols=tty,
                   mininterval=0.5 if tty else 30.0)
    t_start = time.perf_counter() - elapsed
    running, n_run, n_seen = 0.0, 0, 0
    n_train = len(train_data)
    per_epoch = max(1, n_train // cfg.batch_size)
    perm_cache: dict[int, torch.Tensor] = {}

    def batch_at(step: int):
        """Batch for a step: epoch e uses permutation seeded by (seed, e) — resumable."""
        e, k = divmod(step, per_epoch)
        if e not in perm_cache:
            perm_cache.clear()
            g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + e)
            perm_cache[e] = torch.randperm(n_train, generator=g)
        return train_data.batch(perm_cache[e][k * cfg.batch_size:(k + 1) * cfg.batch_size], dev)

    model.train()
    while step < cfg.steps and time.perf_counter() - t_start < budget:
        w, y, u8 = batch_at(step)
        for g in opt.param_groups:
            g["lr"] = cfg.lr * _lr_factor(cfg, step)
        if cfg.model in STAGE1_MODELS:
            loss = stage1_loss(model, w, u8, cfg)
        elif cfg.model == STAGE2:
            logits = model(w)  # per-view logits (B·V, classes) or (B, classes)
            loss = F.cross_entropy(logits, y.repeat_interleave(logits.shape[0] // len(y)))
        else:
            loss = F.cross_entropy(model(w), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        n_seen += len(y)
        running = running + loss.detach()  # stays on the device: no sync per step
        n_run += 1
        last = step >= cfg.steps or time.perf_counter() - t_start >= budget
        if step % cfg.eval_every == 0 or last:
            m = evaluate(model, cfg, val_data)
            model.train()
            secs = time.perf_counter() - t_start
            val = m.get("accuracy", m.get("psnr"))
            running = float(running)
            with open(metrics_path, "a", newline="") as f:
                csv.writer(f).writerow([step, f"{secs:.1f}", f"{running / max(n_run, 1):.6f}",
                                        f"{val:.6f}", f"{opt.param_groups[0]['lr']:.3g}"])
            if tb:
                tb.add_scalar("train/loss", running / max(n_run, 1), step)
                tb.add_scalar("val/metric", val, step)
            running, n_run = 0.0, 0
            if _objective(m) > best:
                best, best_metrics = _objective(m), {**m, "step": step}
                save_checkpoint(out / "best.pt", model=model.state_dict(), step=step,
                                version=CKPT_VERSION)
            save_checkpoint(ckpt, model=model.state_dict(), optimizer=opt.state_dict(), step=step,
                            best=best, best_metrics=json.dumps(best_metrics),
                            elapsed=time.perf_counter() - t_start,
                            torch_rng=torch.get_rng_state(), version=CKPT_VERSION,
                            **({"cuda_rng": torch.cuda.get_rng_state(dev)}
                               if dev.type == "cuda" else {}))
            if bar:
                bar.set_postfix_str(f"val {val:.4f}")
        if bar:
            bar.update(1)
            if step % 20:  # reading the loss waits for the device: only now and then
                continue
            rate = n_seen / max(time.perf_counter() - t_start - elapsed, 1e-9)
            post = f"loss {loss.item():.4f}, {rate:.0f} INR/s"
            if budget < math.inf:  # the wall-clock budget ends the run before cfg.steps
                left = max(0.0, budget - (time.perf_counter() - t_start))
                post += f", budget left {int(left // 60)}:{int(left % 60):02d}"
            bar.set_postfix_str(post, refresh=False)
    if bar:
        bar.close()
    if tb:
        tb.close()
    result = {"zoo": str(zoo_dir), "device": str(dev), "steps": step,
              "train_seconds": time.perf_counter() - t_start,
              "best_val": best_metrics, "params": sum(p.numel() for p in model.parameters()),
              "trainable_params": sum(p.numel() for p in params)}
    atomic_write_json(out / "train.json", result)
    log(f"{cfg.model}: {step} steps in {result['train_seconds']:.0f} s; best val {best_metrics}")
    return result
