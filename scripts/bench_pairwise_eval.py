#!/usr/bin/env python3
"""What a pairwise judge's best@k costs at RL scale: `swerm eval` of a synthetic pairwise store
(INSTANCES x RUNS, every instance a tournament: a ring pass plus 3 pivots, both orders), timed
beside `swerm eval` of the same scores as a pointwise store (best@k in closed form).

    python3 scripts/bench_pairwise_eval.py [--instances 2438] [--runs 64] [--repeat 3] [--unsolved 0.4] [--rate 0.1] [--old-binary PATH]

Prints both wall times (best of --repeat, every command taking its turn in each repeat) and
their ratio. The comparisons are random (no model runs); the numbers measure the metrics, not a
judge.
"""

import argparse
import json
import os
import random
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SWERM = os.path.join(HERE, "..", "target", "release", "swerm")


def write_store(d, instances, runs, pairwise, seed=0, unsolved=0.0, solve_rate=0.4):
    rnd = random.Random(seed)
    os.makedirs(d, exist_ok=True)
    scorer = {"kind": "verifier", "model": "/bench/judge", "preset": "swegym", "answers": ["A", "B"],
              "max_tokens": None, "dtype": "bf16"}
    if pairwise:
        scorer["pairwise"] = {"round_robin_max": 8, "pivots": 3}
    json.dump({"format": "swerm-scores/1", "scorer": scorer}, open(os.path.join(d, "scores.settings.json"), "w"))
    names = [f"run-{r:03}" for r in range(runs)]
    with open(os.path.join(d, "scores.jsonl"), "w") as s, open(os.path.join(d, "pairs.jsonl"), "w") as p:
        for i in range(instances):
            iid = f"bench__inst-{i:05}"
            rate = 0.0 if (i * 7919 % 1000) / 1000 < unsolved else solve_rate
            for r, name in enumerate(names):
                s.write(json.dumps({"instance_id": iid, "run": name, "score": rnd.random() * (runs - 1),
                                    "empty": False, "resolved": rnd.random() < rate,
                                    "patch_hash": f"{rnd.getrandbits(64):016x}"}) + "\n")
            if not pairwise:
                continue
            order = list(range(runs))
            rnd.shuffle(order)
            un = lambda x, y: (min(x, y), max(x, y))  # noqa: E731
            pairs = {un(order[t], order[(t + 1) % runs]) for t in range(runs)}
            for piv in order[:3]:
                pairs |= {un(piv, o) for o in range(runs) if o != piv}
            lines = []
            for a, b in sorted(pairs):
                for x, y in [(a, b), (b, a)]:
                    lines.append((names[x], names[y], rnd.random()))
            # In the order swerm's final rewrite leaves a store: sorted by (instance, a, b).
            for x, y, p_a in sorted(lines):
                p.write(json.dumps({"instance_id": iid, "a": x, "b": y, "p_a": p_a}) + "\n")


def timed_round_robin(runs, repeat):
    """Best wall time of each command, the commands taking turns in every repeat, so that a
    busy spell of the machine falls on all of them alike."""
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for i, args in enumerate(runs):
            t = time.perf_counter()
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=2438)
    ap.add_argument("--runs", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--unsolved", type=float, default=0.0,
                    help="share of instances no rollout solves")
    ap.add_argument("--rate", type=float, default=0.4, help="each rollout of the other instances solves with this p")
    ap.add_argument("--binary", default=SWERM, help="the swerm to time (default: target/release/swerm)")
    ap.add_argument("--old-binary", help="also time this one, side by side (e.g. a build of an earlier commit)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as w:
        pw, pt = os.path.join(w, "pairwise"), os.path.join(w, "pointwise")
        write_store(pw, a.instances, a.runs, True, unsolved=a.unsolved, solve_rate=a.rate)
        write_store(pt, a.instances, a.runs, False, unsolved=a.unsolved, solve_rate=a.rate)
        n_pairs = sum(1 for _ in open(os.path.join(pw, "pairs.jsonl")))
        print(f"{a.instances} instances x {a.runs} runs, {n_pairs} comparisons ({os.cpu_count()} cores, best of {a.repeat})")
        binaries = [("", a.binary)] + ([("old ", a.old_binary)] if a.old_binary else [])
        runs = []
        for _, binary in binaries:
            runs.append([binary, "eval", "--scores", pw, "-q", "-o", os.path.join(w, "e1")])
            runs.append([binary, "eval", "--scores", pt, "-q", "-o", os.path.join(w, "e2")])
        times = timed_round_robin(runs, a.repeat)
        for b, (name, _) in enumerate(binaries):
            t_pw, t_pt = times[2 * b], times[2 * b + 1]
            print(f"  {name}swerm eval, pairwise store (best@k by subsets): {t_pw:7.2f} s")
            print(f"  {name}swerm eval, pointwise store (closed form):      {t_pt:7.2f} s")
            print(f"  {name}ratio pairwise / pointwise: {t_pw / t_pt:.1f}x")

if __name__ == "__main__":
    main()
