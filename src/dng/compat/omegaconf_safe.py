"""Reading checkpoints that hold a pickled OmegaConf config, without unpickling code.

``torch.load(..., weights_only=True)`` refuses every class it does not know. We allow exactly
the classes a pickled ``DictConfig`` names — each mapped to an inert stub that only stores the
state the pickle hands it — plus ``dict``, ``list``, ``int`` and ``collections.defaultdict``.
:func:`to_plain` then turns the stubs into plain ``dict``/``list``/scalars. No OmegaConf code
runs (OmegaConf need not even be installed); anything else in the file is still refused.
"""

from __future__ import annotations

import collections
import typing
from pathlib import Path

import torch

from dng.errors import ZooError


class _Stub:
    """Holds the pickled state; does nothing else."""

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.__dict__["_state"] = state


class _DictConfig(_Stub):
    pass


class _ListConfig(_Stub):
    pass


class _Node(_Stub):
    pass


class _Meta(_Stub):
    pass


_NODES = ("AnyNode", "StringNode", "IntegerNode", "FloatNode", "BooleanNode", "BytesNode",
          "PathNode")
ALLOWED = [(_DictConfig, "omegaconf.dictconfig.DictConfig"),
           (_ListConfig, "omegaconf.listconfig.ListConfig"),
           (_Meta, "omegaconf.base.Metadata"), (_Meta, "omegaconf.base.ContainerMetadata"),
           *[(_Node, f"omegaconf.nodes.{n}") for n in _NODES],
           (typing.Any, "typing.Any"), collections.defaultdict, dict, list, int]


def load_checkpoint(path: str | Path) -> dict:
    """``torch.load(path, weights_only=True)`` with the OmegaConf allow-list; one
    :class:`ZooError` naming the file if it holds anything else or is damaged."""
    try:
        with torch.serialization.safe_globals(ALLOWED):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any failure of a foreign file is one line
        first = str(e).strip().splitlines()
        why = next((ln for ln in first if "Unsupported" in ln or "error" in ln.lower()),
                   first[0] if first else type(e).__name__)
        raise ZooError(f"{path}: not a readable checkpoint ({why.strip()[:200]})") from None
    if not isinstance(obj, dict):
        raise ZooError(f"{path}: expected a dict checkpoint, got {type(obj).__name__}")
    return obj


def to_plain(obj, depth: int = 0):
    """Stubs → plain ``dict``/``list``/values (bounded depth)."""
    if depth > 32:
        raise ZooError("config nested deeper than 32 levels")
    if isinstance(obj, _DictConfig):
        content = obj.__dict__.get("_state", {}).get("_content")
        if not isinstance(content, dict):
            return None
        return {str(k): to_plain(v, depth + 1) for k, v in content.items()}
    if isinstance(obj, _ListConfig):
        content = obj.__dict__.get("_state", {}).get("_content")
        return None if content is None else [to_plain(v, depth + 1) for v in content]
    if isinstance(obj, _Node):
        return to_plain(obj.__dict__.get("_state", {}).get("_val"), depth + 1)
    if isinstance(obj, dict):
        return {str(k): to_plain(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_plain(v, depth + 1) for v in obj]
    return obj
