#!/usr/bin/env bash
# Issue 24: MNIST and Fashion-MNIST on the full paper-recipe zoos ($DNG_HOME/zoos/mnist-full,
# fashion-mnist-full: build_full_zoos.sh), INR2JLS paper-faithful (K = 0) and with probes
# (K = 64), seeds 0 and 1, MIN minutes each: two single-threaded lanes (one core per model).
# Then the table (RUNS/probes_table.md) and the rows in benchmarks/results/cpu_table.json.
# Usage: [SEEDS="0 1"] benchmarks/scripts/full_zoo_rows.sh [MIN] [DATASETS] [RUNS]
#   (SEEDS picks the seeds to run now; finished runs are reused, so the table can be built
#   a seed at a time.)
set -euo pipefail
MIN=${1:-20}; SETS=${2:-mnist fashion-mnist}; SEEDS=${SEEDS:-0 1}
H=${DNG_HOME:-$HOME/.cache/dng}
RUNS=${3:-$H/runs/full-zoo-rows}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export OMP_NUM_THREADS=1
ZOOS=""; for ds in $SETS; do ZOOS="$ZOOS --zoo $ds=$H/zoos/$ds-full"; done
T="python $HERE/probes_table.py --out $RUNS --minutes $MIN $ZOOS"
lane() {  # one lane: K probes, both seeds, every dataset
  for ds in $SETS; do for seed in $SEEDS; do $T --seed $seed --jobs "$ds:inr2jls:$1"; done; done
}
lane 0 &
lane 64 &
wait
$T --table --json "$HERE/results/cpu_table.json"
