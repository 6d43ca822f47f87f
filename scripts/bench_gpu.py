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
logits only at the last position (`logits_to_keep=1`); which attention and experts
implementation it ran (transformers 5 defaults to grouped-GEMM experts and SDPA) is recorded
beside its rows, so the ratio can be read.

swerm runs once per context (`--long-passes` timed passes from 65,536 tokens on, `--passes`
below), its output streamed; with --json the file is rewritten after every context, so a run
killed by a time limit keeps the rows already measured.
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


def parse_swerm(text):
    """The rows of `swerm bench`'s table (and its profile lines), by context."""
    rows = {}
    for line in text.splitlines():
        f = line.split()
        if f and f[0].isdigit() and len(f) >= 6:
            mem = float(f[6]) if len(f) > 7 and f[7] == "GiB" else None
            frac = None if f[5] == "n/a" else float(f[5].rstrip("%")) / 100  # no ceiling on the CPU
            rows[int(f[0])] = dict(tokens_per_s=float(f[2]), tflops=float(f[4]), of_ceiling=frac,
                                   peak_mem_gib=mem)
        elif line.startswith("profile"):
            rows.setdefault(int(f[1].rstrip(":")), {})["profile"] = line.split(":", 1)[1].strip()
    return rows


def run_swerm(a, save):
    """One `swerm bench` per context, output streamed; `save` after each."""
    dev = "cuda:0" if a.device == "cuda" else "cpu"
    rows = {}
    for l in [int(x) for x in a.context.split(",")]:
        passes = a.long_passes if l >= 65536 and a.long_passes is not None else a.passes
        cmd = [a.swerm, "bench", "--synthetic", a.shape, "--context", str(l), "--batch-tokens", str(a.batch_tokens),
               "--passes", str(passes), "--device", dev, "--dtype", "bf16" if a.device == "cuda" else "f32"]
        if a.layers:
            cmd += ["--layers", str(a.layers)]
        if a.profile:
            cmd += ["--profile"]
        print("$ " + " ".join(cmd), flush=True)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out = []
        for line in p.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            out.append(line)
        if p.wait() != 0:
            print(f"swerm bench at {l} tokens failed (exit {p.returncode})", flush=True)
            rows[l] = dict(error=f"exit {p.returncode}: {''.join(out[-3:]).strip()}")
        else:
            rows.update(parse_swerm("".join(out)))
        save(rows, None, None)
    return rows


def run_hf(a, save):
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
    mc = model.config
    meta = dict(versions=f"transformers {transformers.__version__}, torch {torch.__version__}",
                attention=getattr(mc, "_attn_implementation", attn),
                experts=getattr(mc, "_experts_implementation", None) or getattr(mc, "experts_implementation", None)
                or "eager (this transformers has no experts implementations)")
    print(f"{meta['versions']}, attention {meta['attention']}, experts {meta['experts']}, {dtype}; "
          f"built in {time.perf_counter() - t0:.1f} s", flush=True)
    gen = torch.Generator(device="cpu").manual_seed(7)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    rows = {}
    print(f"{'context':>8} {'seqs':>6} {'tokens/s':>11} {'s/traj':>10} {'TFLOP/s':>9} {'of ceiling':>12} {'peak mem':>10}")
    for l in [int(x) for x in (a.hf_context or a.context).split(",")]:
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
        save(None, rows, meta)
    return rows, meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--swerm", default=os.path.join(HERE, "..", "target", "release", "swerm"))
    ap.add_argument("--shape", default="qwen3-30b-a3b", choices=sorted(SHAPES))
    ap.add_argument("--context", default="8192,32768,131072")
    ap.add_argument("--hf-context", help="contexts for transformers [default: --context]")
    ap.add_argument("--batch-tokens", type=int, default=32768)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--long-passes", type=int, help="swerm's timed passes from 65,536 tokens on [default: --passes]")
    ap.add_argument("--layers", type=int)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--peak-tflops", type=float, default=790.0)
    ap.add_argument("--profile", action="store_true", help="pass --profile to swerm bench")
    ap.add_argument("--no-transformers", action="store_true")
    ap.add_argument("--json", help="write both tables to this file, after every context")
    a = ap.parse_args()
    state = {"swerm": {}, "transformers": {}, "transformers_meta": None}

    def save(s, h, meta):
        if s is not None:
            state["swerm"] = s
        if h is not None:
            state["transformers"] = h
        if meta is not None:
            state["transformers_meta"] = meta
        if a.json:
            tmp = a.json + ".tmp"
            with open(tmp, "w") as f:
                json.dump(state, f, indent=1)
            os.replace(tmp, a.json)

    print("== swerm ==", flush=True)
    s = run_swerm(a, save)
    h = {}
    if not a.no_transformers:
        print("== transformers ==", flush=True)
        try:
            h, _ = run_hf(a, save)
        except ImportError as e:
            print(f"transformers not run: {e}", flush=True)
            save(None, None, {"versions": "not installed", "attention": None, "experts": None})
        print("== ratio (swerm / transformers tokens/s) ==")
        for l in s:
            ok = l in h and "tokens_per_s" in s[l]
            print(f"{l:>8}: " + (f"{s[l]['tokens_per_s'] / h[l]['tokens_per_s']:.2f}x" if ok else "transformers did not run"))
    if any("error" in r for r in s.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
