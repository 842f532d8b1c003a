"""Paper-scale training on one GPU, in one run of at most ~9 minutes (issue: GPU-scale).

Steps, each only while time is left (``--minutes`` in all):
1. fit the zoo on the device (default recipe, ``--copies`` extra inits per training image);
2. steps/s side by side, today's path (host data, fp32, no TF32) against the fast path
   (device-resident data, fused AdamW, TF32, bf16 autocast; ``--compile`` adds
   torch.compile) for the encoder-only classifier (F=D=128, batch 128) and INR2JLS stage 1
   (F=128, D=512, latent 49×128, 6 views, batch 64);
3. train the encoder-only classifier with the ``gpu`` preset, the published baselines
   (``--baselines``: NG-GNN on PyG and NFN, their ``gpu`` presets = their authors' training
   settings), then INR2JLS stage 1 + 2;
4. evaluate on the full test split; write ``OUT/gpu_paper.json`` in the format of
   ``benchmarks/results/gpu_paper.json`` and the runs' ``metrics.json``/``best.pt``
   (bf16 weights, < 16 MiB each) so that ``dng train --resume`` continues them later.

    python benchmarks/gpu_paper.py --data-dir DATA --out $OUT [--minutes 9] [--copies 2]
    python benchmarks/gpu_paper.py --dataset digits --out /tmp/g --minutes 1.5 --tiny  # CPU smoke
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import time
from pathlib import Path

import torch

from command import command_line
from dng.data import load_dataset
from dng.device import resolve_device, synchronize
from dng.eval import evaluate_run
from dng.models.registry import missing_extras
from dng.train import TrainConfig, build_model, train
from dng.train.checkpoint import task_for
from dng.train.loop import loss_fn, make_optimizer, speed_settings
from dng.zoo import FitRecipe, Zoo, build_zoo, limit_per_split

T0 = time.perf_counter()


def left(total_min: float) -> float:
    return total_min * 60 - (time.perf_counter() - T0)


def say(msg: str) -> None:
    print(f"[gpu_paper {time.perf_counter() - T0:6.1f}s] {msg}", flush=True)


def steps_per_second(cfg: TrainConfig, zoo: Zoo, dev, fast: bool, steps: int) -> float:
    """Training steps/s of ``cfg``'s model: ``fast`` = device data, fused AdamW, TF32,
    bf16 (and ``cfg.compile``); otherwise host batches copied per step, fp32, no TF32."""
    torch.manual_seed(0)
    c = TrainConfig(**{**cfg.to_dict(), "precision": "bf16" if fast else "fp32",
                       "tf32": fast, "compile": cfg.compile if fast else "none"})
    task = task_for(c, zoo)
    net = build_model(c, zoo, task).to(dev).train()
    model = torch.compile(net, mode=None if c.compile == "default" else c.compile) \
        if c.compile != "none" else net
    opt = make_optimizer(c, [p for p in net.parameters() if p.requires_grad],
                         dev if fast else torch.device("cpu"))
    autocast = speed_settings(c, dev)
    data = zoo.load("train", max_copy=0)
    data = data.to(dev) if fast else data
    n = len(data)

    def step(i):
        idx = torch.randint(0, n, (c.batch_size,), generator=torch.Generator().manual_seed(i))
        w, y, u8 = data.batch(idx.to(data.label.device), None if fast else dev)
        with autocast():
            loss = loss_fn(model, task, w, y, u8)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(max(3, steps // 10)):  # warm-up (and compilation)
        step(i)
    synchronize(dev)
    t = time.perf_counter()
    for i in range(steps):
        step(1000 + i)
    synchronize(dev)
    return steps / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir")
    ap.add_argument("--dataset", default="mnist")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=9.0, help="everything, fitting included")
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--compile", default="none", help="none | default | reduce-overhead")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--zoo", help="an existing zoo (skips fitting)")
    ap.add_argument("--work", default="/tmp/dng-gpu-paper", help="zoo and run directories")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes: a CPU smoke test")
    ap.add_argument("--baselines", default="ng-gnn,nfn",
                    help="published baselines to train too (comma list; '' for none)")
    ap.add_argument("--max-run-minutes", type=float, default=None,
                    help="cap on each training run's budget (smoke tests)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(args.device)
    work = Path(args.work)  # zoo and full runs: outside OUT (only small files come back)
    summary = {"device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else str(dev),
               "date": datetime.date.today().isoformat(), "command": command_line(),
               "runs": [], "speed": [], "fit": None}

    def save():
        (out / "gpu_paper.json").write_text(json.dumps(summary, indent=2) + "\n")

    # 1. the zoo
    if args.zoo:
        zoo_dir = Path(args.zoo)
    else:
        zoo_dir = work / f"zoo-{args.dataset}"
        images = load_dataset(args.dataset, args.data_dir)
        if args.tiny:
            images = limit_per_split(images, 64)
        t = time.perf_counter()
        recipe = FitRecipe(chunk=1024 if dev.type == "cuda" else 32,
                           steps=20 if args.tiny else 300)
        build_zoo(images, zoo_dir, recipe=recipe, copies=args.copies, device=str(dev),
                  workers=1)
        zoo = Zoo(zoo_dir)
        summary["fit"] = {"inrs": len(zoo), "seconds": time.perf_counter() - t,
                          "copies": args.copies, "stats": zoo.manifest["stats"]}
        say(f"zoo: {len(zoo)} INRs in {summary['fit']['seconds']:.1f} s")
        save()
    zoo = Zoo(zoo_dir)
    tiny = {"emb_dim": "16", "fourier_dim": "8", "latent_dim": "8", "hidden": "16",
            "eval_every": "20", "batch_size": "16"} if args.tiny else {}
    common = {"copies": str(args.copies), "compile": args.compile, **tiny}
    enc = TrainConfig.preset_config("gpu", "dng-encoder").override(common)
    s1 = TrainConfig.preset_config("gpu", "inr2jls").override(common)

    # 2. steps/s, today's path vs the fast one, side by side
    for name, cfg in (("dng-encoder", enc), ("inr2jls", s1)):
        if left(args.minutes) < 240:
            break
        n = 20 if args.tiny else 200
        slow, fast = (steps_per_second(cfg, zoo, dev, f, n) for f in (False, True))
        summary["speed"].append({"model": name, "batch_size": cfg.batch_size,
                                 "steps_per_s_today": slow, "steps_per_s_fast": fast,
                                 "ratio": fast / slow, "compile": args.compile})
        say(f"{name}: {slow:.1f} → {fast:.1f} steps/s ({fast / slow:.2f}×)")
        save()

    # 3–4. training runs, each given what time is left
    def run(model: str, cfg: TrainConfig, run_dir: Path, share: float, scored: bool):
        budget = (left(args.minutes) - 45) * share / 60  # keep ~45 s for evaluation
        if missing_extras([model]):  # an optional extra: say so and go on without it
            say(f'{model}: skipped (pip install "dng[baselines]" for it)')
            return
        if args.max_run_minutes:
            budget = min(budget, args.max_run_minutes)
        if budget < 0.01:
            say(f"{model}: no time left")
            return
        cfg = cfg.override({"budget_minutes": f"{budget:.3f}"})
        res = train(zoo_dir, run_dir, cfg, progress=False, log=say, device=str(dev))
        summary["runs"].append({"model": model, "dataset": args.dataset, "steps": res["steps"],
                                "steps_per_s": res["steps"] / res["train_seconds"],
                                "minutes": res["train_seconds"] / 60,
                                "test_accuracy": None})
        if scored:
            m = evaluate_run(run_dir, zoo_dir, device=str(dev), progress=False)
            summary["runs"][-1]["test_accuracy"] = m.get("test_accuracy")
        # what a later GPU run needs to `dng train --resume` (bf16 weights: < 16 MiB each)
        # (stage 2 is cheap to redo: only its metrics come back; 8 files at most in all)
        # (the baselines: their accuracy in gpu_paper.json is all that comes back)
        keep = () if model in ("ng-gnn", "nfn") else ("metrics.json",) \
            if model.endswith("classifier") else \
            ("config.json", "last.pt") + (("metrics.json",) if scored else ())
        for f in keep:
            if (run_dir / f).is_file():
                shutil.copy(run_dir / f, out / f"{run_dir.name}-{f}")
        save()

    runs = work / "runs"
    run("dng-encoder", enc, runs / "enc", 0.35, True)
    for name in filter(None, args.baselines.split(",")):
        base = TrainConfig.preset_config("gpu", name).override(
            {**common, **({"fourier_dim": "8"} if args.tiny else {})})
        try:  # a failing baseline must not cost the INR2JLS runs that follow
            run(name, base, runs / name, 0.12, True)
        except Exception as e:  # noqa: BLE001
            say(f"{name}: failed ({type(e).__name__}: {str(e)[:300]}); going on")
            summary.setdefault("failed", []).append({"model": name, "error": str(e)[:300]})
            save()
    run("inr2jls", s1, runs / "s1", 0.6, False)
    if (runs / "s1" / "best.pt").is_file():
        s2 = TrainConfig.preset_config("gpu", "inr2jls-classifier").override(
            {**common, "from_run": str(runs / "s1")})
        run("inr2jls-classifier", s2, runs / "s2", 1.0, True)
    say(f"done; {out / 'gpu_paper.json'}")
    save()


if __name__ == "__main__":
    main()
