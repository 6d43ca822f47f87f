#!/usr/bin/env python3
"""The reference for swerm's decoding (src/model/generate.rs): HF transformers' greedy
`generate(do_sample=False)` on the tiny checkpoints, in float32, eager attention, one prompt at a
time (no padding), for three prompts of different lengths; and, after the prompt and the
generated tokens, the next-position logits of the swegym answer tokens (" YES", " NO"), which is
where a judge that stops at its answer marker reads P(YES).

Writes fixtures/tiny/generate-expected.json: per architecture, per prompt, the prompt's token
ids, the generated ids and the two answer logits. The prompts are the first three swegym
prompts of fixtures/tiny/expected.jsonl (transformers' own renders), as token ids.

    /path/to/venv/bin/python scripts/generate_reference.py   # any torch + transformers
"""

import json
import os

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TINY = os.path.join(ROOT, "fixtures", "tiny")
NEW_TOKENS = 64
ARCHS = ["qwen3-moe", "qwen3", "qwen2"]


def main():
    rows = [json.loads(l) for l in open(os.path.join(TINY, "expected.jsonl"), encoding="utf-8")]
    out = {}
    for arch in ARCHS:
        d = os.path.join(TINY, arch)
        tok = AutoTokenizer.from_pretrained(d)
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
        yes = tok.convert_tokens_to_ids("ĠYES")
        no = tok.convert_tokens_to_ids("ĠNO")
        prompts = [r["prompt"] for r in rows if r["arch"] == arch and r["preset"] == "swegym"][:3]
        cases = []
        for p in prompts:
            ids = tok(p, return_tensors="pt", add_special_tokens=False).input_ids
            with torch.no_grad():
                g = model.generate(
                    ids,
                    attention_mask=torch.ones_like(ids),
                    do_sample=False,
                    max_new_tokens=NEW_TOKENS,
                    min_new_tokens=NEW_TOKENS,
                    pad_token_id=0,
                )
                new = g[0, ids.shape[1]:]
                last = model(g).logits[0, -1].float()
            cases.append(
                {
                    "prompt_ids": ids[0].tolist(),
                    "generated": new.tolist(),
                    "answer_ids": [yes, no],
                    "answer_logits": [last[yes].item(), last[no].item()],
                }
            )
        out[arch] = cases
        print(arch, [len(c["prompt_ids"]) for c in cases])
    with open(os.path.join(TINY, "generate-expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    main()
