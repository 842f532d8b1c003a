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


def atomic_write_json(path: str | Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2) + "\n").encode())


def atomic_torch_save(path: str | Path, obj) -> None:
    """``torch.save`` through :func:`atomic_write_bytes` (read back with
    ``torch.load(..., weights_only=True)``)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


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
