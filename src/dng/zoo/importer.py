"""Import foreign SIREN zoos (state_dicts with ordered weight/bias pairs) as ``dng`` zoos.

Accepted sources:

* a *bundle*: a ``.pt`` file holding a dict with ``state_dicts`` (a list), and optionally
  ``labels`` (N,), ``images_uint8`` (N, C, H, W), ``siren_kwargs`` (the official constructor dict);
* a state_dict file (``.pt``/``.pth``/``.safetensors``) holding one SIREN;
* a directory: every such file below it, in sorted path order.

Files are read with ``torch.load(..., weights_only=True)`` — a file holding other objects is
refused. Without images, the target image is the INR's own rendering (clamped to [-1, 1]).
"""

from __future__ import annotations

from pathlib import Path

import torch

from dng.data.datasets import ImageSet, normalize_images
from dng.errors import ShapeError, ZooError
from dng.io import atomic_write_json
from dng.weights import MLPWeights  # noqa: F401
from dng.zoo.statedicts import safe_load, weights_from_state_dicts  # noqa: F401 (re-exported)
from dng.zoo.fit import RECIPE_INRS, psnr
from dng.zoo.siren import SirenSpec, render
import dng.zoo.inrzoo as inrzoo
from dng.zoo.store import Zoo, split_stats, write_images, write_shard

_STATE_EXT = (".pt", ".pth", ".safetensors")
MAX_CLASSES = 100_000  # labels read from folder names: beyond this they are not classes


def confine(files, root: Path, follow_symlinks: bool = False) -> None:
    """Refuse a file that lies outside the layout ``root`` (a symlink, file or folder, that
    leaves it) unless ``follow_symlinks``; the error names the file and where it points."""
    if follow_symlinks:
        return
    top = Path(root).resolve()
    for f in files:
        real = Path(f).resolve()
        if not real.is_relative_to(top):
            raise ZooError(f"{f}: leads outside the layout {root} (to {real}); pass "
                           "--follow-symlinks to import it anyway")


def _collect(sources: list[Path], follow_symlinks: bool = False) -> tuple[list[dict], dict]:
    """Read state_dicts (and bundle extras) from files/directories."""
    sds: list[dict] = []
    extras: dict = {}
    for src in sources:
        if src.is_dir():
            files = sorted(f for f in src.rglob("*") if f.suffix in _STATE_EXT and f.is_file())
            if not files:
                raise ZooError(f"{src}: no .pt/.pth/.safetensors files inside")
            confine(files, src, follow_symlinks)
        elif src.is_file():
            files = [src]
        else:
            raise ZooError(f"{src}: no such file or directory")
        for f in files:
            obj = safe_load(f)
            if isinstance(obj, dict) and "state_dicts" in obj:
                if extras or sds:
                    raise ZooError(f"{f}: a bundle must be imported on its own")
                sds = list(obj["state_dicts"])
                extras = {k: obj[k] for k in ("labels", "images_uint8", "siren_kwargs", "dataset")
                          if k in obj}
            elif isinstance(obj, dict):
                bad = [k for k, v in obj.items() if isinstance(v, torch.Tensor)
                       and v.is_floating_point() and not torch.isfinite(v).all()]
                if bad:
                    raise ZooError(f"{f}: NaN or Inf values in {', '.join(bad[:3])}")
                sds.append(obj)
            else:
                raise ZooError(f"{f}: holds a {type(obj).__name__}, not a state_dict")
    return sds, extras


def import_zoo(sources: list[str | Path], out: str | Path, *args, **kwargs) -> Zoo:
    """:func:`_import_zoo` under an exclusive lock on ``out`` (one writer per zoo)."""
    from dng.io import DirLock

    out = Path(out)
    if out.exists() and any(p.name != DirLock.NAME for p in out.iterdir()):
        raise ZooError(f"{out} exists and is not empty")
    fresh = not out.exists()
    try:
        with DirLock(out, "dng import-zoo"):
            return _import_zoo(sources, out, *args, **kwargs)
    except BaseException:
        # all or nothing: the folder was new or empty, so everything in it is this import's
        import shutil

        if out.exists():
            for p in out.iterdir():
                if p.name != DirLock.NAME:
                    shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
            if fresh and not any(out.iterdir()):
                out.rmdir()
        raise


