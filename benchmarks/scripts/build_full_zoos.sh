#!/usr/bin/env bash
# Issue 24: the full-size zoos with the paper's recipe (nfn = reference: 300 steps, lr 1e-3,
# constant), kept under $DNG_HOME/zoos so later runs reuse them. CIFAR-10 first (never built),
# then MNIST and Fashion-MNIST. Resumable: rerun after a kill and only missing shards are fitted.
# Usage: benchmarks/scripts/build_full_zoos.sh DATA_DIR [WORKERS] [DATASETS]
#   DATASETS default "cifar10 mnist fashion-mnist"; WORKERS default 1 (leave a core free).
# Splits (the paper's, by index over the training images then the test images): MNIST
# 45 000 / 5 000 / 20 000 (test = training images 50 000–59 999 + the 10 000 test images),
# Fashion-MNIST 55 000 / 5 000 / 10 000, CIFAR-10 45 000 / 5 000 / 10 000.
set -euo pipefail
DATA=${1:?data dir}
WORKERS=${2:-1}
SETS=${3:-cifar10 mnist fashion-mnist}
HOME_DIR=${DNG_HOME:-$HOME/.cache/dng}
for ds in $SETS; do
  out="$HOME_DIR/zoos/$ds-full"
  echo "== $ds → $out ($(date -u +%FT%TZ))"
  /usr/bin/time -f "$ds wall %e s, max RSS %M KiB" \
    dng zoo fit --dataset "$ds" --data-dir "$DATA" --out "$out" --recipe nfn --workers "$WORKERS"
  dng zoo info "$out" --stats
done
