#!/usr/bin/env python3
"""Writes a best-of-N run set where runs often submit the same patch and copies of one patch
carry different labels (a flaky test): the case where crediting a pick by run name would move
the selected rate. Standard library only; deterministic for a seed.

    python3 scripts/make_copies.py OUT_DIR [--runs 6] [--instances 40] [--seed 7]

Writes OUT_DIR/run-<r>.jsonl (SWE-bench predictions with an embedded `resolved`), one per run.
Each instance has 1-3 distinct patches; each run submits one of them (sometimes nothing, and
some runs lack some instances); a patch resolves or not, and each copy's label flips with
probability 0.3 (flaky tests). tests/it/trust.rs renames and reorders these runs and checks that
the selected rate, the picks and report.json do not move.
"""

import argparse
import json
import os
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--instances", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    lines = [[] for _ in range(a.runs)]
    for i in range(a.instances):
        iid = f"copies__inst-{i:03d}"
        variants = rng.randint(1, 3)
        patches = [f"diff --git a/m{i}.py b/m{i}.py\n--- a/m{i}.py\n+++ b/m{i}.py\n@@ -1 +1 @@\n-x = {i}\n+x = {i} + {v}\n"
                   for v in range(variants)]
        good = [rng.random() < 0.5 for _ in range(variants)]
        for r in range(a.runs):
            u = rng.random()
            if u < 0.05:
                continue  # no record: a missing candidate
            if u < 0.12:
                lines[r].append({"instance_id": iid, "model_name_or_path": "agent", "model_patch": "", "resolved": False})
                continue
            v = rng.randrange(variants)
            flaky = rng.random() < 0.3
            lines[r].append({"instance_id": iid, "model_name_or_path": "agent", "model_patch": patches[v],
                             "resolved": good[v] != flaky})
    for r, recs in enumerate(lines):
        with open(os.path.join(a.out, f"run-{r}.jsonl"), "w", encoding="utf-8") as f:
            for rec in recs:
                f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
