#!/usr/bin/env python3
"""CPU prefill, side by side: `swerm score` against HF transformers (sdpa, batch 1, logits at the
last position only) on random-weight checkpoints of real shapes, same prompts, same dtype, same
threads, at several prompt lengths.

    cargo build --release
    /path/to/venv/bin/python scripts/bench_prefill.py [--shape qwen3-0.6b,qwen3-moe-1024]
        [--dtype f32,bf16] [--tokens 1024,4096,16384] [--n 4,2,1] [--threads 2]

Needs torch and transformers (see make_tiny_checkpoints.py). The checkpoints are built here, once,
under ~/.cache/swerm/bench-prefill/SHAPE (no download): transformers' own random initialization of
the shape's config, saved in bf16, with the Qwen3 tokenizer of ../shared/models/qwen3-tokenizer (or
fixtures/tiny). Shapes:

  qwen3-0.6b      Qwen3-0.6B's config (dense; 28 layers, hidden 1024, 16/8 heads of 128)
  qwen3-moe-1024  a small Qwen3-MoE of the real layout: 8 layers, hidden 1024, 16/4 heads of 128,
                  32 experts of 512, top-4 (the same shapes as `swerm bench --synthetic`)

For every (shape, dtype, length): --n synthetic trajectories (4, 2 and 1 by default: swerm's
first forward pass of a run meets fresh memory, a fixed cost that more prompts amortize) of about that many tokens; swerm
renders their prompts (`swerm render`), scores them (`swerm score`, its "scoring took" time: prompt
building, tokenization and the forward passes, not model loading; its peak RSS from the kernel),
and transformers tokenizes and scores exactly those prompt texts one by one. Prints tokens/s of
both, the ratio swerm / transformers, swerm's peak RSS and the largest P(YES) difference.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
from bench_verifier import synth  # noqa: E402

SHAPES = {
    "qwen3-0.6b": ("Qwen3Config", "Qwen3ForCausalLM", dict(
        vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28, num_attention_heads=16,
        num_key_value_heads=8, head_dim=128, rms_norm_eps=1e-6, rope_theta=1e6, tie_word_embeddings=True,
        max_position_embeddings=40960)),
    "qwen3-moe-1024": ("Qwen3MoeConfig", "Qwen3MoeForCausalLM", dict(
        vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=8, num_attention_heads=16,
        num_key_value_heads=4, head_dim=128, rms_norm_eps=1e-6, rope_theta=1e6, num_experts=32, num_experts_per_tok=4,
        moe_intermediate_size=512, norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[],
        tie_word_embeddings=False, max_position_embeddings=40960)),
}


def checkpoint(shape):
    import torch
    import transformers
    d = os.path.join(os.path.expanduser("~/.cache/swerm/bench-prefill"), shape)
    if os.path.exists(os.path.join(d, "model.safetensors")):
        return d
    cfg_cls, model_cls, kw = SHAPES[shape]
    torch.manual_seed(0)
    cfg = getattr(transformers, cfg_cls)(**kw)
    model = getattr(transformers, model_cls)(cfg).to(torch.bfloat16)
    tmp = d + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok_dir = os.path.join(ROOT, "..", "shared", "models", "qwen3-tokenizer")
    if not os.path.isdir(tok_dir):
        tok_dir = os.path.join(ROOT, "fixtures", "tiny", "qwen3")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.realpath(os.path.join(tok_dir, f)), os.path.join(tmp, f))
    os.rename(tmp, d)
    return d


def peak_rss_mib(pid, done):
    """swerm's own peak RSS: VmHWM of /proc/PID/status, read until the process ends (rusage's
    ru_maxrss would also count the Python process it was forked from)."""
    import threading
    peak = [0.0]

    def poll():
        while not done.is_set():
            try:
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]) / 1024)
            except (FileNotFoundError, ProcessLookupError, ValueError):
                return
            done.wait(0.05)

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    return peak, t


def run_swerm(a, model, data, dtype, out):
    """(seconds of scoring, peak RSS in MiB, scores by instance)."""
    import threading
    env = {**os.environ, "RAYON_NUM_THREADS": str(a.threads)}
    done = threading.Event()
    p = subprocess.Popen([a.binary, "score", data, "--model", model, "--device", "cpu", "--dtype", dtype, "-q", "-o", out],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak, poller = peak_rss_mib(p.pid, done)
    stdout, stderr = p.communicate()
    done.set()
    poller.join()
    if p.returncode != 0:
        sys.exit(f"swerm score failed ({p.returncode}): {stderr}")
    secs = float(stdout.split("scoring took ")[1].split(" s")[0])
    scores = {s["instance_id"]: s["score"] for s in map(json.loads, open(os.path.join(out, "scores.jsonl")))}
    return secs, peak[0], scores


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="qwen3-0.6b,qwen3-moe-1024")
    ap.add_argument("--dtype", default="f32,bf16")
    ap.add_argument("--tokens", default="1024,4096,16384")
    ap.add_argument("--n", default="4,2,1", help="prompts per length, one per --tokens entry (or one for all)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "swerm"))
    ap.add_argument("--skip-hf", action="store_true", help="swerm alone (no transformers side)")
    a = ap.parse_args()

    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(a.threads)
    rows = []
    print(f"{a.threads} threads; transformers {transformers.__version__}, torch {torch.__version__}; swerm {a.binary}", flush=True)
    print(f"{'shape':16}{'dtype':>6}{'tokens':>8}{'swerm tok/s':>13}{'hf tok/s':>10}{'ratio':>7}{'swerm RSS':>11}{'max dP':>10}", flush=True)
    for shape in a.shape.split(","):
        model_dir = checkpoint(shape)
        tok = AutoTokenizer.from_pretrained(model_dir)
        yes, no = tok.encode(" YES", add_special_tokens=False)[0], tok.encode(" NO", add_special_tokens=False)[0]
        for dtype in a.dtype.split(","):
            hf = None
            if not a.skip_hf:
                tdt = {"f32": torch.float32, "bf16": torch.bfloat16}[dtype]
                hf = AutoModelForCausalLM.from_pretrained(model_dir, dtype=tdt, attn_implementation="sdpa").eval()
            lengths = [int(x) for x in a.tokens.split(",")]
            counts = [int(x) for x in a.n.split(",")]
            counts = counts * len(lengths) if len(counts) == 1 else counts
            if len(counts) != len(lengths):
                sys.exit("--n: one count, or one per --tokens entry")
            for length, n in zip(lengths, counts):
                with tempfile.TemporaryDirectory() as d:
                    data = os.path.join(d, "trajs.jsonl")
                    synth(data, n, int(length * 1.21))  # synth makes ~0.83 tokens per asked-for token
                    prompts = [json.loads(l) for l in subprocess.run(
                        [a.binary, "render", data, "--model", model_dir], check=True, capture_output=True, text=True).stdout.splitlines()]
                    secs_swerm, rss, swerm_scores = run_swerm(a, model_dir, data, dtype, os.path.join(d, "out"))
                    rss_note = f"{rss:.0f} MiB"
                    n_tokens, hf_scores, secs_hf = 0, {}, None
                    ids_all = [tok.encode(p["prompt"], add_special_tokens=False) for p in prompts]
                    n_tokens = sum(map(len, ids_all))
                    if hf is not None:
                        t0 = time.perf_counter()
                        with torch.inference_mode():
                            for p, ids in zip(prompts, ids_all):
                                logits = hf(torch.tensor([ids]), logits_to_keep=1).logits[0, -1].float()
                                hf_scores[p["instance_id"]] = 1 / (1 + math.exp(float(logits[no] - logits[yes])))
                        secs_hf = time.perf_counter() - t0
                    diff = max((abs(swerm_scores[k] - v) for k, v in hf_scores.items()), default=float("nan"))
                    tps_s = n_tokens / secs_swerm
                    tps_h = n_tokens / secs_hf if secs_hf else float("nan")
                    row = dict(shape=shape, dtype=dtype, tokens=n_tokens // len(prompts), swerm_tok_s=tps_s, hf_tok_s=tps_h,
                               ratio=tps_s / tps_h if secs_hf else None, swerm_rss=rss_note, max_p_yes_diff=diff)
                    rows.append(row)
                    print(f"{shape:16}{dtype:>6}{row['tokens']:>8}{tps_s:>13.1f}{tps_h:>10.1f}"
                          f"{(tps_s / tps_h if secs_hf else float('nan')):>7.2f}{rss_note:>11}{diff:>10.1e}", flush=True)
            del hf
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
