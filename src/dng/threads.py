"""How many intra-op threads a heavy command should use: the CPUs actually free to it.

PyTorch starts one thread per core it sees. On a machine where another job is already busy,
those threads fight it and each step waits for the slowest thread: a 2-core demo ran ~3× slower
beside a CPU-bound job than alone (issue 26). We count the CPUs this process may use (its
affinity mask, capped by a cgroup CPU quota), subtract what the rest of the machine is using
right now (``/proc/stat`` over a short window), and use that many threads — at least one.
``OMP_NUM_THREADS`` or ``DNG_THREADS``, when set, win.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path


def allowed_cpus() -> int:
    """CPUs this process may run on: its affinity, capped by a cgroup v2/v1 quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(n, math.ceil(quota))) if quota else max(1, n)


def _cgroup_quota() -> float | None:
    try:
        text = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if text and text[0] != "max":
            return int(text[0]) / int(text[1])
    except (OSError, ValueError, IndexError):
        pass
    try:
        q = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        p = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return q / p if q > 0 and p > 0 else None
    except (OSError, ValueError):
        return None


def _cpu_times() -> tuple[int, int] | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        v = [int(x) for x in fields]
    except (OSError, ValueError, IndexError):
        return None
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    return sum(v[:8]), idle


def busy_cpus(window: float = 0.25) -> float:
    """CPUs the whole machine kept busy over the last ``window`` seconds (0 if unknown)."""
    a = _cpu_times()
    time.sleep(window)
    b = _cpu_times()
    if a is None or b is None or b[0] <= a[0]:
        return 0.0
    total, idle = b[0] - a[0], b[1] - a[1]
    return (os.cpu_count() or 1) * (1 - idle / total)


def choose_threads(window: float = 0.25) -> tuple[int, str]:
    """``(threads, why)``: ``DNG_THREADS`` / ``OMP_NUM_THREADS`` if set, else the allowed CPUs
    minus those busy elsewhere (at least 1)."""
    for var in ("DNG_THREADS", "OMP_NUM_THREADS"):
        v = os.environ.get(var, "")
        if v.isdigit() and int(v) > 0:
            return int(v), f"{var}={v}"
    n = allowed_cpus()
    busy = busy_cpus(window)
    free = max(1, min(n, round(n - busy + 0.25)))  # a half-busy core still counts as free
    return free, f"{n} CPUs allowed, {busy:.1f} busy elsewhere"


def configure_threads(verbose: bool = False) -> int:
    """Set PyTorch's intra-op threads to :func:`choose_threads`; return the number."""
    import torch

    n, why = choose_threads()
    if n != torch.get_num_threads():
        torch.set_num_threads(n)
        if verbose and "busy" in why:
            import sys

            print(f"dng: using {n} thread{'s' if n > 1 else ''} ({why})", file=sys.stderr)
    return n
