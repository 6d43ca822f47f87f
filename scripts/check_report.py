#!/usr/bin/env python3
"""Recompute every number of a swerm output directory with the naive reference
(swerm_reference.py): a rerank/eval directory from its scores.jsonl (report.json and
predictions.jsonl), a compare directory from compare.candidates.jsonl (every scorer's numbers
and the paired differences with their bootstrap intervals).

    python3 scripts/check_report.py out/
    python3 scripts/check_report.py cmp/

Exit status 0 when everything agrees within 1e-9, 1 otherwise.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swerm_reference as ref  # noqa: E402


class Tally:
    """Prints one ok/BAD line per comparison and counts the BAD ones."""

    def __init__(self, width):
        self.bad, self.width = 0, width

    def __call__(self, name, a, b):
        ok = (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)
        print(f"{'ok ' if ok else 'BAD'} {name:{self.width}} swerm={a} reference={b}")
        self.bad += not ok


def check_compare(out):
    c = json.load(open(os.path.join(out, "compare.json")))
    rows = [json.loads(l) for l in open(os.path.join(out, "compare.candidates.jsonl"), encoding="utf-8")]
    runs = sorted({r["run"] for r in rows})
    cmp = Tally(40)

    grids = {}
    for name in c["scorers"]:
        g = {}
        for r in rows:
            g.setdefault(r["instance_id"], {})[r["run"]] = (r["scores"][name], bool(r["resolved"]), r["empty"])
        grids[name] = {i: [g[i][run] for run in runs] for i in g}
    for name, rep in c["scorers"].items():
        want = ref.metrics(grids[name], rep.get("ece_bins", 15))
        for key in ["pass_at_k", "best_at_k", "random_at_k"]:
            for k, v in want[key].items():
                cmp(f"{name} {key}[{k}]", rep[key][k], v)
        cmp(f"{name} selected.rate", rep["selected"]["rate"], want["selected"]["rate"])
        for key in ["auc", "auc_per_instance", "ece", "brier"]:
            cmp(f"{name} {key}", rep.get(key), want.get(key))
    b = c["bootstrap"]
    ks = c["k"]
    for name, d in c["differences"].items():
        want = ref.paired_differences(grids[name], grids[d["against"]], ks, b["resamples"], b["seed"], b["level"])
        for k in map(str, ks):
            for part in ["diff", "lo", "hi"]:
                cmp(f"{name}-{d['against']} best@{k}.{part}", d["best_at_k"][k][part], want["best_at_k"][k][part])
        for key in ["selected", "auc"]:
            for part in ["diff", "lo", "hi"]:
                got = None if d[key] is None else d[key][part]
                w = None if want[key] is None else want[key][part]
                cmp(f"{name}-{d['against']} {key}.{part}", got, w)
    return 1 if cmp.bad else 0


def main(out):
    if os.path.exists(os.path.join(out, "compare.json")):
        return check_compare(out)
    report = json.load(open(os.path.join(out, "report.json")))
    grid = ref.read_scores(os.path.join(out, "scores.jsonl"))
    want = ref.metrics(grid, report.get("ece_bins", 15))
    cmp = Tally(24)

    for key in ["pass_at_k", "best_at_k", "random_at_k"]:
        for k, v in want[key].items():
            cmp(f"{key}[{k}]", report[key][k], v)
    cmp("selected.rate", report["selected"]["rate"], want["selected"]["rate"])
    for key in ["auc", "auc_per_instance", "ece", "brier"]:
        cmp(key, report.get(key), want.get(key))
    preds = [json.loads(l) for l in open(os.path.join(out, "predictions.jsonl"))]
    ids = [p["instance_id"] for p in preds]
    ok = sorted(ids) == sorted(grid) and len(set(ids)) == len(ids)
    ok = ok and all(isinstance(p["model_patch"], str) and p["model_name_or_path"] for p in preds)
    print(f"{'ok ' if ok else 'BAD'} predictions.jsonl: {len(preds)} lines, one per instance")
    cmp.bad += not ok
    return 1 if cmp.bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "out"))
