"""The Small CNN Zoo layout (Unterthiner et al. 2020): ``weights.npy``, ``layout.csv``,
``metrics.csv.gz`` in one folder.

* ``weights.npy``: float32 ``(rows, P)``, one network per row, read memory-mapped with
  ``allow_pickle=False`` (the real files are GBs; only the selected rows are copied);
* ``layout.csv``: one line per TensorFlow variable, read **by column name** (``varname``,
  ``start_idx``, ``end_idx``, ``shape``); ``row[start:end]`` is a C-order flattening of a tensor
  of ``shape``: conv kernels ``(k_h, k_w, c_in, c_out)``, dense kernels ``(in, out)``, biases;
* ``metrics.csv.gz``: per row ``config.activation``, ``step``, ``test_accuracy``, … (the first
  column, unnamed, is a checkpoint path).

:func:`read_smallcnnzoo` turns the rows of one checkpoint step into a :class:`NetWeights` batch
(PyTorch layouts, per-network activations) and the rows' metadata. Bounds come first: the
layout must add up to the row width, every slice must fit, activations must be known, values
finite.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dng.arch import ACTIVATIONS, Arch, Layer
from dng.errors import ZooError
from dng.weights import NetWeights

MAX_CSV_BYTES = 64 << 20  # metrics of the real zoo: ~30 MB uncompressed
NUMERIC = ("test_accuracy", "test_loss", "train_accuracy", "train_loss", "step")


@dataclass
class SmallCNNZooRows:
    """What one step of the zoo holds: ``weights`` (the rows, in file order), ``rows`` (their
    row indices in ``weights.npy``), ``columns`` (metric name → float tensor ``(M,)``),
    ``activation`` (names) and ``arch``."""

    weights: NetWeights
    rows: torch.Tensor
    columns: dict[str, torch.Tensor]
    activation: list[str]
    arch: Arch


def _shape(cell: str, where: str) -> tuple[int, ...]:
    if not re.fullmatch(r"\(\s*(\d+\s*,\s*)*\d*\s*\)", cell.strip()):
        raise ZooError(f"{where}: shape {cell!r} is not a tuple of sizes")
    return tuple(int(x) for x in re.findall(r"\d+", cell))


def read_layout(path: Path) -> list[dict]:
    """``layout.csv`` → ``[{varname, start, end, shape}]`` in file order."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ZooError(f"{path}: unreadable ({e})") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    need = ("varname", "start_idx", "end_idx", "shape")
    if not rows or any(k not in rows[0] for k in need):
        raise ZooError(f"{path}: needs the columns {', '.join(need)}")
    out = []
    for i, r in enumerate(rows):
        where = f"{path} line {i + 2}"
        try:
            start, end = int(r["start_idx"]), int(r["end_idx"])
        except (TypeError, ValueError):
            raise ZooError(f"{where}: start_idx/end_idx are not integers") from None
        shape = _shape(r["shape"], where)
        if start < 0 or end - start != int(np.prod(shape)):
            raise ZooError(f"{where}: {r['varname']} spans {start}..{end} but its shape "
                           f"{shape} has {int(np.prod(shape))} values")
        out.append({"varname": r["varname"], "start": start, "end": end, "shape": shape})
    return out


def arch_from_layout(layout: list[dict], stride: int = 2) -> tuple[Arch, list[tuple]]:
    """The :class:`Arch` of a layout (conv kernels → conv layers, the first dense kernel after a
    conv gets global average pooling) and, per layer, ``(kernel entry, bias entry)``.
    ``stride``: the convolutions' stride (the layout does not say; the Small CNN Zoo uses 2)."""
    kernels = [e for e in layout if e["varname"].endswith("kernel:0")]
    biases = {e["varname"].rsplit("/", 1)[0]: e for e in layout if e["varname"].endswith("bias:0")}
    if not kernels:
        raise ZooError("layout has no kernel variables")
    layers, pairs, prev_conv = [], [], False
    for k in kernels:
        scope = k["varname"].rsplit("/", 1)[0]
        b = biases.get(scope)
        s = k["shape"]
        if len(s) == 4:
            layer = Layer(s[2], s[3], "conv", (s[0], s[1]), stride, 0, "relu")
            prev_conv = True
        elif len(s) == 2:
            layer = Layer(s[0], s[1], "dense", activation="relu", pool=prev_conv)
            prev_conv = False
        else:
            raise ZooError(f"layout: {k['varname']} has shape {s}: neither a conv "
                           "(k_h, k_w, c_in, c_out) nor a dense (in, out) kernel")
        if b is None or b["shape"] != (layer.n_out,):
            raise ZooError(f"layout: {k['varname']} needs a bias of shape ({layer.n_out},)")
        layers.append(layer)
        pairs.append((k, b))
    last = layers[-1]
    layers[-1] = Layer(last.n_in, last.n_out, last.kind, last.kernel, last.stride, last.padding,
                       "linear", pool=last.pool)
    try:
        arch = Arch(tuple(layers), "smallcnnzoo")
    except Exception as e:  # noqa: BLE001 - a chain that does not connect
        raise ZooError(f"layout: {e}") from None
    return arch, pairs


