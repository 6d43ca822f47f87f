#!/usr/bin/env python3
"""Recompute every number of a swerm output with the naive reference (swerm_reference.py):
a rerank/eval directory from its scores.jsonl, or scores.evaluated.jsonl where swerm wrote one
(eval; rerank --calibration) (report.json, instances.csv and predictions.jsonl); a compare
directory from compare.candidates.jsonl (every scorer's numbers and the paired differences with
their bootstrap intervals; a calibrated score set re-derived from its raw store and cal.json);
a cal.json from the labelled scores it was fitted on (both maps refitted by a derivative-free
optimizer, the cross-validation redone). In a directory, every SVG figure must have its PNG.

    python3 scripts/check_report.py out/
    python3 scripts/check_report.py cmp/
    python3 scripts/check_report.py cal.json scored/scores.jsonl
    python3 scripts/check_report.py scored/ cal.json     (score --calibration's output)

Exit status 0 when everything agrees (within 1e-9; 1e-6 for refitted maps), 1 otherwise.
"""

import csv
import json
import math
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swerm_reference as ref  # noqa: E402


class Tally:
    """Prints one ok/BAD line per comparison and counts the BAD ones."""

    def __init__(self, width):
        self.bad, self.width = 0, width

    def __call__(self, name, a, b, tol=1e-9):
        ok = (a is None and b is None) or (a is not None and b is not None and abs(a - b) < tol)
        print(f"{'ok ' if ok else 'BAD'} {name:{self.width}} swerm={a} reference={b}")
        self.bad += not ok


def check_compare(out):
    c = json.load(open(os.path.join(out, "compare.json")))
    rows = [json.loads(l) for l in open(os.path.join(out, "compare.candidates.jsonl"), encoding="utf-8")]
    runs = sorted({r["run"] for r in rows})
    cmp = Tally(40)

    grids, orders = {}, {}
    for name in c["scorers"]:
        g, o = {}, {}
        for r in rows:
            key = int(r["patch_hash"], 16) if r.get("patch_hash") is not None else None
            bkey = int(r["patch_bytes_hash"], 16) if r.get("patch_bytes_hash") is not None else None
            g.setdefault(r["instance_id"], {})[r["run"]] = (r["scores"][name], bool(r["resolved"]), r["empty"], key, bkey,
                                                             r.get("missing", False))
            o.setdefault(r["instance_id"], {})[r["run"]] = r.get("tie_ranks", {}).get(name)
        grids[name] = {i: [g[i][run] for run in runs] for i in g}
        has = any(v is not None for i in o for v in o[i].values())
        orders[name] = {i: [o[i][run] for run in runs] for i in o} if has else None
    for name, rep in c["scorers"].items():
        want = ref.metrics(grids[name], rep.get("ece_bins", 15), orders[name])
        for key in ["pass_at_k", "best_at_k", "random_at_k"]:
            for k, v in want[key].items():
                cmp(f"{name} {key}[{k}]", rep[key][k], v)
        cmp(f"{name} selected.rate", rep["selected"]["rate"], want["selected"]["rate"])
        check_trust(rep, want, cmp, f"{name} ")
        for key in ["auc", "auc_non_empty", "auc_per_instance", "ece", "brier"]:
            cmp(f"{name} {key}", rep.get(key), want.get(key))
    b = c["bootstrap"]
    ks = c["k"]
    for name, d in c["differences"].items():
        want = ref.paired_differences(grids[name], grids[d["against"]], ks, b["resamples"], b["seed"], b["level"],
                                      orders[name], orders[d["against"]])
        for k in map(str, ks):
            for part in ["diff", "lo", "hi"]:
                cmp(f"{name}-{d['against']} best@{k}.{part}", d["best_at_k"][k][part], want["best_at_k"][k][part])
        for key in ["selected", "auc"]:
            for part in ["diff", "lo", "hi"]:
                got = None if d[key] is None else d[key][part]
                w = None if want[key] is None else want[key][part]
                cmp(f"{name}-{d['against']} {key}.{part}", got, w)
    check_calibrated_sets(c, rows, cmp)
    check_figures(out, cmp)
    return 1 if cmp.bad else 0


def store_logits(path):
    """Per instance (sorted ids), its non-empty scored candidates in run-name order: (z, y, key)
    with z the answer-logit difference when recorded, else logit(score)."""
    if os.path.isdir(path):
        path = os.path.join(path, "scores.jsonl")
    rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    by = {}
    for r in sorted(rows, key=lambda r: (r["instance_id"], r["run"])):
        if r.get("empty") or r.get("missing") or r["score"] is None:
            continue
        z = r["logit_yes"] - r["logit_no"] if "logit_yes" in r and "logit_no" in r else ref.logit(r["score"])
        by.setdefault(r["instance_id"], []).append((z, r.get("resolved"), (r["instance_id"], r["run"])))
    return [by[i] for i in sorted(by)]


