"""Threads for the CPUs actually free: environment first, then affinity/quota minus busy."""

import pytest

from dng import threads


def test_environment_wins(monkeypatch):
    monkeypatch.setenv("DNG_THREADS", "3")
    assert threads.choose_threads(0)[0] == 3
    monkeypatch.delenv("DNG_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads.choose_threads(0) == (1, "OMP_NUM_THREADS=1")


@pytest.mark.parametrize("allowed, busy, want", [(2, 0.0, 2), (2, 1.9, 1), (2, 1.0, 1),
                                                 (8, 3.2, 5), (4, 9.0, 1), (2, 0.6, 2)])
def test_free_cpus(monkeypatch, allowed, busy, want):
    monkeypatch.delenv("DNG_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "allowed_cpus", lambda: allowed)
    monkeypatch.setattr(threads, "busy_cpus", lambda window: busy)
    assert threads.choose_threads()[0] == want


def test_machine_readings_are_sane():
    assert threads.allowed_cpus() >= 1
    assert threads.busy_cpus(0.05) >= 0.0
