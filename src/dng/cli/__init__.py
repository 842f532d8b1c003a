"""Command line: ``dng <command> …``. Parses arguments and calls the library; nothing else.

``common`` (usage errors, numbers, ``--device``) ← ``zoo`` (``dng zoo …``) and ``run``
(``dng train | eval | demo | reproduce``) ← ``main`` (the parser and :func:`main`).
"""

from dng.cli.main import build_parser, main
from dng.cli.run import add_config_flags, train_overrides

__all__ = ["add_config_flags", "build_parser", "main", "train_overrides"]
