#!/usr/bin/env bash
# Builds swerm with the `cuda` feature on a machine with no GPU and no system CUDA, for the
# H100/H200 machine (sm_90a, driver 580 = CUDA 13.0), and packs the stripped binary for the
# device tool (which carries at most 64 MiB):
#
#   scripts/build-cuda.sh [--flash-attn] [WORKDIR]     # default WORKDIR: ~/.cache/swerm-cuda
#   -> target-cuda/release/swerm, .gpubin/swerm.xz
#
# --flash-attn also builds FlashAttention-2 (crates/swerm-flash-attn: bf16, head dim 128, causal;
# about 12 more minutes on 2 cores, then cached in WORKDIR/flash-attn), with the CUTLASS 3.5.0
# headers from the candle-flash-attn 0.9.1 crate (fetched from crates.io, no git).
#
# The recipe (../shared/spec/cuda-build.md, approach B), from scratch:
#   1. nvcc 13.0 and headers from NVIDIA's PyPI wheels in a virtualenv. Pinned to 13.0.x: candle's
#      kernels ship as PTX, and driver 580 cannot JIT the PTX ISA of a newer nvcc.
#   2. `libcudart.so` for the linker as a GNU ld script pointing at the static cudart.
#   3. cudarc 0.19.10 (what candle 0.11.1 uses) copied into WORKDIR with a one-line build.rs
#      change: candle forces `dynamic-linking`; we turn it into `dynamic-loading` (dlopen at run
#      time), so the binary starts without any CUDA library and CPU runs keep working. It is
#      applied with `--config patch...` on the command line: the CPU build never sees it, and
#      cudarc's sources are never committed.
#   4. cargo build --release --features cuda with CUDA_COMPUTE_CAP=90 and thin LTO, into
#      target-cuda/ so the CPU target/ keeps its fingerprints. A cold build takes ~10-17 min on 2
#      cores.
set -euo pipefail
FEATURES=cuda
if [ "${1:-}" = --flash-attn ]; then FEATURES=cuda,flash-attn; shift; fi
W=${1:-$HOME/.cache/swerm-cuda}
P=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$W"

if [ ! -x "$W/venv/bin/python" ]; then python3 -m venv "$W/venv"; fi
"$W/venv/bin/pip" install -q \
  nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88 \
  nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85
C=$("$W/venv/bin/python" -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13"))')
"$C/bin/nvcc" --version | tail -1

mkdir -p "$W/cudalink/lib64"
printf 'INPUT(%s/lib/libcudart_static.a)\n' "$C" > "$W/cudalink/lib64/libcudart.so"

if [ ! -f "$W/vendor/cudarc/.swerm-patched" ]; then
  (cd "$P" && cargo fetch -q)
  SRC=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.10 | head -1)
  rm -rf "$W/vendor/cudarc" && mkdir -p "$W/vendor" && cp -r "$SRC" "$W/vendor/cudarc"
  python3 - "$W/vendor/cudarc/build.rs" <<'EOF'
import sys
p = sys.argv[1]; s = open(p).read()
old = '    #[cfg(feature = "dynamic-linking")]\n    dynamic_linking(major, minor);\n'
new = ('    // swerm build-cuda.sh: load the CUDA libraries with dlopen instead of linking them\n'
       '    #[cfg(feature = "dynamic-linking")]\n'
       '    println!("cargo:rustc-cfg=feature=\\"dynamic-loading\\"");\n')
assert old in s, "cudarc build.rs changed; patch by hand"
open(p, "w").write(s.replace(old, new))
EOF
  touch "$W/vendor/cudarc/.swerm-patched"
fi

if [ "$FEATURES" = cuda,flash-attn ]; then
  # The CUTLASS headers FlashAttention 2 pins, from a crate that ships them (nothing is built
  # from that crate: a throw-away manifest only fetches it).
  mkdir -p "$W/cutlass-fetch/src"
  printf '[package]\nname = "cutlass-fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\ncandle-flash-attn = "=0.9.1"\n' \
    > "$W/cutlass-fetch/Cargo.toml"
  echo 'fn main() {}' > "$W/cutlass-fetch/src/main.rs"
  (cd "$W/cutlass-fetch" && cargo fetch -q)
  SWERM_CUTLASS_DIR=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/candle-flash-attn-0.9.1/cutlass | head -1)
  export SWERM_CUTLASS_DIR SWERM_FLASH_ATTN_BUILD_DIR="$W/flash-attn"
  mkdir -p "$SWERM_FLASH_ATTN_BUILD_DIR"
fi

export PATH="$C/bin:$PATH"
export CUDA_COMPUTE_CAP=90 CUDARC_CUDA_VERSION=13000 CUDAFORGE_THREADS=${CUDAFORGE_THREADS:-2}
export RUSTFLAGS="-L native=$W/cudalink/lib64"
# Thin LTO for this binary only (the CPU build keeps the committed profile): candle-kernels links
# libmoe.a (GGUF-quantized MoE kernels swerm never calls) whole into a plain build, because
# candle-core's quantized CUDA code refers to it and each pulled object's fatbin is kept alive by
# its CUDA registration constructor. With LTO that unreachable code is dropped before the link:
# .nv_fatbin 33.9 MB -> 0.47 MB (FlashAttention's), the stripped binary 67 -> 32 MB, swerm.xz
# 10.4 -> 6.5 MB, and the tree that travels back under 60 MiB (measured 2026-12-03).
export CARGO_PROFILE_RELEASE_LTO=thin
cd "$P"
# The patch would rewrite Cargo.lock (cudarc from a path): keep the committed lockfile intact.
cp Cargo.lock "$W/Cargo.lock.orig"
trap 'cp "$W/Cargo.lock.orig" "$P/Cargo.lock"' EXIT
time cargo build --release --features "$FEATURES" --target-dir target-cuda \
  --config "patch.crates-io.cudarc.path=\"$W/vendor/cudarc\""
mkdir -p .gpubin
strip -o .gpubin/swerm target-cuda/release/swerm
rm -f .gpubin/swerm.xz && xz -9e -T2 .gpubin/swerm  # -9e: a smaller carry (about 6.5 MB)
ls -la target-cuda/release/swerm .gpubin/swerm.xz
echo "carry .gpubin to the device; there: xz -dk .gpubin/swerm.xz && LD_LIBRARY_PATH=<cu13 libs> .gpubin/swerm ..."
