# Sourced by the GPU scripts (benchmarks/gpu_*.sh): this checkout's package first, the pure-Python
# dependencies prepared in .gpu_deps (see gpu_paper.sh) after the machine's CUDA torch.
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
[ -d .gpu_deps ] && export PYTHONPATH=$PYTHONPATH:$PWD/.gpu_deps
export PYTHONUNBUFFERED=1