def check_calibration(cal_path, scores):
    cal = json.load(open(cal_path))
    data = store_logits(scores)
    if any(y is None for inst in data for _, y, _ in inst):
        print(f"BAD {scores}: every candidate needs `resolved` (rerank --labels writes it)")
        return 1
    data = [[(z, bool(y)) for z, y, _ in inst] for inst in data]
    cmp = Tally(32)
    z = [c[0] for inst in data for c in inst]
    y = [c[1] for inst in data for c in inst]
    cmp("instances", cal["instances"], len(data))
    cmp("candidates", cal["candidates"], len(z))
    for method, cv in cal["tried"]:
        want = ref.cross_validate(data, method, cv["folds"], cv["seed"], cv["ece_bins"])
        for key, v in want.items():
            cmp(f"{method} cv.{key}", cv[key], v, 1e-6)
    best = min(cal["tried"], key=lambda t: t[1]["log_loss_after"])[0]
    m = ref.fit_map(best, z, y)
    if best == "temperature":
        cmp("temperature", cal["temperature"], m[1], 1e-6 * max(1.0, m[1]))
    else:
        cmp("platt a", cal["a"], m[1], 1e-6)
        cmp("platt b", cal["b"], m[2], 1e-6)
    return 1 if cmp.bad else 0


def check_calibrated_sets(c, rows, cmp):
    """Scorers compared under a calibration: their scores are the map applied to the raw store."""
    for name, rep in c["scorers"].items():
        if "calibration" not in rep:
            continue
        cal = json.load(open(rep["calibration"]["file"]))
        m = ("temperature", cal["temperature"]) if "temperature" in cal else ("platt", cal["a"], cal["b"])
        raw = {key: z for inst in store_logits(c["sources"][name]) for z, _, key in inst}
        got = {(r["instance_id"], r["run"]): r["scores"][name] for r in rows}
        worst = max(abs(got[k] - ref.apply_map(m, z)) for k, z in raw.items())
        cmp(f"{name} calibrated scores (max |diff|)", worst, 0.0)


def check_trust(rep, want, cmp, name=""):
    """Ties, unscored candidates, per-run numbers and the expected selected rate."""
    cmp(f"{name}selected.expected", rep["selected"]["expected_under_random_ties"],
        want["selected"]["expected_under_random_ties"])
    cmp(f"{name}ties.tied", rep["ties"]["instances_with_tied_top"], want["ties"][0])
    cmp(f"{name}ties.mixed_labels", rep["ties"]["with_mixed_labels"], want["ties"][1])
    cmp(f"{name}selected.resolved", rep["selected"]["resolved"], want["selected"]["resolved"])
    cmp(f"{name}selected.picked_copies_with_mixed_labels", rep["selected"]["picked_copies_with_mixed_labels"],
        want["selected"]["mixed_copies"])
    cmp(f"{name}unscored", rep["unscored_candidates"]["total"], want["unscored"])
    runs = rep["run_names"]
    for r, run in enumerate(runs):
        cmp(f"{name}per_run[{run}].rate", rep["per_run"][run]["rate"], want["run_rates"][r])
        cmp(f"{name}per_run[{run}].picks", rep["per_run"][run]["picks"], want["picks"][r])
    cmp(f"{name}best_single_run.rate", rep["best_single_run"]["rate"], max(want["run_rates"]))
    cmp(f"{name}mean_run_rate", rep["mean_run_rate"], sum(want["run_rates"]) / len(runs))


def check_predictions_content(out, grid, order, cmp):
    """Each prediction's patch has the content key of the candidate the reference selects
    (recomputed here from the patch text: the tie-break never rests on swerm's own hash)."""
    preds = {p["instance_id"]: p for p in (json.loads(l) for l in open(os.path.join(out, "predictions.jsonl")))}
    bad = 0
    for i, cands in grid.items():
        if any(c[3] is None and not c[2] for c in cands):
            continue  # a store without content keys
        scores = order[i] if order else [float("-inf") if c[0] is None else c[0] for c in cands]
        best = ref.pick(scores, cands)
        got = (ref.content_key(preds[i]["model_patch"]), ref.bytes_key(preds[i]["model_patch"])) if i in preds else "missing"
        if got != (cands[best][3], cands[best][4] if cands[best][4] is not None else got[1]):
            bad += 1
            print(f"BAD predictions.jsonl {i}: patch keys {got} vs the selected candidate's {cands[best][3:]}")
    cmp("predictions whose patch is not the pick", bad, 0)


