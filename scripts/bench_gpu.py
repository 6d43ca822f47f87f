#!/usr/bin/env python3
"""Side by side on one card: `swerm bench --synthetic SHAPE` and HF transformers on a model of
the same shape with random weights, same context lengths and tokens per pass, bf16, with the
fastest attention implementation transformers has there (flash_attention_2 when the flash-attn
package is installed, else sdpa). Prints both tables and the ratio.

On the GPU machine (torch + transformers are in its image; swerm comes from scripts/build-cuda.sh):
    xz -dk .gpubin/swerm.xz
    LD_LIBRARY_PATH=<cu13 libs> python3 scripts/bench_gpu.py --swerm .gpubin/swerm \
        --shape qwen3-30b-a3b --context 8192,32768,131072 --device cuda

Anywhere, as a check of the script itself:
    python3 scripts/bench_gpu.py --shape tiny-moe --context 256,1024 --device cpu

The weights are random on both sides (the values do not change the work); the shapes, the
token counts per pass and the dtype are the same. transformers is timed on a [n, L] batch with
logits only at the last position (`logits_to_keep=1`).
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

SHAPES = {
    "qwen3-30b-a3b": dict(vocab_size=151936, hidden_size=2048, intermediate_size=6144, num_hidden_layers=48,
                          num_attention_heads=32, num_key_value_heads=4, head_dim=128, rms_norm_eps=1e-6, rope_theta=1e6,
                          num_experts=128, num_experts_per_tok=8, moe_intermediate_size=768, norm_topk_prob=True,
                          decoder_sparse_step=1, mlp_only_layers=[], tie_word_embeddings=False, max_position_embeddings=262144),
    "tiny-moe": dict(vocab_size=1024, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, head_dim=16, num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32,
                     norm_topk_prob=True, tie_word_embeddings=False, max_position_embeddings=262144),
}


def flops_per_token(c, l):
    h, q, kv = c["hidden_size"], c["num_attention_heads"] * c["head_dim"], c["num_key_value_heads"] * c["head_dim"]
    per_layer = h * q + 2 * h * kv + q * h + h * c["num_experts"] + c["num_experts_per_tok"] * 3 * h * c["moe_intermediate_size"]
    return 2 * c["num_hidden_layers"] * per_layer + 2 * c["num_hidden_layers"] * l * q


def run_swerm(a):
    dev = "cuda:0" if a.device == "cuda" else "cpu"
    cmd = [a.swerm, "bench", "--synthetic", a.shape, "--context", a.context, "--batch-tokens", str(a.batch_tokens),
           "--passes", str(a.passes), "--device", dev, "--dtype", "bf16" if a.device == "cuda" else "f32"]
    if a.layers:
        cmd += ["--layers", str(a.layers)]
    if a.profile:
        cmd += ["--profile"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    sys.stderr.write(r.stderr)
    if r.returncode != 0:
        raise SystemExit(f"swerm bench failed ({r.returncode})")
    print(r.stdout)
    rows = {}
    for line in r.stdout.splitlines()[1:]:
        f = line.split()
        if f and f[0].isdigit():
            mem = float(f[6]) if len(f) > 7 and f[7] == "GiB" else None
            rows[int(f[0])] = dict(tokens_per_s=float(f[2]), tflops=float(f[4]), of_ceiling=float(f[5].rstrip("%")) / 100, peak_mem_gib=mem)
        elif line.startswith("profile"):
            rows[int(f[1].rstrip(":"))]["profile"] = line.split(":", 1)[1].strip()
    return rows


def run_hf(a):
    import torch
    import transformers

    c = dict(SHAPES[a.shape])
    if a.layers:
        c["num_hidden_layers"] = a.layers
    dtype = torch.bfloat16 if a.device == "cuda" else torch.float32
    try:
        import flash_attn  # noqa: F401
        attn = "flash_attention_2" if a.device == "cuda" else "sdpa"
    except ImportError:
        attn = "sdpa"
    cfg = transformers.Qwen3MoeConfig(**c)
    torch.set_default_dtype(dtype)
    t0 = time.perf_counter()
    with torch.device(a.device):
        model = transformers.Qwen3MoeForCausalLM._from_config(cfg, attn_implementation=attn, dtype=dtype).eval()
    torch.set_default_dtype(torch.float32)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, attention {attn}, {dtype}; built in {time.perf_counter() - t0:.1f} s")
    gen = torch.Generator(device="cpu").manual_seed(7)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    rows = {}
    print(f"{'context':>8} {'seqs':>6} {'tokens/s':>11} {'s/traj':>10} {'TFLOP/s':>9} {'of ceiling':>12} {'peak mem':>10}")
    for l in [int(x) for x in a.context.split(",")]:
        n = max(1, a.batch_tokens // l)
        ids = torch.randint(0, c["vocab_size"], (n, l), generator=gen).to(a.device)
        try:
            with torch.inference_mode():
                model(ids, logits_to_keep=1)
                sync()
                t = time.perf_counter()
                for _ in range(a.passes):
                    model(ids, logits_to_keep=1).logits.float().cpu()
                sync()
                secs = time.perf_counter() - t
        except torch.OutOfMemoryError:
            print(f"{l:>8} {n:>6}   out of memory")
            torch.cuda.empty_cache()
            continue
        tps = a.passes * n * l / secs
        tf = tps * flops_per_token(c, l) / 1e12
        mem = torch.cuda.max_memory_allocated() / 2**30 if a.device == "cuda" else float("nan")
        print(f"{l:>8} {n:>6} {tps:>11.0f} {secs / (a.passes * n):>10.3f} {tf:>9.2f} {100 * tf / a.peak_tflops:>11.1f}% {mem:>6.1f} GiB")
        rows[l] = dict(tokens_per_s=tps, tflops=tf, of_ceiling=tf / a.peak_tflops, peak_mem_gib=mem)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--swerm", default=os.path.join(HERE, "..", "target", "release", "swerm"))
    ap.add_argument("--shape", default="qwen3-30b-a3b", choices=sorted(SHAPES))
    ap.add_argument("--context", default="8192,32768,131072")
    ap.add_argument("--batch-tokens", type=int, default=32768)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--peak-tflops", type=float, default=790.0)
    ap.add_argument("--profile", action="store_true", help="pass --profile to swerm bench")
    ap.add_argument("--no-transformers", action="store_true")
    ap.add_argument("--json", help="also write both tables to this file")
    a = ap.parse_args()
    print("== swerm ==", flush=True)
    s = run_swerm(a)
    h = {}
    if not a.no_transformers:
        print("== transformers ==", flush=True)
        h = run_hf(a)
        print("== ratio (swerm / transformers tokens/s) ==")
        for l in s:
            print(f"{l:>8}: " + (f"{s[l]['tokens_per_s'] / h[l]['tokens_per_s']:.2f}x" if l in h else "transformers did not run"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"swerm": s, "transformers": h}, f, indent=1)


if __name__ == "__main__":
    main()