def read_metrics(path: Path) -> list[dict]:
    """``metrics.csv.gz`` (or plain ``.csv``) as a list of row dicts, bounded in size."""
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            raw = f.read(MAX_CSV_BYTES + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise ZooError(f"{path}: unreadable ({e})") from None
    if len(raw) > MAX_CSV_BYTES:
        raise ZooError(f"{path}: more than {MAX_CSV_BYTES >> 20} MiB of metrics")
    try:
        return list(csv.DictReader(io.StringIO(raw.decode())))
    except (UnicodeDecodeError, csv.Error) as e:
        raise ZooError(f"{path}: not a CSV table ({e})") from None


def read_smallcnnzoo(folder: str | Path, step: int | None = 86, stride: int = 2,
                     rows: list[int] | None = None) -> SmallCNNZooRows:
    """Read a Small CNN Zoo folder: the rows whose ``step`` is ``step`` (``None``: all rows),
    or the given ``rows`` (a permutation from a split file), in that order."""
    folder = Path(folder)
    for name in ("weights.npy", "layout.csv"):
        if not (folder / name).is_file():
            raise ZooError(f"{folder}: not a Small CNN Zoo folder (no {name})")
    mpath = folder / "metrics.csv.gz"
    if not mpath.is_file():
        mpath = folder / "metrics.csv"
        if not mpath.is_file():
            raise ZooError(f"{folder}: no metrics.csv.gz")
    layout = read_layout(folder / "layout.csv")
    arch, pairs = arch_from_layout(layout, stride)
    try:
        arr = np.load(folder / "weights.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ZooError(f"{folder / 'weights.npy'}: not a numpy array file ({e})") from None
    width = max(e["end"] for e in layout)
    if arr.ndim != 2 or arr.shape[1] != width or arr.dtype.kind != "f":
        raise ZooError(f"{folder / 'weights.npy'}: shape {arr.shape} {arr.dtype}; the layout "
                       f"needs float rows of {width} values")
    metrics = read_metrics(mpath)
    if len(metrics) != arr.shape[0]:
        raise ZooError(f"{mpath}: {len(metrics)} rows but weights.npy has {arr.shape[0]}")
    for col in ("config.activation", "test_accuracy", "step"):
        if metrics and col not in metrics[0]:
            raise ZooError(f"{mpath}: no column {col!r}")
    if rows is None:
        rows = list(range(len(metrics)))
    elif any(not 0 <= r < len(metrics) for r in rows):
        raise ZooError(f"split file: row indices outside 0..{len(metrics) - 1}")
    try:
        if step is not None:
            rows = [r for r in rows if int(float(metrics[r]["step"])) == step]
        cols = {c: torch.tensor([float(metrics[r][c]) for r in rows], dtype=torch.float64)
                for c in NUMERIC if c in metrics[0]}
    except (TypeError, ValueError) as e:
        raise ZooError(f"{mpath}: a numeric column holds a non-number ({e})") from None
    if not rows:
        raise ZooError(f"{folder}: no rows at step {step}")
    acts = [metrics[r]["config.activation"].strip().lower() for r in rows]
    bad = sorted(set(a for a in acts if a not in ACTIVATIONS))
    if bad:
        raise ZooError(f"{mpath}: unknown activation(s) {bad} (known: {', '.join(ACTIVATIONS)})")
    data = torch.from_numpy(np.ascontiguousarray(arr[np.asarray(rows)], dtype=np.float32))
    if not torch.isfinite(data).all():
        bad_rows = [rows[i] for i in (~torch.isfinite(data)).any(1).nonzero().flatten()[:5]]
        raise ZooError(f"{folder / 'weights.npy'}: NaN or Inf values in rows {bad_rows}")
    ws, bs = [], []
    for (k, b), layer in zip(pairs, arch.layers):
        t = data[:, k["start"]:k["end"]].reshape(-1, *k["shape"])
        ws.append((t.permute(0, 4, 3, 1, 2) if layer.kind == "conv" else t.transpose(1, 2))
                  .contiguous())
        bs.append(data[:, b["start"]:b["end"]].contiguous())
    ids = torch.tensor([ACTIVATIONS.index(a) for a in acts])
    act = ids[:, None].repeat(1, len(arch.layers))
    act[:, -1] = ACTIVATIONS.index("linear")
    return SmallCNNZooRows(NetWeights(ws, bs, arch, act), torch.tensor(rows), cols, acts, arch)


def official_split(n: int, seed: int = 0) -> dict[str, list[int]]:
    """The field's split of ``n`` rows (NFN / the DNG code): the second half is test; the first
    half, shuffled with Python's ``random.Random(seed)``, is 80 % train and 20 % val."""
    import random

    half = n // 2
    first = list(range(half))
    random.Random(seed).shuffle(first)
    cut = int(0.8 * len(first))
    return {"train": first[:cut], "val": first[cut:], "test": list(range(half, n))}


def read_split_file(path: str | Path, n: int) -> list[int]:
    """A split file as NFN publishes it: one row index per line (a permutation of the rows)."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ZooError(f"{path}: unreadable ({e})") from None
    try:
        perm = [int(x) for x in re.split(r"[\s,]+", text.strip()) if x]
    except ValueError:
        raise ZooError(f"{path}: a split file holds row indices, one per line") from None
    if sorted(perm) != list(range(n)):
        raise ZooError(f"{path}: not a permutation of the zoo's {n} rows")
    return perm


def import_smallcnnzoo(folder: str | Path, out: str | Path, step: int | None = 86,
                       split_file: str | Path | None = None, stride: int = 2,
                       seed: int = 0):
    """Import a Small CNN Zoo folder as a format-3 zoo (:mod:`dng.zoo.netzoo`): the rows of
    checkpoint ``step`` (``None``: all), split as the field does — rows permuted by
    ``split_file`` when given, then the second half is test and the first half, shuffled with
    ``random.Random(seed)``, is 80 % train / 20 % val (without a split file: the same rule on
    the file order). Targets: ``test_accuracy`` and the other metric columns."""
    from dng.zoo.netzoo import write_netzoo
    from dng.zoo.store import Zoo

    folder = Path(folder)
    rows = None
    if split_file is not None:
        n = sum(1 for _ in read_metrics(folder / "metrics.csv.gz")) \
            if (folder / "metrics.csv.gz").is_file() else None
        rows = read_split_file(split_file, n if n is not None else 0)
    z = read_smallcnnzoo(folder, step=step, stride=stride, rows=rows)
    parts = official_split(len(z.rows), seed)
    split = torch.empty(len(z.rows), dtype=torch.int8)
    for s, name in enumerate(("train", "val", "test")):
        split[parts[name]] = s
    meta = read_metrics(folder / "metrics.csv.gz") if (folder / "metrics.csv.gz").is_file() \
        else read_metrics(folder / "metrics.csv")
    ds = meta[int(z.rows[0])].get("config.dataset", "unknown") if meta else "unknown"
    cin = z.arch.layers[0].n_in
    dataset = {"name": ds, "classes": [], "image_shape": [cin, 0, 0],
               "checksum": "", "source": str(folder.resolve())}
    recipe = {"kind": "smallcnnzoo", "step": step, "stride": stride,
              "split": "split file" if split_file else f"file order, seed {seed}",
              "rows": len(z.rows)}
    write_netzoo(out, z.weights, split, z.columns, dataset, recipe, seed)
    return Zoo(out)
