"""Files written whole or not at all: a temporary name in the same folder, fsync, rename."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import torch


def file_mode() -> int:
    """The mode a new file gets under this process's umask (``0o666 & ~umask``)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never a
    part (the temporary file carries the writer's pid)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


MAX_JSON_BYTES = 64 << 20


def check_tensor(t, where: str, error: type[Exception] | None = None) -> None:
    """A tensor from a foreign file, before anything copies it: real floating point, and no
    more elements than its storage holds (a stride-0 view of a few bytes can claim
    gigabytes)."""
    from dng.errors import DNGError

    err = error or DNGError
    if not isinstance(t, torch.Tensor):
        raise err(f"{where}: not a tensor ({type(t).__name__})")
    if not t.is_floating_point() or t.is_complex():
        raise err(f"{where}: dtype {t.dtype} (weights must be real floating point)")
    stored = t.untyped_storage().nbytes() // max(t.element_size(), 1)
    if t.numel() > stored:
        raise err(f"{where}: {tuple(t.shape)} claims {t.numel()} values but its file stores "
                  f"{stored} (an expanded view) — refused")


def read_json(path: str | Path, what: str = "JSON file", kind: type | None = dict,
              error: type[Exception] | None = None):
    """Parse a JSON file the reader did not write itself: bounded size, any parse failure
    (malformed, not UTF-8, nested too deep) and a top-level value of the wrong type are one
    error naming the file (``error``: the exception class, default :class:`DNGError`)."""
    from dng.errors import DNGError

    err = error or DNGError
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise err(f"{path}: {size} bytes — too large for a {what}")
        obj = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError) as e:
        raise err(f"{path}: damaged {what} ({type(e).__name__}: {str(e)[:120]})") from None
    if kind is not None and not isinstance(obj, kind):
        raise err(f"{path}: damaged {what} (a {type(obj).__name__}, not a {kind.__name__})")
    return obj


def atomic_write_json(path: str | Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2) + "\n").encode())


def atomic_torch_save(path: str | Path, obj) -> None:
    """``torch.save`` through :func:`atomic_write_bytes` (read back with
    ``torch.load(..., weights_only=True)``)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def remove_stale_temps(directory: str | Path) -> list[Path]:
    """Delete the temporary files (``.NAME.tmpPID``) that a killed writer left in
    ``directory`` and its ``shards/`` folder — those whose process is gone; return them."""
    import re

    gone = []
    for d in (Path(directory), Path(directory) / "shards"):
        if not d.is_dir():
            continue
        for f in d.iterdir():
            m = re.fullmatch(r"\..+\.tmp(\d+)", f.name)
            if m and f.is_file() and (int(m[1]) != os.getpid()) and not _alive(int(m[1])):
                f.unlink(missing_ok=True)
                gone.append(f)
    return gone


class DirLock:
    """One writer per directory: an exclusive lock file ``DIR/.dng.lock`` holding the holder's
    pid and host. A lock left by a dead process on this host is stale and taken over; a live
    holder makes :meth:`acquire` raise one clear :class:`~dng.errors.DNGError`.

    >>> with DirLock(zoo_dir, "dng fit"):
    ...     ...
    """

    NAME = ".dng.lock"

    def __init__(self, directory: str | Path, what: str):
        self.path = Path(directory) / self.NAME
        self.what = what
        self.held = False

    def _holder(self) -> tuple[int, str, str] | None:
        try:
            d = json.loads(self.path.read_text())
            return int(d["pid"]), str(d["host"]), str(d.get("what", "?"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def acquire(self) -> "DirLock":
        import socket

        from dng.errors import DNGError

        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "what": self.what}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and holder[1] == me["host"] and not _alive(holder[0]):
                    self.path.unlink(missing_ok=True)  # stale: its process is gone
                    continue
                if holder is None:  # being written this instant, or garbage: look again
                    import time

                    time.sleep(0.05)
                    if self._holder() is None and self.path.exists():
                        self.path.unlink(missing_ok=True)
                    continue
                pid, host, what = holder
                raise DNGError(f"{self.path.parent} is in use by `{what}` (pid {pid} on {host}); "
                               f"wait for it to finish, or delete {self.path} if that process "
                               "is gone") from None
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            remove_stale_temps(self.path.parent)  # ours now: a killed writer's leftovers go
            return self
        raise DNGError(f"{self.path}: could not take the lock")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> "DirLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