def check_tts_csv(out, want, cmp):
    """report.csv: the same numbers as the reference, row by row."""
    rows = list(csv.DictReader(open(os.path.join(out, "report.csv"), newline="")))
    cmp("report.csv rows", len(rows), len(want["best_at_k"]))
    for row in rows:
        for key in ["pass_at_k", "best_at_k", "random_at_k"]:
            cmp(f"report.csv {key}[{row['k']}]", float(row[key]), want[key][row["k"]])


def check_instances_csv(out, grid, order, cmp):
    """instances.csv: solvable, the chosen run (the reference's selection), its label and score.
    A hole (no line) is unresolved once any candidate is labelled, as SWE-bench counts it."""
    rows = {r["instance_id"]: r for r in csv.DictReader(open(os.path.join(out, "instances.csv"), newline=""))}
    name = "scores.evaluated.jsonl" if os.path.exists(os.path.join(out, "scores.evaluated.jsonl")) else "scores.jsonl"
    lines = [json.loads(l) for l in open(os.path.join(out, name), encoding="utf-8") if l.strip()]
    any_label = any(l.get("resolved") is not None for l in lines)
    labels = {(l["instance_id"], l["run"]): l.get("resolved", False if any_label and l.get("missing") else None) for l in lines}
    if any_label:
        labels = {(i, run): labels.get((i, run), False) for i in grid for run in
                  sorted({l["run"] for l in lines})}
    runs = sorted({k[len("score:"):] for r in rows.values() for k in r if k.startswith("score:")})
    bad = 0
    for i, cands in grid.items():
        r = rows.get(i)
        scores = order[i] if order else [float("-inf") if c[0] is None else c[0] for c in cands]
        best = ref.pick(scores, cands)
        lab = [labels.get((i, run)) for run in runs]
        show = lambda x: "" if x is None else str(x).lower()  # noqa: E731
        want = {"chosen_run": runs[best], "solvable": show(None if None in lab else any(lab)), "resolved": show(lab[best])}
        got = r and {k: r[k] for k in want}
        score_ok = r is not None and all(
            (r[f"score:{run}"] == "" and s is None) or (s is not None and r[f"score:{run}"] != "" and float(r[f"score:{run}"]) == s)
            for run, (s, *_) in zip(runs, cands))
        if got != want or not score_ok:
            bad += 1
            print(f"BAD instances.csv {i}: {got} vs reference {want}")
    cmp("instances.csv rows that differ", bad, 0)
    cmp("instances.csv rows", len(rows), len(grid))


def check_pairwise(out, grid, report, want, cmp):
    """A pairwise judge: every candidate's score is its soft wins recomputed from pairs.jsonl,
    and best@k is the label of the top-W candidate of each k-subset, W recomputed there
    (enumerated here where swerm enumerates; where swerm draws, within 0.05)."""
    if not os.path.exists(os.path.join(out, "pairs.jsonl")):
        print(f"BAD pairwise judge without {out}/pairs.jsonl: check the directory rerank or score wrote")
        cmp.bad += 1
        return
    runs = sorted(ref_runs(out))
    by = {}
    for l in open(os.path.join(out, "pairs.jsonl"), encoding="utf-8"):
        if l.strip():
            x = json.loads(l)
            by.setdefault(x["instance_id"], []).append((x["a"], x["b"], x["p_a"]))
    worst, contests = 0.0, {}
    for i, cands in grid.items():
        empty = [c[2] for c in cands]
        p, unscored = ref.pairwise_contest(by.get(i, []), runs, empty)
        contests[i] = (p, unscored, empty)
        w = ref.pairwise_wins(p, unscored, set(range(len(runs))))
        for r, c in enumerate(cands):
            if (c[0] is None) != (w[r] is None):
                worst = float("inf")
            elif c[0] is not None:
                worst = max(worst, abs(c[0] - w[r]))
    cmp("pairwise soft wins (max |diff|)", worst, 0.0)
    n = len(runs)
    for k in report["k"]:
        subsets = math.comb(n, k)
        vals = [ref.pairwise_best_at_k(*contests[i][:2], [c[1] for c in cands], contests[i][2], k)
                for i, cands in grid.items()] if subsets <= 5000 else None
        if vals is None:
            print(f"-- pairwise best@{k}: {subsets} subsets per instance (swerm draws them), not enumerated here")
            want["best_at_k"][str(k)] = report["best_at_k"][str(k)]
            continue
        want["best_at_k"][str(k)] = sum(vals) / len(vals)


def ref_runs(out):
    """The run names of a store, from scores.jsonl."""
    runs = set()
    for l in open(os.path.join(out, "scores.jsonl"), encoding="utf-8"):
        if l.strip():
            runs.add(json.loads(l)["run"])
    return runs


