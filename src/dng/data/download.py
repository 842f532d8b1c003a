"""Checksums, the dataset cache (``$DNG_HOME``) and downloads from official sources."""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path


from dng.errors import DataError

# --------------------------------------------------------------------------------------------
# Checksums and downloads


def _file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    return _file_digest(path, "sha256")


def md5_file(path: Path) -> str:
    return _file_digest(path, "md5")


def dng_home() -> Path:
    return Path(os.environ.get("DNG_HOME", Path.home() / ".cache" / "dng"))


def download(url: str, dest: Path, md5: str) -> Path:
    """Download ``url`` to ``dest`` (atomically) and check the md5 the source publishes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
            while chunk := r.read(1 << 20):
                f.write(chunk)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise DataError(f"could not download {url}: {e}. Without network, pass --data-dir "
                        "with the files (see README)") from None
    if md5_file(tmp) != md5:
        tmp.unlink(missing_ok=True)
        raise DataError(f"{url}: checksum mismatch (expected md5 {md5}); file discarded")
    os.replace(tmp, dest)
    return dest


def find_or_fetch(data_dir: Path | None, subdir: str, names: list[str],
                  sources: dict[str, tuple[str, str]] | None) -> list[Path]:
    """Locate files ``names`` (any of the alternatives separated by '|') under ``data_dir``.

    Looks in ``data_dir``, ``data_dir/subdir`` and the cache ``DNG_HOME/subdir``. When a file is
    missing and ``data_dir`` was not given, it is downloaded from ``sources`` into the cache.
    """
    roots = [data_dir, data_dir / subdir] if data_dir is not None else []
    roots.append(dng_home() / subdir)
    found = []
    for name in names:
        alts = name.split("|")
        hit = next((r / a for r in roots for a in alts if (r / a).is_file()), None)
        if hit is None:
            if data_dir is not None or sources is None or alts[0] not in sources:
                where = ", ".join(str(r) for r in roots)
                raise DataError(f"missing dataset file {alts[0]} (looked in {where})")
            url, md5 = sources[alts[0]]
            hit = download(url, dng_home() / subdir / alts[0], md5)
        found.append(hit)
    return found
