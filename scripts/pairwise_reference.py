#!/usr/bin/env python3
"""transformers' reference for swerm's pairwise judge (`--pairwise`) on the tiny checkpoints.

    VENV=$(scripts/engine-venv.sh)      # any Python with torch and transformers
    $VENV/bin/python scripts/pairwise_reference.py

Writes, under fixtures/tiny/:

  pairwise-trajectories.jsonl  the tiny trajectories plus a third attempt per instance (one
                               with no trajectory, one short), so that each instance has
                               several non-empty candidates
  pairwise-expected.jsonl      per (arch, instance, a, b), every ordered pair of non-empty
                               candidates: the prompt, its token count, the logits of the
                               answer tokens "A" and "B" at the last position and
                               P(A) = their softmax share, from transformers in float32 with
                               eager attention

The pairwise prompt is swerm's own (src/prompt/pairwise.rs documents it); it is written again
here from that description, independently of the Rust code. The trajectory serialization is
SWE-Gym's `format_traj` as scripts/make_tiny_checkpoints.py writes it.
"""

import json
import math
import os
import sys
from itertools import permutations

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_tiny_checkpoints import ICL, convert_content, format_traj  # noqa: E402

TINY = os.path.join(HERE, "..", "fixtures", "tiny")
ARCHS = ["qwen3-moe", "qwen3", "qwen2"]

SYSTEM = """You are an expert judge comparing two attempts by AI assistants to resolve the same software issue. Each attempt is shown as its interaction log and its final patch.

Key evaluation criteria:
1. Does the patch fix the problem the issue describes?
2. Does it handle the edge cases and requirements the issue states?
3. Does it avoid breaking behaviour the issue does not ask to change?
4. Did the assistant verify that the fix works?

Respond only with "<choice>A</choice>" or "<choice>B</choice>"."""

EXTRA = [
    {
        "instance_id": "tiny__pkg-1",
        "run": "agent-c",
        "model_patch": "diff --git a/pkg/core.py b/pkg/core.py\n--- a/pkg/core.py\n+++ b/pkg/core.py\n@@ -1,2 +1,4 @@\n def f(x):\n-    return x\n+    if x is None:\n+        return 0\n+    return x\n",
        "resolved": True,
        "messages": [],
    },
    {
        "instance_id": "tiny__pkg-2",
        "run": "agent-c",
        "model_patch": "diff --git a/pkg/g.py b/pkg/g.py\n--- a/pkg/g.py\n+++ b/pkg/g.py\n@@ -1 +1 @@\n-def g(xs): return xs[0]\n+def g(xs): return xs[0] if xs else None\n",
        "resolved": False,
        "messages": [
            {"role": "user", "content": "g() crashes on an empty list; make it return None."},
            {"role": "assistant", "content": "I changed g to return None for an empty list."},
        ],
    },
]


def issue_of(rec):
    """The issue a record states: its problem_statement, else its first user message."""
    if isinstance(rec.get("problem_statement"), str):
        return rec["problem_statement"]
    for m in rec["messages"]:
        if m["role"] == "user":
            return convert_content(m["content"])
    return None


def log_of(rec):
    if not rec["messages"]:
        return "(No trajectory was recorded for this attempt.)"
    log = format_traj(rec["messages"])
    return log.replace(ICL["in_context_learning_example_prefix"], "").replace(ICL["in_context_learning_example_suffix"], "")


def attempt(label, rec):
    return (
        f"=== ATTEMPT {label}: INTERACTION LOG ===\n{log_of(rec)}\n=== ATTEMPT {label}: END INTERACTION ===\n\n"
        f"=== ATTEMPT {label}: FINAL PATCH ===\n{rec['model_patch']}\n=== ATTEMPT {label}: END PATCH ==="
    )


def pair_prompt(tok, issue, a, b):
    issue = issue if issue is not None else "(The issue statement was not recorded; judge from the attempts.)"
    user = (
        "Please compare two attempts to resolve the following issue.\n\n"
        f"=== ISSUE ===\n{issue}\n=== END ISSUE ===\n\n{attempt('A', a)}\n\n{attempt('B', b)}\n\n"
        "Which attempt resolves the issue? Respond with A or B."
    )
    chat = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}, {"role": "assistant", "content": "<choice>"}]
    text = tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=False)
    return text[: text.rindex("<choice>") + len("<choice>")]


def main():
    recs = [json.loads(l) for l in open(os.path.join(TINY, "trajectories.jsonl"), encoding="utf-8")] + EXTRA
    with open(os.path.join(TINY, "pairwise-trajectories.jsonl"), "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    by_instance = {}
    for r in recs:
        by_instance.setdefault(r["instance_id"], []).append(r)
    rows = []
    for arch in ARCHS:
        d = os.path.join(TINY, arch)
        tok = AutoTokenizer.from_pretrained(d)
        ref = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
        a_id, b_id = (tok.encode(s, add_special_tokens=False) for s in ("A", "B"))
        assert len(a_id) == 1 and len(b_id) == 1
        for iid in sorted(by_instance):
            cands = sorted((r for r in by_instance[iid] if r["model_patch"].strip()), key=lambda r: r["run"])
            issue = next((x for x in map(issue_of, cands) if x is not None), None)
            for a, b in permutations(cands, 2):
                text = pair_prompt(tok, issue, a, b)
                ids = tok.encode(text, add_special_tokens=False)
                with torch.no_grad():
                    logits = ref(torch.tensor([ids])).logits[0, -1]
                la, lb = float(logits[a_id[0]]), float(logits[b_id[0]])
                rows.append({"arch": arch, "instance_id": iid, "a": a["run"], "b": b["run"], "prompt": text,
                             "n_tokens": len(ids), "logit_a": la, "logit_b": lb, "p_a": 1.0 / (1.0 + math.exp(lb - la))})
        print(arch, "P(A):", [round(x["p_a"], 4) for x in rows if x["arch"] == arch])
    with open(os.path.join(TINY, "pairwise-expected.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rows with transformers {transformers.__version__}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