def _import_zoo(sources: list[str | Path], out: str | Path, image_size: tuple[int, int] = (28, 28),
                omega: float | None = None, name: str = "imported", format: str = "auto",
                images: ImageSet | None = None, split_at: tuple[int, int] = (45000, 50000),
                val_size: int | None = None, activation: str | None = None,
                follow_symlinks: bool = False) -> Zoo:
    """``activation``: the hidden layers' nonlinearity (``sine``, ``relu``, …). State_dicts
    do not say; ``None`` assumes ``sine`` (SIRENs) and the manifest records that it was
    assumed (``recipe.activation_assumed``), which ``dng zoo import`` prints."""
    import dng.zoo.layouts as layouts

    if format not in layouts.FORMATS:
        raise ZooError(f"unknown zoo format {format!r} ({', '.join(layouts.FORMATS)})")
    paths = [Path(s) for s in sources]
    if format == "auto":
        format = layouts.detect(paths[0]) if len(paths) == 1 else "state-dicts"
    if format in ("nfn", "dwsnets"):
        if len(paths) != 1 or not paths[0].is_dir():
            raise ZooError(f"a {format} zoo is imported from its one root directory")
        entries = layouts.nfn_entries(paths[0], split_at) if format == "nfn" else \
            layouts.dwsnets_entries(paths[0], val_size)
        confine([e.path for e in entries], paths[0], follow_symlinks)
        return _import_entries(entries, Path(out), format, images, image_size, omega, name,
                               activation=activation)
    return _import_state_dicts(sources, out, image_size, omega, name, activation,
                               follow_symlinks)


def _activation_note(activation: str | None) -> dict:
    return {"activation": activation or "sine", "activation_assumed": activation is None}


def _import_entries(entries, out: Path, fmt: str, images: ImageSet | None,
                    image_size: tuple[int, int], omega: float | None, name: str,
                    shard_size: int = 4096, activation: str | None = None) -> Zoo:
    """Stream the layout's files into shards (memory: one shard of weights at a time, plus
    the image table). Each file is loaded with ``weights_only=True`` and checked (shapes,
    finite values); a bad one is named."""
    first = weights_from_state_dicts([safe_load(entries[0].path)])
    sizes = first.layer_sizes
    act = _activation_note(activation)
    if sizes[0] != 2:
        raise ZooError(f"{entries[0].path}: MLPs take {sizes[0]} inputs; image SIRENs take 2")
    om = omega or 30.0
    spec = SirenSpec(2, sizes[1:-1], sizes[-1], om, om,
                     **(RECIPE_INRS["dwsnets"] if fmt == "dwsnets" else {}),
                     activation=act["activation"])
    labels = torch.tensor([e.label for e in entries], dtype=torch.int64)
    split = torch.tensor([e.split for e in entries], dtype=torch.int8)
    index = torch.tensor([e.index for e in entries], dtype=torch.int64)
    if images is not None:
        if int(index.max()) >= len(images):
            raise ZooError(f"INR index {int(index.max())} beyond the {len(images)} images of "
                           f"{images.name}")
        if images.image_shape[0] != sizes[-1]:
            raise ZooError(f"{images.name} images have {images.image_shape[0]} channels, the "
                           f"INRs output {sizes[-1]}")
        known = labels >= 0
        if (images.labels[index][known] != labels[known]).any():
            bad = int((images.labels[index][known] != labels[known]).nonzero()[0])
            raise ZooError(f"{entries[bad].path}: label {int(labels[bad])} but {images.name} "
                           f"image {int(index[bad])} is a {int(images.labels[index[bad]])}")
        H, W = images.image_shape[1:]
        classes = images.classes
    else:
        H, W = image_size
        if int(labels.max()) >= MAX_CLASSES:
            bad = int(labels.argmax())
            raise ZooError(f"{entries[bad].path}: class label {int(labels[bad])} — more than "
                           f"{MAX_CLASSES} classes is not an image dataset")
        classes = [str(i) for i in range(int(labels.max()) + 1)] if (labels >= 0).any() else []
    out.mkdir(parents=True, exist_ok=True)
    shards, rendered, psnrs = [], [], []
    for s, i in enumerate(range(0, len(entries), shard_size)):
        chunk = entries[i:i + shard_size]
        parts = []
        for e in chunk:
            try:  # shapes, (weight, bias) pairs, finite values — the file named if not
                part = weights_from_state_dicts([safe_load(e.path)], spec.activations)
                if part.layer_sizes != sizes:
                    raise ZooError(f"layer sizes differ from {entries[0].path.name}'s {sizes}")
            except (ZooError, ShapeError) as err:
                raise ZooError(f"{e.path}: {err}") from None
            parts.append(part)
        w = MLPWeights.cat(parts)  # each file parsed and checked once
        with torch.no_grad():
            r = render(w, spec, H, W)
        sl = slice(i, i + len(chunk))
        if images is not None:
            p = psnr(r, normalize_images(images.images[index[sl]])).float()
            img_idx = index[sl]
        else:
            rendered.append(((r.clamp(-1, 1) * 0.5 + 0.5) * 255).round().to(torch.uint8))
            p = torch.full((len(chunk),), float("nan"))  # no images: nothing to compare with
            img_idx = torch.arange(sl.start, sl.start + len(chunk))
        psnrs.append(p)
        meta = inrzoo.shard_meta(w, labels[sl], img_idx, split[sl],
                                 torch.tensor([e.copy for e in chunk], dtype=torch.int64), p)
        shards.append(write_shard(out, s, w, meta))
    images_given = images is not None
    if images is None:
        images = ImageSet(name, torch.cat(rendered), labels, split, classes)
    p = torch.cat(psnrs)
    counts = {k: int((split == v).sum()) for v, k in enumerate(("train", "val", "test"))}
    recipe = {"imported_from": str(entries[0].path.parents[1 if fmt == "nfn" else 2]),
              "layout": fmt, **act}
    stats = split_stats(p, split) if images_given else \
        {k: {"count": v} for k, v in counts.items() if v}
    return _finish(out, spec, recipe, int(max(e.copy for e in entries)), shard_size,
                   len(entries), shards, images, classes, counts, stats)


