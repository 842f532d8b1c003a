#!/usr/bin/env bash
# Session 6: the other MNIST editing styles (RESULTS §11.5), one lane per style.
# Usage: benchmarks/scripts/session6_edits.sh STYLE [MINUTES]
set -euo pipefail
STYLE=${1:?style}; MIN=${2:-3}
H=${DNG_HOME:-$HOME/.cache/dng}
export OMP_NUM_THREADS=1
cd "$(dirname "$0")/.."
python gen_table.py --task edit --set style="$STYLE" --zoo "$H/zoos/mnist-2k" \
  --jobs inr-editor:0,inr2jls:0,nfn-editor:0,mlp-image:0 --minutes "$MIN" \
  --out "$H/runs/edit-$STYLE-mnist-2k"
