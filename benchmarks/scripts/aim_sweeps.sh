#!/usr/bin/env bash
# Issue 24's aims (MNIST ≥ 95 %, Fashion-MNIST ≥ 85 %, CIFAR-10 ≥ 50 % at 20 CPU-minutes):
# what buys INR2JLS accuracy per CPU-minute on a full zoo ($DNG_HOME/zoos/DATASET-full). Each
# variant changes one thing from the `cpu` preset as it was before this sweep (K = 64
# post-activation probes, 60/40 budget split, D = 128; the sweep moved the preset to K = 256,
# RESULTS §16.2): the split (75/25: with stage 2's latents computed once, stage 2 levels
# off within ~6 of its 8 minutes while stage 1 is still improving — RESULTS §15.4),
# pre-activation probes, K = 128 and 256, and width D = 64 (more steps) — two single-threaded
# lanes, one seed. Compare with full_zoo_rows.sh's K = 64 row of the same seed (or pass
# BASE=1 to run it here too). Finished runs are reused.
# Usage: [BASE=1] benchmarks/scripts/aim_sweeps.sh [DATASET] [MIN] [SEED] [RUNS]
set -euo pipefail
DS=${1:-mnist}; MIN=${2:-20}; SEED=${3:-0}
H=${DNG_HOME:-$HOME/.cache/dng}
RUNS=${4:-$H/runs/aim-sweeps}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export OMP_NUM_THREADS=1
T="python $HERE/probes_table.py --out $RUNS --minutes $MIN --seed $SEED --zoo $DS=$H/zoos/$DS-full"
(
  [ "${BASE:-0}" = 1 ] && $T --jobs "$DS:inr2jls:64"
  $T --stage1-share 0.75 --jobs "$DS:inr2jls:64"
  $T --jobs "$DS:inr2jls:64:pre"
) &
(  # three runs here, two (three with BASE=1) in the other lane
  $T --jobs "$DS:inr2jls:128"
  $T --set emb_dim=64 --jobs "$DS:inr2jls:64"
  $T --jobs "$DS:inr2jls:256"
) &
wait
$T --table --json "$HERE/results/cpu_table.json"
