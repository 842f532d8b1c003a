#!/usr/bin/env bash
# Issue 23's tables on zoos built here: heterogeneous CIFAR-10 CNNs (the Wild Park sampler's
# ranges) and small ViTs (the paper's generator), then Kendall τ for DNG (2 seeds) vs StatNN vs
# ng-gnn-lite at equal CPU budget. One chain per zoo, each on one core (run `park` and `vit`
# side by side to use two): zoo fit, then DNG seeds 0 and 1, then the static baselines — each
# model MINUTES of wall clock on one core.
# Usage: benchmarks/scripts/any_arch_tables.sh DATA_DIR park|vit [COUNT] [MINUTES]
# Cost measured on the 2-core machine (2026-12-02, both chains side by side): a park unit of
# 16 networks × 160 steps ≈ 6 min; a ViT unit of 25 × ≤23 epochs × SPE steps ≈ SPE/2 min.
# Resumable: rerun after a kill (zoo units and finished jobs are kept).
set -euo pipefail
DATA=${1:?data dir}; KIND=${2:?park or vit}; MIN=${4:-10}
H=${DNG_HOME:-$HOME/.cache/dng}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export OMP_NUM_THREADS=1
case "$KIND" in
  park) N=${3:-200}; Z="$H/zoos/park-cifar10-$N"
        /usr/bin/time -f "park zoo wall %e s" dng zoo fit --kind park --dataset cifar10 \
          --data-dir "$DATA" --out "$Z" --count "$N" --epochs 0,1,2,4 --steps-per-epoch 40 \
          --unit 16 --train-size 5000 --test-size 1000
        STATIC="statnn:0,ng-gnn-lite:0" ;;
  vit)  N=${3:-200}; SPE=${VIT_SPE:-20}; Z="$H/zoos/vit-cifar10-$N-spe$SPE"
        /usr/bin/time -f "vit zoo wall %e s" dng zoo fit --kind vit --dataset cifar10 \
          --data-dir "$DATA" --out "$Z" --count "$N" --steps-per-epoch "$SPE" --unit 25 \
          --batch-size 128 --train-size $((SPE * 128)) --test-size 1000
        # the ViT graph has ~18 k edges: ng-gnn-lite at width 64 takes ~10 s a step here
        STATIC="statnn:0,ng-gnn-lite:0:hidden=32" ;;
  *) echo "KIND must be park or vit" >&2; exit 2 ;;
esac
dng zoo info "$Z"
R="$H/runs/gen-$(basename "$Z")"
python "$HERE/gen_table.py" --zoo "$Z" --set eval_every=50 --set fourier_scale=1 \
  --jobs "dng-encoder:0:emb_dim=64+att_dim=16+fourier_dim=32,dng-encoder:1:emb_dim=64+att_dim=16+fourier_dim=32,$STATIC" \
  --minutes "$MIN" --out "$R"
python "$HERE/gen_table.py" --zoo "$Z" --out "$R" --table
