"""dng.memory: the glibc switch that keeps freed memory (and its off switch)."""

import ctypes.util
import subprocess
import sys

import pytest


def _run(env_value):
    env = {"PATH": "/usr/bin:/bin", **({"DNG_MALLOC_TUNING": env_value} if env_value else {})}
    code = "from dng.memory import keep_freed_memory; print(keep_freed_memory())"
    r = subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONPATH": ":".join(sys.path)},
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


@pytest.mark.skipif(ctypes.util.find_library("c") is None or sys.platform != "linux",
                    reason="glibc only")
def test_keep_freed_memory_applies_and_can_be_turned_off():
    assert _run(None) == "True"  # mallopt accepted both settings
    assert _run("0") == "False"  # DNG_MALLOC_TUNING=0: glibc's defaults stay
