"""Fitting in parallel: worker processes on one machine (one single-threaded process per core,
dying with their parent) and ranks under torchrun (each fits every N-th shard; rank 0 alone
writes the manifest, from entries the ranks leave beside their shards)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch


def default_workers() -> int:
    """One single-threaded process per core free to us (:func:`dng.threads.choose_threads`:
    affinity, cgroup quota, minus cores busy elsewhere; at most 8): small batched matmuls and
    sines scale better across processes than across threads of one process (see
    benchmarks/RESULTS.md)."""
    from dng.threads import choose_threads

    return max(1, min(choose_threads()[0], 8))


def worker_init(parent: int | None = None) -> None:
    from dng.memory import keep_freed_memory

    torch.set_num_threads(1)
    keep_freed_memory()
    _die_with_parent()
    if parent is not None and os.getppid() != parent:  # the parent died while we started
        os._exit(1)


def _die_with_parent() -> None:
    """Linux: a fitting worker gets SIGKILL when its parent dies (``kill -9`` of ``dng fit``
    must not leave workers fitting shards nobody will store)."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def fit_ranks(dev: torch.device):
    """Under torchrun, this process's ranks (joined to a gloo group for barriers)."""
    from dng.distributed import init, ranks_from_env

    ranks = ranks_from_env()
    if ranks.distributed:
        init(ranks, torch.device("cpu") if dev.type != "cuda" else ranks.device(dev))
    return ranks


def merge_rank_entries(out: Path, manifest: dict) -> None:
    """Move the shard entries that ranks wrote beside their shards into the manifest."""
    for side in sorted((out / "shards").glob("*.entry.json")):
        entry = json.loads(side.read_text())
        seconds = entry.pop("seconds", 0.0)
        if (out / entry["file"]).is_file():
            manifest["shards"] = [s for s in manifest["shards"] if s["file"] != entry["file"]]
            manifest["shards"].append(entry)
            manifest["fit_seconds"] += seconds
        side.unlink()
    manifest["shards"].sort(key=lambda s: s["file"])
