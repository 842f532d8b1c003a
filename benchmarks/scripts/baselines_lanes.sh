#!/usr/bin/env bash
# The published baselines' rows of the 20-minute table (benchmarks/RESULTS.md §7, session 5):
# NFN (K = 0: it has no probe features) and NG-GNN on PyG (K = 0 and K = 64), each one core
# for 20 minutes with the `cpu` preset, on the same MNIST zoo as the other rows. Usage:
#   benchmarks/scripts/baselines_lanes.sh ZOO_ROOT RUNS
# (the 2026-11-28 rows ran nfn alone beside a zoo-fitting sweep, then the two NG-GNN jobs
# side by side).
set -euo pipefail
ZOOS=${1:?zoo root}; RUNS=${2:?runs dir}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export OMP_NUM_THREADS=1
T="python $HERE/probes_table.py --out $RUNS --minutes 20 --zoo mnist=$ZOOS/mnist-ref-10k"
$T --jobs mnist:nfn:0
$T --jobs mnist:ng-gnn:0 &
$T --jobs mnist:ng-gnn:64 &
wait
python "$HERE/probes_table.py" --out "$RUNS" --table
