"""The command line that reproduces a benchmark, without this machine's paths: the script and
every argument that is an absolute path are written relative to the repository (``../shared``
for the data beside it), or with ``~`` for the home directory — so a results file committed
from one machine reads the same on any other."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _portable(token: str) -> str:
    if "=" in token:  # --flag=PATH, DATASET=PATH
        key, value = token.split("=", 1)
        return f"{key}={_portable(value)}"
    if not os.path.isabs(token):
        return token
    p = Path(token).resolve()
    if p.is_relative_to(REPO) or p.is_relative_to(REPO.parent / "shared"):
        return os.path.relpath(p, REPO)  # the repository, or ../shared beside it
    home = Path.home()
    return "~/" + str(p.relative_to(home)) if p.is_relative_to(home) else token


def command_line(argv: list[str] | None = None) -> str:
    """``python <script> <args>`` of this run (``sys.argv``), machine paths made portable."""
    argv = sys.argv if argv is None else argv
    script = Path(argv[0]).resolve()
    name = os.path.relpath(script, REPO) if script.is_relative_to(REPO) else \
        f"benchmarks/{script.name}"  # a snapshot of the scripts run from elsewhere
    return " ".join(["python", name, *map(_portable, argv[1:])])
