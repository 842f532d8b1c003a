"""What a training step is set up with: the learning-rate warm-up, the optimizer, the speed
settings (TF32, autocast) and the weights a checkpoint stores."""

from __future__ import annotations

import torch

from dng.train.config import TrainConfig


def lr_factor(cfg: TrainConfig, step: int) -> float:
    """Step warm-up: ``min(1, base + inc · ⌊step / every⌋)``."""
    return min(1.0, cfg.warmup_base + cfg.warmup_inc * (step // cfg.warmup_every))


def make_optimizer(cfg: TrainConfig, params, device: torch.device) -> torch.optim.Optimizer:
    """Adam(W); on CUDA the fused implementation (one kernel for all parameters)."""
    opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    fused = {"fused": True} if device.type == "cuda" else {}
    return opt_cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay, amsgrad=cfg.amsgrad,
                   **fused)


def speed_settings(cfg: TrainConfig, dev: torch.device):
    """TF32 on CUDA (``cfg.tf32``) and the autocast context of ``cfg.precision``."""
    import contextlib

    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = cfg.tf32
        torch.backends.cudnn.allow_tf32 = cfg.tf32
    if cfg.precision == "bf16":
        return lambda: torch.autocast(dev.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def checkpoint_state(net, cfg: TrainConfig) -> dict:
    """The model's state dict, in bf16 when ``cfg.checkpoint_dtype`` asks (smaller files)."""
    sd = net.state_dict()
    if cfg.checkpoint_dtype == "bf16":
        sd = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in sd.items()}
    return sd
