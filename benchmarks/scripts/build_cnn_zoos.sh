#!/usr/bin/env bash
# Issue 21: the CNN zoos of the generalization table, built here (not Unterthiner's zoo).
# Small-CNN-Zoo networks (3 conv 3x3 s2, 16 channels, GAP, dense → 10), hyper-parameters drawn
# per network, checkpoints at epochs 0,1,2,4,8 of 150 steps (batch 32) each.
# Usage: benchmarks/scripts/build_cnn_zoos.sh DATA_DIR [COUNT] [DATASETS]
# Resumable: rerun after a kill and only the missing units are trained.
set -euo pipefail
DATA=${1:?data dir}
COUNT=${2:-500}
SETS=${3:-cifar10-gs mnist}
HOME_DIR=${DNG_HOME:-$HOME/.cache/dng}
for ds in $SETS; do
  out="$HOME_DIR/zoos/cnn-$ds-$COUNT"
  echo "== $ds → $out ($(date -u +%FT%TZ))"
  OMP_NUM_THREADS=1 /usr/bin/time -f "$ds wall %e s, max RSS %M KiB" \
    dng zoo fit --kind cnn --dataset "$ds" --data-dir "$DATA" --out "$out" --count "$COUNT" \
      --epochs 0,1,2,4,8 --steps-per-epoch 150 --unit 50 --test-size 2000
done
