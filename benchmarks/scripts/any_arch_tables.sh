#!/usr/bin/env bash
# Issue 23's tables on zoos built here: heterogeneous CIFAR-10 CNNs (the Wild Park sampler's
# ranges) and small ViTs (the paper's generator), then Kendall τ for DNG (2 seeds) vs StatNN vs
# ng-gnn-lite at equal CPU budget (two single-threaded lanes).
# Usage: benchmarks/scripts/any_arch_tables.sh DATA_DIR [PARK_COUNT] [VIT_COUNT] [MINUTES]
# Resumable: rerun after a kill (zoo units and finished jobs are kept).
set -euo pipefail
DATA=${1:?data dir}; NP=${2:-300}; NV=${3:-200}; MIN=${4:-10}
H=${DNG_HOME:-$HOME/.cache/dng}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export OMP_NUM_THREADS=1
PARK="$H/zoos/park-cifar10-$NP"; VIT="$H/zoos/vit-cifar10-$NV"
# the two zoos side by side, one core each
/usr/bin/time -f "park zoo wall %e s" dng zoo fit --kind park --dataset cifar10 --data-dir "$DATA" \
  --out "$PARK" --count "$NP" --epochs 0,1,2,4 --steps-per-epoch 40 --unit 16 \
  --train-size 5000 --test-size 1000 &
/usr/bin/time -f "vit zoo wall %e s" dng zoo fit --kind vit --dataset cifar10 --data-dir "$DATA" \
  --out "$VIT" --count "$NV" --steps-per-epoch 40 --unit 25 --batch-size 128 \
  --train-size 5000 --test-size 1000 &
wait
dng zoo info "$PARK"; dng zoo info "$VIT"
for Z in "$PARK" "$VIT"; do
  R="$H/runs/gen-$(basename "$Z")"
  STATIC="statnn:0,ng-gnn-lite:0"; [ "$Z" = "$VIT" ] && STATIC="statnn:0"  # no ViT NG-GNN yet
  python "$HERE/gen_table.py" --zoo "$Z" --set eval_every=50 --set fourier_scale=1 \
    --jobs "dng-encoder:0:emb_dim=64+att_dim=16+fourier_dim=32,dng-encoder:1:emb_dim=64+att_dim=16+fourier_dim=32" \
    --minutes "$MIN" --out "$R" &
  python "$HERE/gen_table.py" --zoo "$Z" --set eval_every=50 --set fourier_scale=1 \
    --jobs "$STATIC" --minutes "$MIN" --out "$R" &
  wait
  python "$HERE/gen_table.py" --zoo "$Z" --out "$R" --table
done
