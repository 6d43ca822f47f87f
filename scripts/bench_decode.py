#!/usr/bin/env python3
"""Benchmark: decoding speed of swerm's reasoning judge (`swerm score --generate`) against HF
transformers' `generate` on the same checkpoint, the same prompts and the same CPU, side by side
in one run.

    cargo build --release
    /path/to/venv/bin/python scripts/bench_decode.py [--model fixtures/tiny/qwen3-moe] [--n 16] [--new 128]

Needs torch and transformers (see make_tiny_checkpoints.py). Synthetic trajectories of about
--tokens prompt tokens each are written to a temporary JSONL; swerm renders their `--preset cot`
prompts (`swerm render`), and both sides generate greedily (f32) up to --new tokens per prompt:
swerm with its own batching (`--batch-tokens`), transformers with every prompt in one
left-padded batch (`generate(do_sample=False)`). Greedy decoding is the same on both sides
(src/model/generate.rs checks it token for token), so both generate the same tokens. Each time
covers tokenization, the prefill and the decoding, not model loading (swerm's is read from its
summary line, which times the scoring alone). Prints generated tokens/s for each and the ratio.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)
from bench_verifier import synth  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "fixtures", "tiny", "qwen3-moe"))
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "swerm"))
    a = ap.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(a.threads)
    with tempfile.TemporaryDirectory() as d:
        trajs = os.path.join(d, "t.jsonl")
        synth(trajs, a.n, a.tokens)
        common = [trajs, "--model", a.model, "--preset", "cot", "--device", "cpu", "--dtype", "f32"]
        r = subprocess.run([a.binary, "render", *common[:-4]], capture_output=True, text=True, check=True)
        prompts = [json.loads(l)["prompt"] for l in r.stdout.splitlines()]
        env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads))
        out = os.path.join(d, "o")
        r = subprocess.run(
            [a.binary, "score", *common, "--generate", str(a.new), "--temperature", "0", "-o", out],
            capture_output=True, text=True, env=env,
        )
        if r.returncode != 0:
            sys.exit(r.stderr)
        said = r.stdout + r.stderr
        m = re.search(r"(\d+) tokens? generated now in ([0-9.]+) s", said)
        t = re.search(r"scoring took ([0-9.]+) s", said)
        if not (m and t):
            sys.exit(f"no timing in swerm's summary:\n{r.stderr}")
        swerm_tokens, swerm_s = int(m.group(1)), float(t.group(1))

        tok = AutoTokenizer.from_pretrained(a.model)
        tok.padding_side = "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32, attn_implementation="sdpa")
        model.eval()
        start = time.perf_counter()
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=a.new, do_sample=False, pad_token_id=tok.pad_token_id)
        hf_s = time.perf_counter() - start
        new = gen[:, enc["input_ids"].shape[1]:]
        eos = set([model.generation_config.eos_token_id] if isinstance(model.generation_config.eos_token_id, int) else model.generation_config.eos_token_id or [])
        hf_tokens = 0
        for row in new.tolist():
            n = 0
            for t_ in row:
                n += 1
                if t_ in eos:
                    break
            hf_tokens += n

    name = os.path.basename(os.path.normpath(a.model))
    print(f"decode, {name}, {a.n} prompts of ~{a.tokens} tokens, up to {a.new} new tokens each, greedy f32, {a.threads} threads")
    print(f"  swerm score --generate:      {swerm_tokens:6d} tokens in {swerm_s:7.2f} s = {swerm_tokens / swerm_s:9.1f} generated tokens/s")
    print(f"  transformers generate (sdpa): {hf_tokens:6d} tokens in {hf_s:7.2f} s = {hf_tokens / hf_s:9.1f} generated tokens/s")
    print(f"  ratio swerm / transformers: {(swerm_tokens / swerm_s) / (hf_tokens / hf_s):.2f}x")


if __name__ == "__main__":
    main()
