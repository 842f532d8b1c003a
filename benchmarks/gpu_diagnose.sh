#!/usr/bin/env bash
# Why does MNIST stay at ~25 %? One short GPU session that separates the zoo recipe from the
# training hyper-parameters: two MNIST zoos fitted on the GPU (ours: 70 steps, lr 1.2e-2,
# cosine; the reference's: 300 steps, lr 1e-3, constant — FORMAT.md §1), then DNG-Encoder
# (cpu and paper presets) and NG-GNN (lr 1e-4) trained on them side by side, five processes
# sharing the GPU, MIN minutes each, scored on the full test split.
#
#   benchmarks/gpu_diagnose.sh DATA_DIR OUT [DEVICE] [MIN] [LIMIT]
#
# Rehearse on the CPU: benchmarks/gpu_diagnose.sh DIR /tmp/o cpu 0.1 64
set -u
DATA=$1; OUT=$2; DEV=${3:-cuda}; MIN=${4:-3}; LIMIT=${5:-}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
W=${GPU_CHECK_WORK:-/tmp/dng-gpu-diagnose}
rm -rf "$W"; mkdir -p "$OUT" "$W/logs"
dng() { python3 -m dng.cli "$@"; }
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" >> "$OUT/summary.txt"; }
stamp fit
dng fit --dataset mnist --data-dir "$DATA" --out "$W/zoo-ours" --chunk 1024 --device "$DEV" \
    ${LIMIT:+--limit $LIMIT} > "$W/logs/fit-ours.log" 2>&1 &
dng fit --dataset mnist --data-dir "$DATA" --out "$W/zoo-ref" --steps 300 --lr 1e-3 \
    --schedule constant --chunk 1024 --device "$DEV" ${LIMIT:+--limit $LIMIT} \
    > "$W/logs/fit-ref.log" 2>&1 &
wait
tail -n 1 "$W"/logs/fit-*.log >> "$OUT/summary.txt"
stamp train
run() {
  local name=$1 zoo=$2; shift 2
  ( dng train --zoo "$W/$zoo" --out "$W/runs/$name" --budget-minutes "$MIN" --device "$DEV" "$@" &&
    dng eval "$W/runs/$name" --device "$DEV" ) > "$W/logs/$name.log" 2>&1 &
}
run enc-ours-paper zoo-ours --model dng-encoder --preset paper
run enc-ref-cpu zoo-ref --model dng-encoder
run enc-ref-paper zoo-ref --model dng-encoder --preset paper
run ng-ours-lr1e-4 zoo-ours --model ng-gnn --lr 1e-4
run ng-ref-lr1e-4 zoo-ref --model ng-gnn --lr 1e-4
wait
stamp done
for r in "$W"/runs/*; do
  python3 - "$r" <<'PY' >> "$OUT/summary.txt"
import json, sys, pathlib
r = pathlib.Path(sys.argv[1])
t = json.loads((r / "train.json").read_text()) if (r / "train.json").exists() else {}
m = json.loads((r / "metrics.json").read_text()) if (r / "metrics.json").exists() else {}
print(r.name, t.get("steps"), "steps", round(t.get("train_seconds", 0)), "s",
      {k: round(m[k], 4) for k in ("test_accuracy", "val_accuracy") if k in m})
PY
done
tail -n 3 "$W"/logs/*.log >> "$OUT/summary.txt" 2>&1
tar -czf "$OUT/runs.tar.gz" -C "$W" --exclude=last.pt --exclude=best.pt --exclude=shards \
    --exclude=images.safetensors logs runs zoo-ours/zoo.json zoo-ref/zoo.json 2>> "$OUT/summary.txt"
