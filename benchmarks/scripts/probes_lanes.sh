#!/usr/bin/env bash
# The probe-features table (benchmarks/RESULTS.md §7) as two single-threaded lanes, so that every
# model gets one core for its 20 minutes — the protocol of the 2026-11-27 runs. Usage:
#   benchmarks/scripts/probes_lanes.sh DATA_DIR ZOO_ROOT RUNS
# It fits (or reuses) the MNIST zoo (--limit 10000) with both cores, then runs lane A
# (MNIST K=64: DNG-Encoder, INR2JLS, NG-GNN; then NG-GNN K=0) beside lane B (MNIST K=0:
# DNG-Encoder, INR2JLS; the Fashion-MNIST zoo --limit 2000 with one worker; Fashion INR2JLS
# K=64), then Fashion INR2JLS K=0, and writes RUNS/probes_table.md.
set -euo pipefail
DATA=${1:?data dir}; ZOOS=${2:?zoo root}; RUNS=${3:?runs dir}
HERE=$(cd "$(dirname "$0")/.." && pwd)
dng fit --dataset mnist --data-dir "$DATA" --limit 10000 --out "$ZOOS/mnist-ref-10k"
export OMP_NUM_THREADS=1
T="python $HERE/probes_table.py --out $RUNS --minutes 20 --zoo mnist=$ZOOS/mnist-ref-10k
   --zoo fashion-mnist=$ZOOS/fashion-ref-2k"
$T --jobs mnist:dng-encoder:64,mnist:inr2jls:64,mnist:ng-gnn:64,mnist:ng-gnn:0 &
( $T --jobs mnist:dng-encoder:0,mnist:inr2jls:0
  dng fit --dataset fashion-mnist --data-dir "$DATA" --limit 2000 --workers 1 \
    --out "$ZOOS/fashion-ref-2k"
  $T --jobs fashion-mnist:inr2jls:64 ) &
wait
$T --jobs fashion-mnist:inr2jls:0
python "$HERE/probes_table.py" --out "$RUNS" --table
