"""What every verb shares: one-line usage errors, range-checked numbers, --device."""

from __future__ import annotations

import argparse



def _number(kind, low, name: str, high=None):
    """argparse type: a finite number ``>= low`` (and ``<= high``), else one usage error."""
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if v != v or v in (float("inf"), float("-inf")) or v < low or (high is not None and v > high):
            bound = f">= {low}" + (f" and <= {high}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"{text} is out of range (must be {bound})")
        return v
    parse.__name__ = name
    return parse


class _Parser(argparse.ArgumentParser):
    """Usage errors on one line (the usage text is one ``--help`` away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}{did_you_mean(message)} "
                     f"(see {self.prog} --help)\n")


def did_you_mean(message: str) -> str:
    """``; did you mean 'train'?`` for argparse's "invalid choice: 'X' (choose from …)"."""
    import difflib
    import re

    m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if not m:
        return ""
    choices = re.findall(r"'([^']*)'", m[2]) or [c.strip() for c in m[2].split(",")]
    close = difflib.get_close_matches(m[1], choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


POS_INT = _number(int, 1, "positive integer")
NONNEG_INT = _number(int, 0, "non-negative integer")
POS_FLOAT = _number(float, 1e-12, "positive number")


def _device_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto",
                        help="cpu, cuda, cuda:N, mps or auto (default: a GPU when there is one)")
