"""Where computation runs. Every job takes a ``device`` (``cpu``, ``cuda``, ``cuda:1``, ``mps`` or
``auto``) and moves its model and batches there with ``.to(device)``; no device is hard-coded."""

from __future__ import annotations

import torch

from dng.errors import ConfigError


def resolve_device(name: str | torch.device | None = "cpu") -> torch.device:
    """The :class:`torch.device` for ``name``; ``auto`` (or ``None``) picks CUDA, then MPS,
    then the CPU. Asking for an accelerator this machine lacks is an error, not a silent
    fall-back to the CPU."""
    if isinstance(name, torch.device):
        name = str(name)
    name = (name or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r} (cpu, cuda, cuda:N, mps or auto)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name!r}: this PyTorch build sees no CUDA GPU "
                           f"(torch {torch.__version__}); use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ConfigError(f"device {name!r}: only {torch.cuda.device_count()} CUDA GPU(s)")
    elif dev.type == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            raise ConfigError(f"device {name!r}: MPS is not available here; use --device cpu")
    elif dev.type != "cpu":
        raise ConfigError(f"device {name!r} is not supported (cpu, cuda, cuda:N, mps or auto)")
    return dev


def module_device(module: torch.nn.Module) -> torch.device:
    """The device of a module's first parameter or buffer (the CPU for an empty module)."""
    for t in module.parameters():
        return t.device
    for t in module.buffers():
        return t.device
    return torch.device("cpu")


def synchronize(device: torch.device | str) -> None:
    """Wait for queued kernels (for honest wall-clock timings on accelerators)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
