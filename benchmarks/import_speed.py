"""`dng zoo import` speed on a synthetic NFN / DNG-paper layout (files/s, end to end).

    python benchmarks/import_speed.py [--files 10000] [--copies 1]

Writes ``files`` SIREN state_dicts (2→32→32→1, the NFN key names) as
``siren_mnist_wts/randinit_smaller_<label>s/net<idx>.pth`` — plus ``copies`` extra
``randinit_smaller_aug<k>_…`` files for the first tenth of the images — into a temporary
directory, then times ``dng.zoo.importer.import_zoo`` on it: finding the files, loading each
with ``weights_only=True``, checking it, rendering it (no images attached) and writing shards.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import torch

from command import command_line
from dng.zoo.importer import import_zoo
from dng.zoo.siren import SirenSpec, init_siren


def write_layout(root: Path, files: int, copies: int) -> int:
    spec = SirenSpec.for_image(1)
    w = init_siren(spec, files, torch.Generator().manual_seed(0))
    keys = ("net.0.linear", "net.1.linear", "net.2")
    n = 0
    jobs = [(i, None) for i in range(files)] + [(i, k) for k in range(copies)
                                                for i in range(files // 10)]
    for i, k in jobs:
        d = root / (f"randinit_smaller_{i % 10}s" if k is None
                    else f"randinit_smaller_aug{k}_{i % 10}s")
        d.mkdir(parents=True, exist_ok=True)
        sd = {}
        for l, key in enumerate(keys):
            sd[f"{key}.weight"], sd[f"{key}.bias"] = w.weights[l][i].clone(), w.biases[l][i].clone()
        torch.save(sd, d / f"net{i}.pth")
        n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--copies", type=int, default=1)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dng-import-speed-"))
    try:
        t0 = time.perf_counter()
        n = write_layout(tmp / "siren_mnist_wts", args.files, args.copies)
        t_write = time.perf_counter() - t0
        split = (int(0.75 * args.files), int(0.85 * args.files))
        t0 = time.perf_counter()
        zoo = import_zoo([tmp / "siren_mnist_wts"], tmp / "zoo", split_at=split)
        seconds = time.perf_counter() - t0
        counts = zoo.manifest["dataset"]["counts"]
        print(f"wrote {n} files in {t_write:.1f} s; imported {len(zoo)} INRs "
              f"({counts}) in {seconds:.1f} s = {n / seconds:.0f} files/s")
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; reproduce: "
              f"{command_line()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
