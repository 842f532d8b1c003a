#!/usr/bin/env bash
# Issue 24's whole table, one command: the three full-size zoos, the CIFAR-10 20-minute rows
# (every model), the 60-minute rows of the best dynamic and best static model (2 seeds), and the
# full-zoo MNIST / Fashion-MNIST rows (INR2JLS K = 0 and 64, 2 seeds, 20 min), the aim sweeps
# and the second seed of their winner (K = 256, RESULTS §16.2). Each step is resumable and
# reuses what has finished; ~15 h on 2 idle cores (zoos ~4 h, rows and sweeps ~11 h).
# Usage: benchmarks/scripts/issue24_all.sh DATA_DIR
set -euo pipefail
DATA=${1:?data dir}
S=$(cd "$(dirname "$0")" && pwd)
"$S/build_full_zoos.sh" "$DATA" 2 "cifar10 mnist fashion-mnist"
"$S/cifar10_table.sh" 20 0
"$S/cifar10_long_rows.sh" 60
"$S/full_zoo_rows.sh" 20 "mnist fashion-mnist"
"$S/aim_sweeps.sh" fashion-mnist 20 0
"$S/aim_sweeps.sh" mnist 20 0
H=${DNG_HOME:-$HOME/.cache/dng}; export OMP_NUM_THREADS=1  # one core per model
T="python $S/../probes_table.py --out $H/runs/aim-sweeps --minutes 20"
$T --seed 1 --zoo "mnist=$H/zoos/mnist-full" --jobs mnist:inr2jls:256 &
$T --seed 1 --zoo "fashion-mnist=$H/zoos/fashion-mnist-full" --jobs fashion-mnist:inr2jls:256 &
wait
$T --seed 0 --zoo "cifar10=$H/zoos/cifar10-full" --jobs cifar10:inr2jls:256
$T --table --json "$S/../results/cpu_table.json"  # (each job.json names its zoo)
