#!/usr/bin/env bash
# Run on a lent GPU machine, from the repository root, as ONE device call (it has no network:
# it uses the machine's own torch/jax CUDA builds, so the project's pins do not apply there).
#   device run:  bash tools/gpu-check.sh   (timeout_s ~540, leaves time to rerun once)
# The repository's copy of ../shared/tools/gpu-check.sh, extended with gc.distribute on CUDA:
# MirroredStrategy over every GPU and MultiWorkerMirroredStrategy's workers on NCCL (one per GPU).
# Writes $OUT/gpu-check.log (or ./gpu-check.log). Each step is bounded; a failing step does not stop the rest.
set -u
log=${OUT:-.}/gpu-check.log
exec > >(tee "$log") 2>&1
step() { echo; echo "== $1"; shift; timeout "${STEP_S:-150}" "$@"; echo "-> exit $?"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, jax; print('torch', torch.__version__, torch.cuda.is_available(), '| jax', jax.__version__, jax.devices())"
step "install gradcore (no deps, offline)" python3 -m pip install -q --no-deps --no-build-isolation --no-index .
step "gradcore info" python3 -m gradcore.cli info
for b in torch jax; do
  STEP_S=200 step "conformance on $b, every test inside gc.device('cuda:0')" \
    python3 -m gradcore.cli conformance --backend $b --device cuda:0 --report "${OUT:-.}/conformance-$b-cuda.md" -- -x
done
step "demo on torch cuda" env GRADCORE_BACKEND=torch python3 -c "
import gradcore as gc
with gc.device('cuda:0'):
    x = gc.constant([1.0, 2.0]); print(x.device)"
for b in torch jax; do
  STEP_S=240 step "gc.distribute on $b cuda: MirroredStrategy over the GPUs, workers on NCCL" \
    env GRADCORE_BACKEND=$b python3 -m pytest -q -p no:cacheprovider -rs \
    tests/conformance/test_distribute.py tests/unit/test_distributed_training.py -k cuda
done
[[ -f benchmarks/bench_autodiff.py ]] && python3 benchmarks/bench_autodiff.py --help 2>/dev/null | grep -q -- "--device" && \
  STEP_S=120 step "benchmark on cuda" python3 benchmarks/bench_autodiff.py --device cuda:0 --quick
echo; echo "done: $log"
