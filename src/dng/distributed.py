"""More than one process (``torchrun --nproc-per-node N -m dng …``): DistributedDataParallel
with the engine PyTorch ships. Each rank takes its slice of every global batch, gradients are
averaged by DDP's all-reduce, and only rank 0 writes files and draws progress bars.

Without torchrun's environment (``WORLD_SIZE`` unset or 1) everything here is a no-op, so the
same code runs a single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from dng.errors import ConfigError


@dataclass(frozen=True)
class Ranks:
    """This process's place: ``rank`` of ``world`` (``local_rank`` on its machine)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes checkpoints, metrics and progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def local_slice(self, global_batch: int) -> slice:
        """The part of a global batch this rank computes (contiguous, equal sizes)."""
        if global_batch % self.world:
            raise ConfigError(f"batch_size={global_batch} must be divisible by the number of "
                              f"processes ({self.world})")
        n = global_batch // self.world
        return slice(self.rank * n, (self.rank + 1) * n)

    def device(self, dev: torch.device) -> torch.device:
        """One GPU per process: ``cuda`` becomes ``cuda:local_rank``."""
        if self.distributed and dev.type == "cuda" and dev.index is None:
            return torch.device("cuda", self.local_rank)
        return dev

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def agree(self, flag: bool) -> bool:
        """Rank 0's ``flag`` on every rank (e.g. "the wall-clock budget is spent")."""
        if not self.distributed:
            return flag
        t = torch.tensor([int(flag)], dtype=torch.int64)
        if dist.get_backend() == "nccl":
            t = t.cuda(self.local_rank)
        dist.broadcast(t, 0)
        return bool(t.item())


def ranks_from_env() -> Ranks:
    """The ranks torchrun announces (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``), else one."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks()
    return Ranks(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def exit_with_parent() -> None:
    """Linux: ask for SIGTERM when the launcher (our parent) dies, so that no rank trains on
    alone after ``torchrun`` is killed; exit now if it is already gone."""
    import ctypes
    import os
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        return
    if os.getppid() != parent:  # it died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)


def init(ranks: Ranks, device: torch.device) -> bool:
    """Join the process group (gloo on CPUs, nccl on CUDA) unless there is one already;
    returns whether this call created it (and so should destroy it)."""
    if not ranks.distributed or dist.is_initialized():
        return False
    exit_with_parent()
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                            rank=ranks.rank, world_size=ranks.world)
    return True


def wrap(model: torch.nn.Module, ranks: Ranks, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel when there is more than one process."""
    if not ranks.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    return DDP(model, device_ids=[device.index] if device.type == "cuda" else None)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, "module", model)


def finish(created: bool) -> None:
    if created and dist.is_initialized():
        dist.destroy_process_group()
