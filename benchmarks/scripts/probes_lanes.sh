#!/usr/bin/env bash
# The probe-features table (benchmarks/RESULTS.md §7) as two single-threaded lanes, so that every
# model gets one core for its budget. Usage:
#   benchmarks/scripts/probes_lanes.sh DATA_DIR ZOO_ROOT RUNS A|B|C
# Lane A: MNIST K=64 (DNG-Encoder, INR2JLS, NG-GNN). Lane B: fit the Fashion-MNIST and
# CIFAR-10 zoos (3 000 images per split, reference recipe, one worker), then MNIST K=0 for the
# DNG-Encoder and INR2JLS. Lane C (after A): NG-GNN K=0, then Fashion-MNIST and CIFAR-10.
# The MNIST zoo is `dng fit --dataset mnist --limit 10000` (reference recipe).
set -euo pipefail
DATA=${1:?data dir}; ZOOS=${2:?zoo root}; RUNS=${3:?runs dir}; LANE=${4:?lane}
export OMP_NUM_THREADS=1
HERE=$(cd "$(dirname "$0")/.." && pwd)
T="python $HERE/probes_table.py --out $RUNS --minutes 20 --zoo mnist=$ZOOS/mnist-ref-10k
   --zoo fashion-mnist=$ZOOS/fashion-ref-3k --zoo cifar10=$ZOOS/cifar10-ref-3k"
case $LANE in
  A) $T --jobs mnist:dng-encoder:64,mnist:inr2jls:64,mnist:ng-gnn:64 ;;
  B) dng fit --dataset fashion-mnist --data-dir "$DATA" --limit 3000 --workers 1 \
       --out "$ZOOS/fashion-ref-3k"
     dng fit --dataset cifar10 --data-dir "$DATA" --limit 3000 --workers 1 \
       --out "$ZOOS/cifar10-ref-3k"
     $T --jobs mnist:dng-encoder:0,mnist:inr2jls:0 ;;
  C) $T --jobs mnist:ng-gnn:0,fashion-mnist:dng-encoder:64,fashion-mnist:dng-encoder:0 ;;
esac