def _finish(out: Path, spec: SirenSpec, recipe: dict, copies: int, shard_size: int, num: int,
            shards: list, images: ImageSet, classes: list, counts: dict, stats: dict) -> Zoo:
    """Write an imported zoo's images and manifest (its shards are written); open it."""
    _, H, W = images.image_shape
    manifest = {
        **inrzoo.format_fields(spec), "recipe": recipe,
        "seed": None, "copies": copies, "shard_size": shard_size, "num_inrs": num,
        "num_shards": len(shards),
        "dataset": {"name": images.name, "checksum": images.checksum, "classes": classes,
                    "image_shape": [spec.out_features, H, W], "counts": counts},
        "complete": True, "fit_seconds": None, "inr_per_second": None,
        "images": write_images(out, images), "shards": shards, "stats": stats,
    }
    atomic_write_json(out / "zoo.json", manifest)
    return Zoo(out)


def _import_state_dicts(sources: list[str | Path], out: str | Path,
                        image_size: tuple[int, int] = (28, 28), omega: float | None = None,
                        name: str = "imported", activation: str | None = None,
                        follow_symlinks: bool = False) -> Zoo:
    """Convert SIREN state_dicts into a zoo at ``out`` (all INRs go to the ``test`` split
    unless the source says otherwise; labels -1 when unknown)."""
    out = Path(out)
    if (out / "zoo.json").exists():  # another importer finished first
        raise ZooError(f"{out} exists and is not empty")
    sds, extras = _collect([Path(s) for s in sources], follow_symlinks)
    act = _activation_note(activation)
    weights = weights_from_state_dicts(sds)
    kw = extras.get("siren_kwargs", {})
    first = float(kw.get("first_omega_0", omega or 30.0))
    hidden_om = float(kw.get("hidden_omega_0", omega or 30.0))
    sizes = weights.layer_sizes
    if sizes[0] != 2:
        raise ZooError(f"imported MLPs take {sizes[0]} inputs; image SIRENs take 2 coordinates")
    spec = SirenSpec(2, sizes[1:-1], sizes[-1], first, hidden_om, activation=act["activation"])
    weights = MLPWeights(weights.weights, weights.biases, spec.activations)
    N = len(weights)
    if "images_uint8" in extras:
        images_u8 = extras["images_uint8"]
        if images_u8.shape[0] != N or images_u8.dim() != 4 or images_u8.shape[1] != sizes[-1]:
            raise ZooError(f"bundle images {tuple(images_u8.shape)} do not fit {N} SIRENs with "
                           f"{sizes[-1]} outputs")
        H, W = images_u8.shape[2:]
    else:
        H, W = image_size
        with torch.no_grad():
            r = render(weights, spec, H, W).clamp(-1, 1)
        images_u8 = ((r * 0.5 + 0.5) * 255).round().to(torch.uint8)
    labels = extras.get("labels", torch.full((N,), -1, dtype=torch.int64)).to(torch.int64)
    split = torch.full((N,), 2, dtype=torch.int8)
    n_cls = int(labels.max()) + 1 if (labels >= 0).any() else 0
    images = ImageSet(str(extras.get("dataset", name)), images_u8, labels, split,
                      [str(i) for i in range(n_cls)])
    with torch.no_grad():
        p = psnr(render(weights, spec, H, W), normalize_images(images_u8)).float()
    out.mkdir(parents=True, exist_ok=True)
    meta = inrzoo.shard_meta(weights, labels, torch.arange(N), split,
                             torch.zeros(N, dtype=torch.int64), p)
    shards = [write_shard(out, 0, weights, meta)]
    return _finish(out, spec, {"imported_from": [str(s) for s in sources], **act}, 0, N, N,
                   shards, images, images.classes, images.counts(), split_stats(p, split))
