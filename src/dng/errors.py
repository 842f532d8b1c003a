"""Errors that carry one clear message for the user.

Every error that bad input can cause inside ``dng`` is a :class:`DNGError`; the CLI prints its
message on one line and exits with a non-zero status, without a traceback.
"""

from __future__ import annotations


class DNGError(Exception):
    """Base class: a problem with the user's input, files or configuration."""


class DataError(DNGError):
    """A dataset file is missing, truncated, of a foreign format or holds unexpected shapes."""


class ZooError(DNGError):
    """An INR zoo is missing, incomplete or disagrees with its manifest."""


class ShapeError(DNGError, ValueError):
    """Tensors whose shapes or values do not fit what a model or container expects."""


class ConfigError(DNGError, ValueError):
    """A configuration (file, ``--set`` override, saved run config or name) that cannot be
    used: an unknown field or name, a value of the wrong type or out of range."""


def suggest(word: str, choices) -> str:
    """``; did you mean 'x'?`` for a mistyped name (empty when nothing is close)."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
