#!/usr/bin/env bash
# The GPU check, one command on the H100/H200 machine (cargo is not there). Here, first:
#
#   scripts/build-cuda.sh --flash-attn        # -> .gpubin/swerm.xz (about 10 MB)
#
# then through the device tool, in one call of at most 10 minutes:
#
#   run(command="scripts/gpu-check.sh", carry=[".gpubin"])
#
# It runs, writing everything under $OUT (default /tmp/gpu-check) as it goes:
#   (0) `swerm selftest`: every CUDA kernel (MoE top-k, permutation, combine, SiLU·up, the
#       fallback attention, FlashAttention-2) against its CPU implementation;
#   (a) parity on the tiny fixtures: swerm on CUDA against transformers' f32 references
#       (fixtures/tiny/expected.jsonl): f32 within 1e-4, bf16 within fixtures/tiny/bf16-tolerance.json;
#   (b) `swerm bench --synthetic qwen3-30b-a3b` at 8k / 32k / 128k (with --profile), and a 256k fit;
#   (c) transformers on the same card, same shape, random weights, token counts and dtype, with its
#       fastest attention there (scripts/bench_gpu.py);
#   (d) $OUT/gpu-check.md: tokens/s, ratio to transformers, fraction of the 790 TFLOP/s ceiling,
#       peak memory, and the profile line per context.
# Knobs: LAYERS (default 48, all), PASSES (2), CONTEXTS (8192,32768,131072), SKIP_HF=1,
# SKIP_256K=1, SWERM_NO_FLASH_ATTN=1 (measure the fallback attention instead); SWERM=path and
# PARITY_DEVICE=cpu check the script itself on a machine without a GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
LAYERS=${LAYERS:-48} PASSES=${PASSES:-2} CONTEXTS=${CONTEXTS:-8192,32768,131072}
PARITY_DEVICE=${PARITY_DEVICE:-cuda:0}  # cpu: a check of this script itself, anywhere
log() { echo "== $* ($(date +%T))" | tee -a "$OUT/steps.log"; }

S=${SWERM:-$OUT/swerm}
if [ -z "${SWERM:-}" ]; then
  xz -dc .gpubin/swerm.xz > "$S" && chmod +x "$S" || { echo "no .gpubin/swerm.xz: run scripts/build-cuda.sh here"; exit 2; }
fi
PY=python3
# cuBLAS / cuRAND 13 for the dlopen'ed CUDA libraries: from the image's Python wheels or CUDA.
for d in $($PY -c 'import nvidia, os; [print(os.path.join(p, "cu13", "lib")) for p in nvidia.__path__]' 2>/dev/null) \
         /usr/local/cuda/lib64 /usr/local/nvidia/lib64; do
  [ -d "$d" ] && LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"
done
export LD_LIBRARY_PATH
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee "$OUT/device.txt"
FAIL=0

log "(0) selftest: CUDA kernels vs CPU"
timeout 120 "$S" selftest --device cuda:0 2>&1 | tee "$OUT/selftest.txt" || FAIL=1

log "(a) parity on fixtures/tiny: CUDA f32 and bf16 vs transformers f32"
for arch in qwen3-moe qwen3 qwen2 qwen3-moe-h32; do
  for preset in swegym r2egym; do
    for dt in f32 bf16; do
      timeout 120 "$S" score fixtures/tiny/trajectories.jsonl --model "fixtures/tiny/$arch" --preset "$preset" \
        --device "$PARITY_DEVICE" --dtype "$dt" -q --overwrite -o "$OUT/parity/$arch-$preset-$dt" > /dev/null || FAIL=1
    done
  done
