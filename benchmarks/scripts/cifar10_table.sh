#!/usr/bin/env bash
# Issue 24: CIFAR-10 INR classification at equal CPU budget on the full paper-recipe zoo
# ($DNG_HOME/zoos/cifar10-full: 45 000 / 5 000 / 10 000 SIRENs 2→32→32→3, build_full_zoos.sh).
# Two single-threaded lanes (one core per model), MIN minutes per model, then the table
# (RUNS/probes_table.md) and the rows in benchmarks/results/cpu_table.json.
# Usage: benchmarks/scripts/cifar10_table.sh [MIN] [SEED] [RUNS]
set -euo pipefail
MIN=${1:-20}; SEED=${2:-0}
H=${DNG_HOME:-$HOME/.cache/dng}
RUNS=${3:-$H/runs/cifar10-table}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export OMP_NUM_THREADS=1
T="python $HERE/probes_table.py --out $RUNS --minutes $MIN --seed $SEED --zoo cifar10=$H/zoos/cifar10-full"
# lane A: the paper's model, the DNG-Encoder alone, NFN; lane B: INR2JLS with probes,
# NG-GNN as published, ng-gnn-lite with probes
$T --jobs cifar10:inr2jls:0,cifar10:dng-encoder:0,cifar10:nfn:0 &
$T --jobs cifar10:inr2jls:64,cifar10:ng-gnn:0,cifar10:ng-gnn-lite:64 &
wait
$T --table --json "$HERE/results/cpu_table.json"
