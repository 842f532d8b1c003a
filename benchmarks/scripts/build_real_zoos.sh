#!/usr/bin/env bash
# Build the MNIST, Fashion-MNIST and CIFAR-10 zoos (no extra copies), one after the other.
# Usage: benchmarks/scripts/build_real_zoos.sh DATA_DIR [ZOO_ROOT]
# Resumable: rerun after a kill and only missing shards are fitted.
set -euo pipefail
DATA=${1:?data dir}
ROOT=${2:-zoos}
for ds in mnist fashion-mnist cifar10; do
  /usr/bin/time -f "$ds wall %e s, max RSS %M KiB" \
    dng fit --dataset "$ds" --data-dir "$DATA" --out "$ROOT/$ds" 2> >(tail -n 3 >&2)
  dng zoo-info "$ROOT/$ds"
done
