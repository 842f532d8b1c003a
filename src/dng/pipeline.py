"""End-to-end jobs: ``dng demo`` (offline, digits) and ``dng reproduce`` (the paper's table)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from dng.data import load_dataset
from dng.data.datasets import normalize_images
from dng.errors import ConfigError
from dng.eval import evaluate_run
from dng.train import STAGE1, STAGE2, TrainConfig, train
from dng.zoo import FitRecipe, Zoo, build_zoo, limit_per_split
from dng.zoo.build import plan_units
from dng.zoo.parallel import default_workers

# Paper Table 1 (test accuracy %, their numbers, GPU, full budget); the static-graph row is
# the paper's NG-T (a transformer on the static graph), shown beside our `ng-gnn`.
PAPER = {
    "inr2jls": {"mnist": 98.6, "fashion-mnist": 90.6, "cifar10": 73.2, "cifar100": 42.4},
    "ng-gnn": {"mnist": 96.8, "fashion-mnist": 85.2, "cifar10": 57.7, "cifar100": 31.7},
}
METHODS = ("inr2jls", "dng-encoder", "ng-gnn", "mlp")
STAGE1_SHARE = 0.6  # INR2JLS: the wall-clock budget's share for stage 1 (the rest: stage 2)


def _say(msg: str) -> None:
    print(f"[dng] {msg}", flush=True)


def run_inr2jls(zoo_dir: Path, out: Path, minutes: float | None = None, seed: int = 0,
                overrides: dict | None = None, progress: bool = True, device: str = "cpu",
                steps: tuple[int, int] | None = None,
                stage1_share: float = STAGE1_SHARE) -> dict:
    """Stage 1 then stage 2 with the ``cpu`` preset; returns stage 2's evaluated metrics.

    The budget is either ``minutes`` of wall clock (``stage1_share`` of it for stage 1, the
    rest for stage 2) or ``steps = (stage-1 steps, stage-2 steps)`` — the same result on every
    machine."""
    zoo_dir, out = Path(zoo_dir), Path(out)
    overrides = overrides or {}
    if (minutes is None) == (steps is None):
        raise ValueError("give either minutes or steps")
    if not 0.0 < stage1_share < 1.0:
        raise ValueError(f"stage1_share must lie in (0, 1), got {stage1_share}")
    b1 = ({"budget_minutes": f"{stage1_share * minutes:.6g}"} if steps is None
          else {"steps": str(steps[0])})
    b2 = ({"budget_minutes": f"{(1 - stage1_share) * minutes:.6g}"} if steps is None
          else {"steps": str(steps[1])})
    s1 = TrainConfig.preset_config("cpu", STAGE1).override(
        {**b1, "seed": str(seed), **overrides.get(STAGE1, {})})
    if not (out / "stage1" / "train.json").exists():
        train(zoo_dir, out / "stage1", s1, resume=(out / "stage1" / "last.pt").exists(),
              progress=progress, log=_say, device=device)
    s2 = TrainConfig.preset_config("cpu", STAGE2).override(
        {**b2, "seed": str(seed),
         "from_run": str(out / "stage1"), **{k: v for k, v in overrides.get(STAGE1, {}).items()
                                              if k in ("augment",)},
         **overrides.get(STAGE2, {})})
    if not (out / "stage2" / "train.json").exists():
        train(zoo_dir, out / "stage2", s2, resume=(out / "stage2" / "last.pt").exists(),
              progress=progress, log=_say, device=device)
    return _evaluated(out / "stage2", zoo_dir, device)


def run_classifier(model: str, zoo_dir: Path, out: Path, minutes: float, seed: int = 0,
                   overrides: dict | None = None, progress: bool = True,
                   device: str = "cpu") -> dict:
    zoo_dir, out = Path(zoo_dir), Path(out)
    cfg = TrainConfig.preset_config("cpu", model).override(
        {"budget_minutes": str(minutes), "seed": str(seed), **(overrides or {})})
    if not (out / "train.json").exists():
        train(zoo_dir, out, cfg, resume=(out / "last.pt").exists(), progress=progress, log=_say,
              device=device)
    return _evaluated(out, zoo_dir, device)


def result_dir(run: Path, method: str) -> Path:
    """Where a method's scored run lives: INR2JLS-style runs (stage 1 + 2) score stage 2."""
    return run / "stage2" if method == "inr2jls" else run


def _evaluated(run: Path, zoo_dir: Path, device: str = "cpu") -> dict:
    """``evaluate_run``, reusing a finished run's full-test ``metrics.json`` when it is newer
    than its best checkpoint (a rerun of ``dng reproduce`` then only rewrites the table)."""
    m, ck = run / "metrics.json", run / "best.pt"
    if m.is_file() and ck.is_file() and m.stat().st_mtime >= ck.stat().st_mtime:
        from dng.io import read_json

        metrics = read_json(m, "metrics file")
        if metrics.get("eval_limit") is None and "test_accuracy" in metrics:
            return metrics
    return evaluate_run(run, zoo_dir, device=device)


