"""benchmarks/command.py: the reproduce line of a results file carries no machine paths."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from command import command_line  # noqa: E402


def test_paths_become_repository_relative_or_home_relative():
    home = Path.home()
    line = command_line([str(home / ".cache/dng/snap/benchmarks/x.py"), "--data-dir",
                         str(REPO.parent / "shared" / "data"), "--zoo",
                         f"mnist={home}/.cache/dng/zoos/z", "--out=" + str(REPO / "r.json"),
                         "--n", "128"])
    assert line == ("python benchmarks/x.py --data-dir ../shared/data --zoo "
                    "mnist=~/.cache/dng/zoos/z --out=r.json --n 128")
