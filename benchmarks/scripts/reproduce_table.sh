#!/usr/bin/env bash
# The paper's comparison on this machine: every method, 20 min per model per dataset, one job
# at a time. Usage: benchmarks/scripts/reproduce_table.sh DATA_DIR [OUT] [MINUTES] [DATASETS]
set -euo pipefail
DATA=${1:?data dir}
OUT=${2:-results}
MIN=${3:-20}
DS=${4:-mnist,fashion-mnist,cifar10}
dng reproduce --data-dir "$DATA" --datasets "$DS" --budget-minutes "$MIN" --out "$OUT" \
  --zoo-root zoos
