"""The process's memory, through glibc where there is one (ctypes; a no-op elsewhere).

* :func:`keep_freed_memory` — keep freed heap memory for reuse (the CLI and fitting workers
  call it): CPU fitting and training allocate the same multi-MB tensors every step, and
  glibc's default of returning freed memory to the OS makes every step page-fault them in
  again (measured in ``benchmarks/RESULTS.md`` §10).
* :func:`peak_memory` — peak memory of a callable: CUDA's allocator statistics on a GPU; on a
  CPU the glibc heap in use (``mallinfo2``; the resident set where that is missing), sampled
  by a thread. Used by ``dng bench``.
"""

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
except OSError:  # not glibc
    _LIBC = None
try:
    _LIBC.mallinfo2.restype = _Mallinfo2
    _heap_in_use()
except AttributeError:  # no glibc, or one without mallinfo2: the resident set size
    def _heap_in_use() -> int:  # noqa: F811
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def keep_freed_memory() -> bool:
    """glibc: no trimming of the heap's top and no ``mmap`` for blocks up to 32 MiB (glibc's
    cap), so freed memory is reused without page faults. Returns whether it applied. The
    process keeps its peak heap size (no cost for a job that reaches that peak every step).
    ``DNG_MALLOC_TUNING=0`` in the environment turns it off."""
    if _LIBC is None or os.environ.get("DNG_MALLOC_TUNING", "1") == "0":
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    try:
        return bool(_LIBC.mallopt(m_mmap_threshold, 32 << 20)) and \
            bool(_LIBC.mallopt(m_trim_threshold, 1 << 30))
    except AttributeError:  # a libc without mallopt
        return False


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
