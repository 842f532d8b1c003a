#!/usr/bin/env bash
# One GPU run (≤ 9 min of wall time): the paper's MNIST pipeline on one GPU, everything it
# produces under $OUT (at most 8 files, each < 16 MiB: gpu_paper.json, the runs' configs,
# bf16 last.pt checkpoints that `dng train --resume` continues, metrics.json).
#
#   benchmarks/gpu_paper.sh [DATA_DIR] [MINUTES] [COPIES] [COMPILE]
#
# The device machine has CUDA torch but maybe not this package's pure-Python dependencies:
# prepare them here once with
#   pip install --no-deps --target .gpu_deps omegaconf antlr4-python3-runtime==4.9.3 \
#     nfn==0.1.2 einops torch_geometric==2.7.0 requests urllib3 idna certifi \
#     charset_normalizer psutil xxhash tqdm
# (--no-deps: no torch, the machine's CUDA build stays first; what torch_geometric imports
# beyond torch's own dependencies is listed; a baseline whose import fails is skipped) and pass
# `.gpu_deps` in the run's carry list. Rehearse on the CPU:
#   OUT=/tmp/g python benchmarks/gpu_paper.py --dataset digits --out /tmp/g --tiny --device cpu
# Other GPU runs, one call each, same dependencies: benchmarks/gpu_cnn.sh (Small CNN Zoo
# generalization table, issue 21), benchmarks/gpu_any_arch.sh (heterogeneous CNNs and ViTs,
# issue 23).
set -euo pipefail
DATA=${1:-shared/data}; MIN=${2:-9}; COPIES=${3:-2}; COMPILE=${4:-none}
OUT=${OUT:?set OUT}
source "$(dirname "$0")/gpu_env.sh"
nvidia-smi -L > "$OUT/log.txt" 2>&1 || true
python3 benchmarks/gpu_paper.py --data-dir "$DATA" --out "$OUT" --minutes "$MIN" \
  --copies "$COPIES" --compile "$COMPILE" --device cuda >> "$OUT/log.txt" 2>&1
