#!/usr/bin/env bash
# Issue 24's whole table, one command: the three full-size zoos, the CIFAR-10 20-minute rows
# (every model), the 60-minute rows of the best dynamic and best static model (2 seeds), and the
# full-zoo MNIST / Fashion-MNIST rows (INR2JLS K = 0 and 64, 2 seeds, 20 min). Each step is
# resumable and reuses what has finished; ~12 h on 2 idle cores (zoos ~4 h, rows ~8 h).
# Usage: benchmarks/scripts/issue24_all.sh DATA_DIR
set -euo pipefail
DATA=${1:?data dir}
S=$(cd "$(dirname "$0")" && pwd)
"$S/build_full_zoos.sh" "$DATA" 2 "cifar10 mnist fashion-mnist"
"$S/cifar10_table.sh" 20 0
"$S/cifar10_long_rows.sh" 60
"$S/full_zoo_rows.sh" 20 "mnist fashion-mnist"
