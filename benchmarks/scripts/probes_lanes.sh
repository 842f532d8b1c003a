#!/usr/bin/env bash
# The probe-features table (benchmarks/RESULTS.md §7) as two single-threaded lanes, so that every
# model gets one core for its budget (20 min). Usage:
#   benchmarks/scripts/probes_lanes.sh DATA_DIR ZOO_ROOT RUNS A|B
# The MNIST zoo must exist: dng fit --dataset mnist --limit 10000 --out ZOO_ROOT/mnist-ref-10k
# Lane A: MNIST K=64 (DNG-Encoder, INR2JLS, NG-GNN), NG-GNN K=0, Fashion-MNIST DNG-Encoder K=64.
# Lane B: `dng demo` (timed beside lane A), the Fashion-MNIST zoo (3 000 images per split,
# reference recipe, one worker), MNIST K=0 (DNG-Encoder, INR2JLS), Fashion-MNIST K=0.
set -euo pipefail
DATA=${1:?data dir}; ZOOS=${2:?zoo root}; RUNS=${3:?runs dir}; LANE=${4:?lane}
HERE=$(cd "$(dirname "$0")/.." && pwd)
T="python $HERE/probes_table.py --out $RUNS --minutes 20 --zoo mnist=$ZOOS/mnist-ref-10k
   --zoo fashion-mnist=$ZOOS/fashion-ref-3k"
case $LANE in
  A) export OMP_NUM_THREADS=1
     $T --jobs mnist:dng-encoder:64,mnist:inr2jls:64,mnist:ng-gnn:64,mnist:ng-gnn:0
     until [ -f "$ZOOS/fashion-ref-3k/zoo.json" ] && grep -q '"complete": true' \
         "$ZOOS/fashion-ref-3k/zoo.json"; do sleep 30; done
     $T --jobs fashion-mnist:dng-encoder:64 ;;
  B) /usr/bin/time -f "demo wall %e s" dng demo --out "$RUNS/demo" --device cpu
     export OMP_NUM_THREADS=1
     dng fit --dataset fashion-mnist --data-dir "$DATA" --limit 3000 --workers 1 \
       --out "$ZOOS/fashion-ref-3k"
     $T --jobs mnist:dng-encoder:0,mnist:inr2jls:0,fashion-mnist:dng-encoder:0 ;;
esac
