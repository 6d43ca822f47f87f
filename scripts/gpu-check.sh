#!/usr/bin/env bash
# The GPU check, one command on the H100/H200 machine (cargo is not there). Here, first:
#
#   scripts/build-cuda.sh --flash-attn        # -> .gpubin/swerm.xz (about 6.5 MB)
#   scripts/gpubin-size.sh                    # what travels: under 12 MiB / 60 MiB
#
# then through the device tool, in one call (the 10-minute command limit; aim: 5-6 minutes):
#
#   run(command="scripts/gpu-check.sh", carry=[".gpubin"], timeout_s=540)
#
# It fits the device tool's limits by construction:
#   - the binary, the parity stores and every log live under $WORK (default /tmp/gpu-check-work);
#     $OUT ends with at most 8 small plain files: gpu-check.md, device.txt, selftest.txt,
#     parity.txt, bench.txt, bench.json, fit-256k.txt;
#   - an overall deadline, GPU_CHECK_DEADLINE_S (default 420 s), after which the remaining steps
#     are skipped and listed as skipped; each step's own limit is cut to what is left;
#   - gpu-check.md is rewritten after every step (a table of what ran, how long, its result), so
#     a run killed at the command limit still reports;
#   - CUDA_CACHE_PATH/CUDA_CACHE_MAXSIZE keep the JIT-compiled PTX of candle's kernels for every
#     later process (compiled once, not once per process);
#   - when `swerm selftest` cannot open the device it stops there and says why.
#
# Steps (scripts/gpu_check.py): (0) selftest: every CUDA kernel against its CPU implementation;
# (a) parity on the tiny fixtures against transformers' f32 references (f32 within 1e-4, bf16
# within fixtures/tiny/bf16-tolerance.json); (b) swerm bench --profile on the Qwen3-30B-A3B
# shape at 8k and 32k (PASSES timed passes) and 128k (one timed pass), with transformers on the
# same card at HF_CONTEXTS (default 8k and 32k), streamed into bench.json context by context;
# (c) one 262,144-token pass (the 256k fit).
#
# Knobs: GPU_CHECK_DEADLINE_S, LAYERS (48), PASSES (2), CONTEXTS (8192,32768,131072),
# HF_CONTEXTS (8192,32768), SKIP_HF=1, SKIP_256K=1, SWERM_NO_FLASH_ATTN=1 (the fallback
# attention). Anywhere, as a check of the script itself (no GPU: the device steps fail fast and
# the CPU steps run):
#   OUT=/tmp/x SWERM=target/release/swerm PARITY_DEVICE=cpu GPU_CHECK_DEADLINE_S=90 scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export OUT=${OUT:-/tmp/gpu-check} WORK=${WORK:-/tmp/gpu-check-work}
mkdir -p "$OUT" "$WORK"
export PYTHONUNBUFFERED=1
export CUDA_CACHE_PATH=${CUDA_CACHE_PATH:-$WORK/cuda-cache} CUDA_CACHE_MAXSIZE=${CUDA_CACHE_MAXSIZE:-4294967296}
PY=python3

S=${SWERM:-$WORK/swerm}
if [ -z "${SWERM:-}" ]; then
  [ -f .gpubin/swerm.xz ] || { echo "no .gpubin/swerm.xz: run scripts/build-cuda.sh here" | tee "$OUT/gpu-check.md"; exit 2; }
  if command -v xz > /dev/null; then
    xz -dc .gpubin/swerm.xz > "$S"
  else  # xz is optional: Python's lzma reads the same file
    $PY -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' .gpubin/swerm.xz "$S"
  fi || { echo "cannot unpack .gpubin/swerm.xz" | tee "$OUT/gpu-check.md"; exit 2; }
  chmod +x "$S"
fi
export SWERM_BIN=$S
# cuBLAS / cuRAND 13 for the dlopen'ed CUDA libraries: from the image's Python wheels or CUDA.
for d in $($PY -c 'import nvidia, os; [print(os.path.join(p, "cu13", "lib")) for p in nvidia.__path__]' 2>/dev/null) \
         /usr/local/cuda/lib64 /usr/local/nvidia/lib64; do
  [ -d "$d" ] && LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
done
export LD_LIBRARY_PATH
exec $PY scripts/gpu_check.py
