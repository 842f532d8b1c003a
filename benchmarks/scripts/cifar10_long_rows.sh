#!/usr/bin/env bash
# Issue 24: the long rows of the CIFAR-10 table — the best dynamic model (INR2JLS, K=64 probes)
# and the best static model (ng-gnn-lite, K=64) of the 20-minute rows (RESULTS §12.5), MIN
# minutes each, seeds 0 and 1, two single-threaded lanes (one core per model; one model after
# the other in each lane), on the full zoo ($DNG_HOME/zoos/cifar10-full, build_full_zoos.sh).
# Then the table (RUNS/probes_table.md) and the rows in benchmarks/results/cpu_table.json.
# Usage: benchmarks/scripts/cifar10_long_rows.sh [MIN] [RUNS]
set -euo pipefail
MIN=${1:-60}
H=${DNG_HOME:-$HOME/.cache/dng}
RUNS=${2:-$H/runs/cifar10-table-${MIN}min}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export OMP_NUM_THREADS=1
T="python $HERE/probes_table.py --out $RUNS --minutes $MIN --zoo cifar10=$H/zoos/cifar10-full"
( $T --seed 0 --jobs cifar10:inr2jls:64 && $T --seed 1 --jobs cifar10:inr2jls:64 ) &
( $T --seed 0 --jobs cifar10:ng-gnn-lite:64 && $T --seed 1 --jobs cifar10:ng-gnn-lite:64 ) &
wait
$T --table --json "$HERE/results/cpu_table.json"
