"""Peak memory of a callable: CUDA's allocator statistics on a GPU; on a CPU the glibc heap in
use (``mallinfo2`` through ctypes; the resident set where that is missing), sampled by a
thread. Used by ``dng bench`` only."""

from __future__ import annotations

import ctypes
import os
import threading
import time

import torch


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks",
                                               "keepcost")]


def _heap_in_use() -> int:
    """Bytes allocated through malloc and still in use (heap + mmapped blocks), glibc only."""
    info = _LIBC.mallinfo2()
    return int(info.uordblks + info.hblkhd)


try:
    _LIBC = ctypes.CDLL("libc.so.6")
    _LIBC.mallinfo2.restype = _Mallinfo2
    _heap_in_use()
except (OSError, AttributeError):  # not glibc: fall back to the resident set size
    def _heap_in_use() -> int:  # noqa: F811
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _PeakHeap:
    """Peak bytes in use above the starting level, sampled every 0.2 ms (CPU)."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self):
        self.base = _heap_in_use()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _heap_in_use() - self.base)
            time.sleep(0.0002)

    def __exit__(self, *a):
        self._stop.set()
        self.thread.join()


def peak_memory(fn, device) -> float:
    """MiB above the starting level while ``fn`` runs."""
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    with _PeakHeap() as m:
        fn()
    return m.peak / 2**20
