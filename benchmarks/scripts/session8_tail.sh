#!/usr/bin/env bash
# Session 8's baseline rows, one lane each (OMP_NUM_THREADS=1), same harness and settings as the
# tables they join:
#   lane cnn  : NG-GNN (PyG) and NFN on the CIFAR10-GS CNN zoo (RESULTS §11.6: 7 min per model)
#   lane park : NG-GNN (PyG) on the heterogeneous-CNN zoo (any_arch_tables.sh park: 10 min)
# Usage: benchmarks/scripts/session8_tail.sh cnn|park [MINUTES]
set -euo pipefail
LANE=${1:?lane}
H=${DNG_HOME:-$HOME/.cache/dng}
export OMP_NUM_THREADS=1
cd "$(dirname "$0")/.."
case "$LANE" in
  cnn)
    Z="$H/zoos/cnn-cifar10-gs-500"; R="$H/runs/gen-cifar10-gs-500"
    python gen_table.py --zoo "$Z" --set eval_every=50 --set fourier_scale=1 \
      --jobs "ng-gnn:0,nfn:0:hidden=32+fourier_dim=16" --minutes "${2:-7}" --out "$R" ;;
  park)
    Z="$H/zoos/park-cifar10-200"; R="$H/runs/gen-park-cifar10-200"
    python gen_table.py --zoo "$Z" --set eval_every=50 --set fourier_scale=1 \
      --jobs ng-gnn:0 --minutes "${2:-10}" --out "$R" ;;
  *) echo "lane: cnn or park" >&2; exit 2 ;;
esac
python gen_table.py --zoo "$Z" --out "$R" --table