# The demo's two INR2JLS runs: the `cpu` preset (probe features) and the paper's model.
DEMO_RUNS = (("inr2jls", "`cpu` preset: INR2JLS + probe features (beyond the paper)", {}),
             ("inr2jls-paper", "paper-faithful INR2JLS (no probes), same steps",
              {"probes": "0"}))


def write_report(out: Path, zoo: Zoo, results: dict[str, dict], seconds: float,
                 steps: tuple[int, int]) -> Path:
    """``out/report.md``: the zoo, both runs' numbers side by side, and their pictures."""
    m = zoo.manifest
    lines = [
        "# dng demo report", "",
        f"Zoo: {len(zoo)} SIRENs {'→'.join(map(str, zoo.spec.layer_sizes))} fitted to "
        f"`{m['dataset']['name']}` images (`{m['recipe']['steps']}`-step "
        f"fit, {m['copies']} extra random-init copies per training image); fitting "
        f"{m['inr_per_second']:.1f} INR/s.", "",
        "| split | INRs | PSNR mean (dB) | PSNR p5 (dB) |", "|---|---|---|---|"]
    for k, v in m["stats"].items():
        lines.append(f"| {k} | {v['count']} | {v['psnr_mean']:.2f} | {v['psnr_p5']:.2f} |")
    lines += ["", "![zoo: images and their INRs](zoo.png)", "",
              f"## INR2JLS, stage 1 {steps[0]} steps + stage 2 {steps[1]} steps", "",
              "| run | test accuracy | val accuracy | test PSNR of the decoded image (dB) | "
              "parameters |", "|---|---|---|---|---|"]
    for name, label, _ in DEMO_RUNS:
        r = results[name]
        lines.append(f"| {label} | **{100 * r['test_accuracy']:.2f} %** | "
                     f"{100 * r['val_accuracy']:.2f} % | {r['test_psnr']:.2f} | "
                     f"{r['params']:,} |")
    lines += ["", f"Wall time of the whole demo: {seconds:.0f} s. Probe features run each INR "
              "on 64 fixed coordinates and give every neuron its activations there "
              "(`dng.models.probes`); the paper's model sees weights and biases only.", ""]
    for name, label, _ in DEMO_RUNS:
        d = f"{name}/stage2"
        lines += [f"### {label}", "",
                  "Reconstructions (first row: the INR's image; below: stage 1's decoding "
                  "from the weights):", "", f"![reconstructions]({d}/reconstructions.png)", "",
                  f"![confusion matrix]({d}/confusion.png)", "",
                  f"![learning curves]({d}/curves.png)", "",
                  f"![latent map, PCA]({d}/latents_pca.png)", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def demo(out: str | Path = "runs/demo", steps: tuple[int, int] = (400, 150),
         limit: int | None = None, copies: int = 1, progress: bool = True,
         device: str = "cpu") -> dict:
    """Full pipeline on the embedded digits set: fit zoo → INR2JLS stage 1 → stage 2 → eval →
    report, for the ``cpu`` preset (probe features) and for the paper's model with the same
    step budgets (not wall clock: the numbers are the same on every machine for a seed)."""
    import torch

    from dng.report import image_grid
    from dng.zoo import render

    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    images = limit_per_split(load_dataset("digits"), limit)
    _say(f"[1/4] fitting a zoo of {len(images)} digit SIRENs (+{copies} random-init "
         "copies per training image)")
    # the `fast` fit recipe: the `reference` one would take most of the demo's 10 minutes
    bar, update = fit_progress(len(plan_units(images, copies)[0]), "fit digits", progress)
    try:
        zoo = build_zoo(images, out / "zoo", recipe=FitRecipe.named("fast"), copies=copies,
                        shard_size=256, workers=default_workers(), device=device,
                        progress=update)
    finally:
        if bar:
            bar.close()
    a = zoo.load("test", max_copy=0)
    sub = a.select(torch.arange(min(10, len(a))))
    with torch.no_grad():
        rec = render(sub.weights, zoo.spec, *zoo.image_shape[1:])
    from dng.report import inr_titles

    image_grid([("image", normalize_images(sub.target_images())), ("INR", rec)],
               out / "zoo.png", inr_titles(sub.label, sub.psnr, zoo.classes))
    _say(zoo.summary())
    results = {}
    for i, (name, label, extra) in enumerate(DEMO_RUNS):
        _say(f"[{i + 2}/4] {label}: stage 1 {steps[0]} steps, stage 2 {steps[1]} steps")
        # ten validation points per stage: learning curves a reader can follow
        s1 = {"copies": str(copies), "eval_every": str(max(1, steps[0] // 10)), **extra}
        s2 = {"copies": str(copies), "eval_every": str(max(1, steps[1] // 10))}
        results[name] = run_inr2jls(out / "zoo", out / name, steps=steps, progress=progress,
                                    overrides={STAGE1: s1, STAGE2: s2}, device=device)
    secs = time.perf_counter() - t0
    report = write_report(out, zoo, results, secs, steps)
    _say(f"[4/4] report: {report}")
    for name, label, _ in DEMO_RUNS:
        print(f"test accuracy, {label}: {100 * results[name]['test_accuracy']:.2f} %")
    return results


def fit_progress(total: int, desc: str, enabled: bool = True):
    """``(bar, update)`` for :func:`~dng.zoo.build_zoo`'s ``progress`` callback (INRs and
    mean PSNR so far); ``(None, None)`` when disabled."""
    if not enabled:
        return None, None
    import sys

    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="INR", dynamic_ncols=True, file=sys.stderr,
               mininterval=0.5 if sys.stderr.isatty() else 30.0)
    state = {"n": 0, "psnr": 0.0, "t0": time.perf_counter()}

    def update(n: int, mean_psnr: float) -> None:
        state["psnr"] = (state["psnr"] * state["n"] + mean_psnr * n) / (state["n"] + n)
        state["n"] += n
        rate = state["n"] / max(time.perf_counter() - state["t0"], 1e-9)
        bar.set_postfix_str(f"{rate:.1f} INR/s, PSNR {state['psnr']:.2f} dB", refresh=False)
        bar.update(n)

    return bar, update


def reproduce(data_dir: str | Path | None, datasets: list[str], minutes: float, out: str | Path,
              seeds: int = 1, methods: tuple[str, ...] = METHODS, zoo_root: str | Path | None = None,
              progress: bool = True, limit: int | None = None,
              recipe: FitRecipe | None = None, device: str = "cpu") -> Path:
    """Build/reuse zoos, train every method with the same budget, write ``results.md``."""
    from dng.models.registry import missing_extras

    if missing_extras(methods):  # before hours of fitting, not after
        raise ConfigError(f"{', '.join(missing_extras(methods))} need(s) the optional extra: "
                          'pip install "dng[baselines]" (or leave them out of --methods)')
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    zoo_root = Path(zoo_root) if zoo_root else out / "zoos"
    table: dict[str, dict[str, list[float]]] = {m: {} for m in methods}
    for ds in datasets:
        zdir = zoo_root / ds
        if not (zdir / "zoo.json").exists() or not json.loads((zdir / "zoo.json").read_text()).get(
                "complete"):
            _say(f"fitting the {ds} zoo into {zdir}")
            build_zoo(limit_per_split(load_dataset(ds, data_dir), limit), zdir, recipe=recipe,
                      workers=default_workers(), device=device)
        for method in methods:
            for seed in range(seeds):
                run = out / "runs" / ds / f"{method}-s{seed}"
                done = (result_dir(run, method) / "train.json").exists()
                _say(f"{ds} / {method} / seed {seed}: "
                     + ("finished run reused" if done else f"{minutes} min"))
                if method == "inr2jls":
                    m = run_inr2jls(zdir, run, minutes, seed, progress=progress, device=device)
                else:
                    m = run_classifier(method, zdir, run, minutes, seed, progress=progress,
                                       device=device)
                table[method].setdefault(ds, []).append(100 * m["test_accuracy"])
                (out / "results.json").write_text(json.dumps(table, indent=2))
    path = out / "results.md"
    path.write_text(results_markdown(table, datasets, minutes, seeds))
    _say(f"wrote {path}")
    return path


def results_markdown(table: dict, datasets: list[str], minutes: float, seeds: int) -> str:
    head = "| method | " + " | ".join(datasets) + " |"
    lines = [f"# Test accuracy (%), {minutes:g} min per model per dataset on this machine, "
             f"{seeds} seed(s); mean ± std", "", head, "|---|" + "---|" * len(datasets)]
    for method, row in table.items():
        cells = []
        for ds in datasets:
            v = row.get(ds, [])
            if not v:
                cells.append("–")
            elif len(v) == 1:
                cells.append(f"{v[0]:.2f}")
            else:
                cells.append(f"{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f}")
        lines.append(f"| {method} (ours) | " + " | ".join(cells) + " |")
    lines += ["", "Their numbers (Wu et al., TMLR 2026, Table 1; full GPU training budget — "
              "**not** measured here):", "", head, "|---|" + "---|" * len(datasets)]
    for method, row in PAPER.items():
        lines.append(f"| {method} (paper) | " + " | ".join(
            f"{row[ds]:.1f}" if ds in row else "–" for ds in datasets) + " |")
    return "\n".join(lines) + "\n"
