#!/usr/bin/env bash
# Session 6's measurements (RESULTS §11), one lane each (OMP_NUM_THREADS=1):
#   lane inr : PSNR regression and MNIST dilation editing on an MNIST zoo (nfn recipe)
#   lane cnnA/cnnB : the generalization table on the CIFAR10-GS CNN zoo built here
# Usage: benchmarks/scripts/session6_tables.sh LANE [MINUTES]
set -euo pipefail
LANE=${1:?lane}; MIN=${2:-8}
H=${DNG_HOME:-$HOME/.cache/dng}
export OMP_NUM_THREADS=1
cd "$(dirname "$0")/.."
case "$LANE" in
  inr)
    python gen_table.py --zoo "$H/zoos/mnist-2k" --set target=psnr \
      --jobs dng-encoder:0,statnn:0,mlp:0 --minutes "$MIN" --out "$H/runs/psnr-mnist-2k"
    python gen_table.py --task edit --set style=dilate --zoo "$H/zoos/mnist-2k" \
      --jobs inr-editor:0,inr2jls:0,nfn-editor:0,mlp-image:0 --minutes "$MIN" \
      --out "$H/runs/edit-dilate-mnist-2k" ;;
  cnnA)
    python gen_table.py --zoo "$H/zoos/cnn-cifar10-gs-500" --set eval_every=50 --set fourier_scale=1 \
      --jobs "dng-encoder:0:emb_dim=64+att_dim=16+fourier_dim=32,dng-encoder:1:emb_dim=64+att_dim=16+fourier_dim=32,dng-encoder:0" \
      --minutes "$MIN" --out "$H/runs/gen-cifar10-gs-500" ;;
  cnnB)
    python gen_table.py --zoo "$H/zoos/cnn-cifar10-gs-500" --set eval_every=50 --set fourier_scale=1 \
      --jobs statnn:0,ng-gnn-lite:0,mlp:0,ng-gnn-lite:1 --minutes "$MIN" \
      --out "$H/runs/gen-cifar10-gs-500" ;;
esac
