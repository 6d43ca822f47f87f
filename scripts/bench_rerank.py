#!/usr/bin/env python3
"""Benchmark: `swerm rerank` over synthetic data shaped like real SWE-bench runs (patch sizes
from ~150 B to ~85 KB with a ~1 KB median; ~3% empty patches and ~16% missing predictions; one
category-list report per run), timed side by side with two peers on the same files:

- Python's `json.loads` of every line and nothing else (the floor a Python tool cannot go under);
- the naive Python reference (scripts/swerm_reference.py) doing the whole job: reading, scoring
  by consensus, selecting and computing the same metrics (skipped past 20,000 candidates, where
  it takes minutes; --reference forces it).

    cargo build --release && python3 scripts/bench_rerank.py [--instances 300] [--runs 8] [--repeat 3]
        [--old-binary PATH]   # also an earlier build, the two taking turns
    python3 scripts/bench_rerank.py --instances 2438 --runs 64 --bootstrap 1000   # RL scale

swerm runs `rerank RUNS --labels REPORTS --bootstrap B` (every report and figure), into a fresh
folder and again into the folder it wrote (the must-have: no slower). Prints wall
time (median of --repeat) and peak RSS of each, and the ratios. Goals (issues 14 and 21): at
300 x 8, under 1 s and 200 MB; at 2438 x 64, no slower than Python's parse alone and peak RSS
below the predictions' size (issue 39: half of Python's parse, a rerun no slower than a fresh run).
"""

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import swerm_reference as ref  # noqa: E402


