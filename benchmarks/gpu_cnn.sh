#!/usr/bin/env bash
# One GPU run for issue 21 (≤ 9 min of wall time): the Small CNN Zoo generalization table on a
# GPU. If SMALLCNNZOO names a folder of the real release (weights.npy, layout.csv,
# metrics.csv.gz; CIFAR10-GS, step 86), it is imported; else a CIFAR10-GS zoo of COUNT Small CNN
# Zoo networks is built on the GPU. Then the Kendall τ of the DNG-Encoder, StatNN, NG-GNN (PyG)
# and NFN (gen_table.py, MINUTES per model). Everything lands under $OUT (zoo summary, table,
# the runs' train.json/metrics.json; no zoo shards).
#
#   OUT=DIR [SMALLCNNZOO=DIR] benchmarks/gpu_cnn.sh [DATA_DIR] [COUNT] [MINUTES] [DEVICE]
#
# Prepared, not yet run on a GPU (no device was lent when it was written). Rehearse on the CPU:
#   OUT=/tmp/gc SPE=2 benchmarks/gpu_cnn.sh ../shared/data 20 0.2 cpu
# Dependencies as benchmarks/gpu_paper.sh says (.gpu_deps in the carry list).
set -euo pipefail
DATA=${1:-shared/data}; N=${2:-3000}; MIN=${3:-1}; DEV=${4:-cuda}
SPE=${SPE:-150}  # steps per epoch of the zoo networks (SPE=2 for a quick rehearsal)
OUT=${OUT:?set OUT}
source "$(dirname "$0")/gpu_env.sh"
Z=$(mktemp -d)
DNG="python3 -m dng"
{
  nvidia-smi -L 2>/dev/null || true
  if [ -n "${SMALLCNNZOO:-}" ]; then
    $DNG zoo import --format smallcnnzoo "$SMALLCNNZOO" --out "$Z/cnn"
  else
    /usr/bin/time -f "cnn zoo wall %e s" $DNG zoo fit --kind cnn --dataset cifar10-gs \
      --data-dir "$DATA" --out "$Z/cnn" --count "$N" --epochs 0,1,2,4,8 \
      --steps-per-epoch "$SPE" --unit 500 --device "$DEV"
  fi
  python3 benchmarks/gen_table.py --zoo "$Z/cnn" --set eval_every=50 --set fourier_scale=1 \
    --device "$DEV" --minutes "$MIN" --out "$Z/runs" \
    --jobs "dng-encoder:0:emb_dim=64+att_dim=16+fourier_dim=32,statnn:0,ng-gnn:0,nfn:0:hidden=32+fourier_dim=16"
  cp "$Z/runs/gen_table.md" "$OUT/gen_table_cnn.md" || true
  cp "$Z/runs/gen_table.json" "$OUT/gen_table_cnn.json" || true
} > "$OUT/log.txt" 2>&1
rm -rf "$Z"