done
$PY - "$OUT" <<'EOF' || FAIL=1
import json, sys
out = sys.argv[1]
exp = [json.loads(l) for l in open("fixtures/tiny/expected.jsonl")]
tol = json.load(open("fixtures/tiny/bf16-tolerance.json"))
bad, lines = 0, []
for arch in ["qwen3-moe", "qwen3", "qwen2", "qwen3-moe-h32"]:
    for dt in ["f32", "bf16"]:
        dz = dp = 0.0
        for preset in ["swegym", "r2egym"]:
            got = {(r["instance_id"], r["run"]): r for r in map(json.loads, open(f"{out}/parity/{arch}-{preset}-{dt}/scores.jsonl"))}
            for w in (w for w in exp if w["arch"] == arch and w["preset"] == preset):
                g = got[(w["instance_id"], w["run"])]
                dz = max(dz, abs((g["logit_yes"] - g["logit_no"]) - (w["logit_yes"] - w["logit_no"])))
                dp = max(dp, abs(g["score"] - w["p_yes"]))
                if dt == "f32":
                    dz = max(dz, abs(g["logit_yes"] - w["logit_yes"]), abs(g["logit_no"] - w["logit_no"]))
        tz, tp = (1e-4, 1e-4) if dt == "f32" else (tol[arch]["logit_diff_tolerance"], tol[arch]["p_yes_tolerance"])
        ok = dz <= tz and dp <= tp
        bad += not ok
        lines.append(f"{'ok  ' if ok else 'FAIL'} {arch:<14} {dt:<5} max |d logit| {dz:.2e} (tol {tz:.2e})  max |d P(YES)| {dp:.2e} (tol {tp:.2e})")
open(f"{out}/parity.txt", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(1 if bad else 0)
EOF

log "(b, c) swerm bench and transformers: qwen3-30b-a3b, $LAYERS layers, contexts $CONTEXTS"
HF=(); [ "${SKIP_HF:-0}" = 1 ] && HF=(--no-transformers)
timeout 420 $PY scripts/bench_gpu.py --swerm "$S" --shape qwen3-30b-a3b --context "$CONTEXTS" --batch-tokens 32768 \
  --passes "$PASSES" --layers "$LAYERS" --device cuda --profile --json "$OUT/bench.json" "${HF[@]}" 2>&1 | tee "$OUT/bench.txt" || FAIL=1

if [ "${SKIP_256K:-0}" != 1 ]; then
  log "(b) 256k fit: one 262144-token trajectory"
  timeout 240 "$S" bench --synthetic qwen3-30b-a3b --context 262144 --batch-tokens 262144 --passes 1 --layers "$LAYERS" \
    --device cuda:0 2>&1 | tee "$OUT/fit-256k.txt" || FAIL=1
fi

log "(d) table"
$PY - "$OUT" "$LAYERS" <<'EOF'
import json, os, sys
out, layers = sys.argv[1], sys.argv[2]
dev = open(f"{out}/device.txt").read().strip()
b = json.load(open(f"{out}/bench.json")) if os.path.exists(f"{out}/bench.json") else {"swerm": {}, "transformers": {}}
flash = "fallback attention (SWERM_NO_FLASH_ATTN)" if os.environ.get("SWERM_NO_FLASH_ATTN") else "FlashAttention-2 when built"
rows = [f"# swerm GPU check\n\n{dev}; qwen3-30b-a3b shape, {layers} layers, bf16, random weights; {flash}\n",
        "| context | swerm tokens/s | transformers tokens/s | ratio | of 790 TFLOP/s | peak memory (pool) | profile |",
        "|---:|---:|---:|---:|---:|---:|---|"]
for l, s in sorted(b["swerm"].items(), key=lambda kv: int(kv[0])):
    h = b["transformers"].get(l)
    ratio = f"{s['tokens_per_s'] / h['tokens_per_s']:.2f}x" if h else "n/a"
    mem = f"{s['peak_mem_gib']:.1f} GiB" if s.get("peak_mem_gib") is not None else "n/a"
    rows.append(f"| {l} | {s['tokens_per_s']:.0f} | {h['tokens_per_s']:.0f} | {ratio} | {100 * s['of_ceiling']:.1f}% | {mem} | {s.get('profile', '')} |"
                if h else f"| {l} | {s['tokens_per_s']:.0f} | n/a | n/a | {100 * s['of_ceiling']:.1f}% | {mem} | {s.get('profile', '')} |")
for name in ["selftest.txt", "parity.txt", "fit-256k.txt"]:
    p = f"{out}/{name}"
    if os.path.exists(p):
        rows.append(f"\n## {name}\n\n```\n{open(p).read().strip()}\n```")
open(f"{out}/gpu-check.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
EOF
log "done (failures: $FAIL)"
exit $FAIL