def synth(root, n_inst, n_runs, seed=1):
    rng = random.Random(seed)
    ids = [f"proj{j % 12}__repo-{10000 + j}" for j in range(n_inst)]
    os.makedirs(os.path.join(root, "runs"))
    os.makedirs(os.path.join(root, "reports"))
    variants = {}
    for iid in ids:
        size = min(85000, max(150, int(rng.lognormvariate(6.9, 0.8))))
        base = "".join(f"+    line {i} of a fix for {iid}\n" for i in range(size // 32))
        variants[iid] = [f"diff --git a/f.py b/f.py\n--- a/f.py\n+++ b/f.py\n@@ -1 +1 @@\n-{v}\n" + base for v in range(rng.randint(1, 5))]
    for r in range(n_runs):
        name = f"run-{r + 1}"
        resolved = []
        with open(os.path.join(root, "runs", name + ".jsonl"), "w") as f:
            for iid in ids:
                x = rng.random()
                if x < 0.16:
                    continue
                v = rng.randrange(len(variants[iid]))
                patch = "" if x < 0.19 else variants[iid][v]
                if patch and v == 0 and rng.random() < 0.6:
                    resolved.append(iid)
                f.write(json.dumps({"instance_id": iid, "model_name_or_path": "agent", "model_patch": patch}) + "\n")
        with open(os.path.join(root, "reports", name + ".json"), "w") as f:
            json.dump({"generated": [], "applied": [], "resolved": resolved}, f)
    return [os.path.join(root, "runs", f"run-{r + 1}.jsonl") for r in range(n_runs)], [
        os.path.join(root, "reports", f"run-{r + 1}.json") for r in range(n_runs)
    ]


def peer(runs, reports, out):
    """The same job in plain Python: read, score by consensus, select, compute the metrics."""
    name = lambda p: os.path.basename(p).rsplit(".", 1)[0]  # noqa: E731
    order = sorted(range(len(runs)), key=lambda r: name(runs[r]))  # swerm orders runs by name
    runs, reports = [runs[r] for r in order], [reports[r] for r in order]
    grid_p, ids = {}, set()
    for r, path in enumerate(runs):
        for line in open(path):
            rec = json.loads(line)
            grid_p[(rec["instance_id"], r)] = rec.get("model_patch") or ""
            ids.add(rec["instance_id"])
    labels = [set(json.load(open(p))["resolved"]) for p in reports]
    grid = {}
    for iid in sorted(ids):
        patches = [grid_p.get((iid, r)) for r in range(len(runs))]
        scores = ref.consensus_scores([p or "" for p in patches])
        grid[iid] = [
            (scores[r], iid in labels[r], not (p or "").strip(), ref.content_key(p or ""), ref.bytes_key(p or ""), p is None)
            for r, p in enumerate(patches)
        ]
    m = ref.metrics(grid)
    with open(out, "w") as f:
        json.dump(m, f)


def parse_only(runs):
    """Python's floor: json.loads of every line of every predictions file."""
    for path in runs:
        with open(path, "rb") as f:
            for line in f:
                json.loads(line)


def timed(cmd, fresh=None):
    """Wall time of one run; `fresh` (an output folder) is removed first, so that every run
    of swerm starts a new store as a first run does."""
    if fresh:
        shutil.rmtree(fresh, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def peak_rss_mb(cmd):
    """Peak RSS of one child in MB (10^6 bytes, the unit of the input's size), read with GNU
    time's %M (KiB) when present, else getrusage (KiB on Linux)."""
    if os.path.exists("/usr/bin/time"):
        r = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        return int(r.stderr.strip().splitlines()[-1]) * 1024 / 1e6
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024 / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=300)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bootstrap", type=int, default=0, help="swerm's --bootstrap (resamples)")
    ap.add_argument("--reference", action="store_true", help="run the Python reference at any size")
    ap.add_argument("--keep", help="write the data (and swerm's output) into this folder and keep it")
    ap.add_argument("--binary", default=os.path.join(HERE, "..", "target", "release", "swerm"))
    ap.add_argument("--old-binary", help="also time this one, its fresh runs alternating with --binary's")
    ap.add_argument("--peer-job", nargs="*", help=argparse.SUPPRESS)
    ap.add_argument("--parse-job", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.peer_job:
        n = len(a.peer_job) // 2
        return peer(a.peer_job[:n], a.peer_job[n : 2 * n], a.peer_job[-1])
    if a.parse_job:
        return parse_only(a.parse_job)
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
        return bench(a, a.keep)
    with tempfile.TemporaryDirectory() as d:
        return bench(a, d)


def bench(a, d):
    if os.path.isdir(os.path.join(d, "runs")) and len(os.listdir(os.path.join(d, "runs"))) == a.runs:
        runs = [os.path.join(d, "runs", f"run-{r + 1}.jsonl") for r in range(a.runs)]
        reports = [os.path.join(d, "reports", f"run-{r + 1}.json") for r in range(a.runs)]
    else:
        runs, reports = synth(d, a.instances, a.runs)
    size = sum(os.path.getsize(p) for p in runs) / 1e6
    out = os.path.join(d, "out")
    sw = [a.binary, "rerank", *runs, "--labels", *reports, "-o", out, "-q"]
    if a.bootstrap:
        sw += ["--bootstrap", str(a.bootstrap)]
    parse = [sys.executable, __file__, "--parse-job", *runs]
    py = [sys.executable, __file__, "--peer-job", *runs, *reports, os.path.join(d, "peer.json")]
    reference = a.reference or a.instances * a.runs <= 20000
    timed(sw, out)  # warm the page cache
    t_sw = statistics.median(timed(sw, out) for _ in range(a.repeat))
    # Again into the folder the last run wrote (its stores read back, its files replaced).
    t_again = statistics.median(timed(sw) for _ in range(a.repeat))
    m_again = peak_rss_mb(sw)
    t_parse = statistics.median(timed(parse) for _ in range(a.repeat))
    shutil.rmtree(out)
    m_sw, m_parse = peak_rss_mb(sw), peak_rss_mb(parse)
    print(f"data: {a.instances} instances x {a.runs} runs, {size:.1f} MB of predictions, {os.cpu_count()} cores")
    print(f"{'':28}{'wall (median)':>15}{'peak RSS':>12}")
    print(f"{'swerm rerank':28}{t_sw:>13.3f} s{m_sw:>9.1f} MB")
    print(f"{'swerm rerank, same -o again':28}{t_again:>13.3f} s{m_again:>9.1f} MB")
    print(f"{'python json.loads only':28}{t_parse:>13.3f} s{m_parse:>9.1f} MB")
    if reference:
        t_py = statistics.median(timed(py) for _ in range(a.repeat))
        m_py = peak_rss_mb(py)
        print(f"{'python reference (whole job)':28}{t_py:>13.3f} s{m_py:>9.1f} MB")
    print(f"ratio swerm / python parse: time {t_sw / t_parse:.2f}, peak RSS / input size {m_sw / size:.2f}")
    print(f"ratio again / fresh: time {t_again / t_sw:.2f}, peak RSS {m_again / m_sw:.2f}")
    if reference:
        rep = json.load(open(os.path.join(out, "report.json")))
        peer_m = json.load(open(os.path.join(d, "peer.json")))
        agree = all(abs(rep["best_at_k"][k] - v) < 1e-9 for k, v in peer_m["best_at_k"].items())
        print(f"ratio reference / swerm: time {t_py / t_sw:.1f}x, memory {m_py / m_sw:.1f}x")
        print(f"same best@k as the reference: {agree}")
    if a.old_binary:
        # One binary's runs after the other's caught this machine's busy spells unevenly:
        # the two take turns, each into a fresh folder, and each one's peak RSS is the median.
        old = [a.old_binary] + sw[1:]
        t_new, t_old, m_new, m_old = [], [], [], []
        for _ in range(a.repeat):
            t_old.append(timed(old, out))
            t_new.append(timed(sw, out))
            shutil.rmtree(out, ignore_errors=True)
            m_old.append(peak_rss_mb(old))
            shutil.rmtree(out, ignore_errors=True)
            m_new.append(peak_rss_mb(sw))
        tn, to = statistics.median(t_new), statistics.median(t_old)
        mn, mo = statistics.median(m_new), statistics.median(m_old)
        print(f"side by side, taking turns ({a.repeat} each, fresh -o):")
        print(f"{'  swerm rerank':28}{tn:>13.3f} s{mn:>9.1f} MB  (times {' '.join(f'{t:.3f}' for t in sorted(t_new))})")
        print(f"{'  old binary':28}{to:>13.3f} s{mo:>9.1f} MB  (times {' '.join(f'{t:.3f}' for t in sorted(t_old))})")
        print(f"ratio swerm / old: time {tn / to:.2f}, peak RSS {mn / mo:.2f}; peak RSS / input size {mn / size:.2f} (old {mo / size:.2f})")
    if a.instances * a.runs <= 20000:
        print(f"goal (< 1 s, < 200 MB): {'met' if t_sw < 1 and m_sw < 200 else 'NOT met'}")
    else:
        ok = t_sw <= t_parse and m_sw < size
        print(f"goal (time <= python parse, peak RSS < input): {'met' if ok else 'NOT met'}")
        ok = t_sw <= 0.5 * t_parse and t_again <= t_sw and max(m_sw, m_again) < size
        print(f"goal of issue 39 (time <= 0.5x python parse, again <= fresh, peak RSS < input): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
