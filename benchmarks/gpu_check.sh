#!/usr/bin/env bash
# One short GPU session: the test suite on CUDA (reference fixtures included), a full MNIST
# zoo fitted on the GPU, and the cpu preset's INR2JLS, DNG-Encoder and NG-GNN trained there
# side by side (three processes sharing the one GPU) with the same minutes, then scored on
# the full test split.
#
#   benchmarks/gpu_check.sh DATA_DIR FIXTURES OUT [DEVICE] [MIN_STAGE1] [MIN_STAGE2] [LIMIT]
#
# DATA_DIR holds mnist/ (the four IDX .gz files); OUT receives logs and runs.tar.gz.
# Rehearse it on the CPU with tiny settings: benchmarks/gpu_check.sh DIR FIX /tmp/o cpu 0.1 0.1 64
set -u
DATA=$1; FIX=$2; OUT=$3; DEV=${4:-cuda}; M1=${5:-2.5}; M2=${6:-1.5}; LIMIT=${7:-}
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 DNG_FIXTURES=$FIX OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
W=${GPU_CHECK_WORK:-/tmp/dng-gpu-check}
rm -rf "$W"; mkdir -p "$OUT" "$W"
dng() { python3 -m dng.cli "$@"; }
MT=$(python3 -c "print($M1 + $M2)")
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*"; }

{ stamp env; nvidia-smi -L 2>&1; nproc
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
} > "$OUT/env.txt" 2>&1

stamp pytest >> "$OUT/env.txt"
timeout 240 python3 -m pytest -q -p no:cacheprovider --dng-device "$DEV" tests > "$OUT/pytest.txt" 2>&1
echo "pytest exit $?" >> "$OUT/pytest.txt"

stamp fit >> "$OUT/env.txt"
timeout 240 python3 -m dng.cli fit --dataset mnist --data-dir "$DATA" --out "$W/zoo" \
    --chunk 1024 --device "$DEV" ${LIMIT:+--limit $LIMIT} > "$OUT/fit.log" 2>&1
echo "fit exit $?" >> "$OUT/fit.log"

stamp train >> "$OUT/env.txt"
Z=$W/zoo; R=$W/runs
( dng train --zoo "$Z" --model inr2jls --out "$R/inr2jls/stage1" --budget-minutes "$M1" --device "$DEV" &&
  dng train --zoo "$Z" --model inr2jls-classifier --from "$R/inr2jls/stage1" \
      --out "$R/inr2jls/stage2" --budget-minutes "$M2" --device "$DEV" &&
  dng eval "$R/inr2jls/stage2" --device "$DEV" ) > "$OUT/inr2jls.log" 2>&1 &
for m in dng-encoder ng-gnn; do
  ( dng train --zoo "$Z" --model $m --out "$R/$m" --budget-minutes "$MT" --device "$DEV" &&
    dng eval "$R/$m" --device "$DEV" ) > "$OUT/$m.log" 2>&1 &
done
wait
stamp done >> "$OUT/env.txt"
tar -czf "$OUT/runs.tar.gz" -C "$W" --exclude=last.pt --exclude=shards --exclude=images.safetensors \
    zoo runs 2>> "$OUT/env.txt"
for f in inr2jls/stage1 inr2jls/stage2 dng-encoder ng-gnn; do
  python3 - "$R/$f" <<'PY' >> "$OUT/env.txt"
import json, sys, pathlib
r = pathlib.Path(sys.argv[1]); t = json.loads((r / "train.json").read_text())
m = json.loads((r / "metrics.json").read_text()) if (r / "metrics.json").exists() else {}
print(r.name, t["device"], t["steps"], "steps", round(t["train_seconds"]), "s",
      {k: m[k] for k in ("test_accuracy", "val_accuracy", "test_psnr") if k in m})
PY
done
