"""Renaming a reference checkpoint's keys to ours, and loading the result strictly."""

from __future__ import annotations

import re
from typing import Callable

import torch

from dng.errors import ShapeError

Patterns = list[tuple[re.Pattern, Callable[[re.Match], str]]]


def rename(key: str, patterns: Patterns, what: str) -> str:
    """Our name of a reference key: the first pattern that matches; none is one error."""
    for pat, new in patterns:
        m = pat.match(key)
        if m:
            return new(m)
    raise ShapeError(f"unexpected reference {what} key {key!r}")


def load_strict(module: torch.nn.Module, state: dict, what: str) -> None:
    """``load_state_dict`` where a missing or extra key is one error naming a few."""
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ShapeError(f"{what}: state_dict does not fit (missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]})")