def check_figures(out, cmp):
    """Every SVG has a PNG beside it, twice its size (read from the PNG's IHDR chunk)."""
    for name in sorted(f for f in os.listdir(out) if f.endswith(".svg")):
        svg = open(os.path.join(out, name), encoding="utf-8").read(400)
        w, h = (int(re.search(rf'{a}="(\d+)"', svg).group(1)) for a in ["width", "height"])
        png = os.path.join(out, name[:-4] + ".png")
        got = None
        if os.path.exists(png):
            head = open(png, "rb").read(24)
            ok = head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
            got = struct.unpack(">II", head[16:24]) if ok else None
        print(f"{'ok ' if got == (2 * w, 2 * h) else 'BAD'} {name[:-4]}.png: {got} for an SVG of {(w, h)}")
        cmp.bad += got != (2 * w, 2 * h)


def check_calibrated_store(out, cal_path):
    """`score --calibration`: scores.calibrated.jsonl holds the map applied to every non-empty
    scored candidate of scores.jsonl (the logit difference when recorded), the rest unchanged."""
    cal = json.load(open(cal_path))
    m = ("temperature", cal["temperature"]) if "temperature" in cal else ("platt", cal["a"], cal["b"])
    raw = [json.loads(l) for l in open(os.path.join(out, "scores.jsonl"), encoding="utf-8") if l.strip()]
    got = [json.loads(l) for l in open(os.path.join(out, "scores.calibrated.jsonl"), encoding="utf-8") if l.strip()]
    cmp = Tally(40)
    cmp("scores.calibrated.jsonl lines", len(got), len(raw))
    worst, same = 0.0, True
    for r, g in zip(raw, got):
        same = same and (r["instance_id"], r["run"]) == (g["instance_id"], g["run"])
        if r.get("empty") or r["score"] is None:
            same = same and g["score"] == r["score"]
            continue
        z = r["logit_yes"] - r["logit_no"] if "logit_yes" in r and "logit_no" in r else ref.logit(r["score"])
        worst = max(worst, abs(g["score"] - ref.apply_map(m, z)))
    cmp("calibrated scores (max |diff|)", worst, 0.0)
    cmp("candidates and unscored lines the same", float(same), 1.0)
    return 1 if cmp.bad else 0


def main(out, *rest):
    if out.endswith(".json") and os.path.isfile(out):
        return check_calibration(out, rest[0] if rest else json.load(open(out))["source"])
    if os.path.exists(os.path.join(out, "scores.calibrated.jsonl")) and rest:
        return check_calibrated_store(out, rest[0])
    if os.path.exists(os.path.join(out, "compare.json")):
        return check_compare(out)
    report = json.load(open(os.path.join(out, "report.json")))
    # The scores as evaluated: scores.evaluated.jsonl where swerm wrote one (eval, or rerank
    # --calibration: labels and calibration applied), else the store.
    scores = os.path.join(out, "scores.evaluated.jsonl")
    if not os.path.exists(scores):
        scores = os.path.join(out, "scores.jsonl")
    grid = ref.read_scores(scores)
    order = ref.read_order(scores)
    labelled = "best_at_k" in report
    cmp = Tally(24)
    pairwise = (report.get("scorer_settings") or {}).get("pairwise")
    if labelled:
        want = ref.metrics(grid, report.get("ece_bins", 15), order)
        if pairwise:
            check_pairwise(out, grid, report, want, cmp)
        for key in ["pass_at_k", "best_at_k", "random_at_k"]:
            for k, v in want[key].items():
                cmp(f"{key}[{k}]", report[key][k], v)
        cmp("selected.rate", report["selected"]["rate"], want["selected"]["rate"])
        check_trust(report, want, cmp)
        for key in ["auc", "auc_non_empty", "auc_per_instance", "ece", "brier"]:
            cmp(key, report.get(key), want.get(key))
        check_tts_csv(out, want, cmp)
    check_instances_csv(out, grid, order, cmp)
    check_figures(out, cmp)
    if not os.path.exists(os.path.join(out, "predictions.jsonl")):
        return 1 if cmp.bad else 0  # an eval directory: no predictions
    check_predictions_content(out, grid, order, cmp)
    preds = [json.loads(l) for l in open(os.path.join(out, "predictions.jsonl"))]
    ids = [p["instance_id"] for p in preds]
    ok = sorted(ids) == sorted(grid) and len(set(ids)) == len(ids)
    ok = ok and all(isinstance(p["model_patch"], str) and p["model_name_or_path"] for p in preds)
    print(f"{'ok ' if ok else 'BAD'} predictions.jsonl: {len(preds)} lines, one per instance")
    cmp.bad += not ok
    return 1 if cmp.bad else 0


if __name__ == "__main__":
    sys.exit(main(*(sys.argv[1:] or ["out"])))
