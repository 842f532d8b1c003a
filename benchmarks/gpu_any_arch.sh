#!/usr/bin/env bash
# One GPU run for issue 23 (≤ 9 min of wall time): a heterogeneous-CNN zoo and a ViT zoo on
# CIFAR-10 built on the GPU (dng zoo fit --kind park|vit --device), then the Kendall τ of the
# DNG-Encoder, StatNN and NG-GNN (PyG; ~70 s a step on one CPU core for ViTs: a GPU job) on
# each (gen_table.py), MINUTES (default 1) per model. Everything lands under $OUT (zoo summaries,
# the two tables, the runs' train.json/metrics.json; no zoo shards).
#
#   OUT=DIR benchmarks/gpu_any_arch.sh [DATA_DIR] [PARK_COUNT] [VIT_COUNT] [MINUTES] [DEVICE]
#
# Prepared, not yet run on a GPU (no device was lent when it was written). Rehearse on the CPU:
#   OUT=/tmp/ga SPE=1 benchmarks/gpu_any_arch.sh ../shared/data 6 6 0.2 cpu
# Dependencies as benchmarks/gpu_paper.sh says (.gpu_deps in the carry list).
set -euo pipefail
DATA=${1:-shared/data}; NP=${2:-600}; NV=${3:-400}; MIN=${4:-1}; DEV=${5:-cuda}
SPE=${SPE:-40}  # steps per epoch of the zoo networks (SPE=1 for a quick rehearsal)
OUT=${OUT:?set OUT}
source "$(dirname "$0")/gpu_env.sh"
Z=$(mktemp -d)
DNG="python3 -m dng"
{
  nvidia-smi -L 2>/dev/null || true
  /usr/bin/time -f "park zoo wall %e s" $DNG zoo fit --kind park --dataset cifar10 --data-dir "$DATA" \
    --out "$Z/park" --count "$NP" --epochs 0,1,2,4 --steps-per-epoch "$SPE" --unit 64 \
    --train-size 10000 --test-size 2000 --device "$DEV"
  /usr/bin/time -f "vit zoo wall %e s" $DNG zoo fit --kind vit --dataset cifar10 --data-dir "$DATA" \
    --out "$Z/vit" --count "$NV" --steps-per-epoch "$SPE" --unit 100 --batch-size 128 \
    --train-size 10000 --test-size 2000 --device "$DEV"
  for k in park vit; do
    python3 benchmarks/gen_table.py --zoo "$Z/$k" --set fourier_scale=1 --device "$DEV" \
      --jobs "dng-encoder:0:emb_dim=64+att_dim=16+fourier_dim=32,statnn:0,ng-gnn:0" \
      --minutes "$MIN" \
      --out "$Z/runs-$k"
    cp "$Z/runs-$k/gen_table.md" "$OUT/gen_table_$k.md" || true
    cp "$Z/runs-$k/gen_table.json" "$OUT/gen_table_$k.json" || true
  done
  # mixed batches on the accelerator: buckets vs one padded batch (RESULTS §13.1: 10x slower on
  # a CPU)
  (cd benchmarks && python3 mixed_batch_speed.py --device "$DEV" --batch 32 --steps 6)
} > "$OUT/log.txt" 2>&1
rm -rf "$Z"
