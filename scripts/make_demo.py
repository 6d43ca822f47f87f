#!/usr/bin/env python3
"""Writes fixtures/demo/: a small synthetic best-of-6 data set in every input format swerm
reads, with harness reports in all four shapes, and fixtures/demo/expected.json: the labels,
consensus scores and metrics computed independently by swerm_reference.py.

    python3 scripts/make_demo.py          # rewrites fixtures/demo/

Deterministic (seeded); the content is invented (shapes follow real SWE-bench runs:
patches of a few hundred bytes to a few KB, empty and missing candidates, CRLF, a leading
blank line in SWE-agent patches).
"""

import json
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swerm_reference as ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "demo")
RUNS = ["run-a", "run-b", "run-c", "run-d", "run-e", "run-f"]
# (format, report shape) per run
LAYOUT = {
    "run-a": ("predictions-jsonl", "harness-v2"),
    "run-b": ("predictions-array", "category-list"),
    "run-c": ("openhands", "per-instance"),
    "run-d": ("sweagent", "final_report"),
    "run-e": ("chat", "category-list"),
    "run-f": ("predictions-jsonl-crlf", "per-instance"),
}
SKILL = {"run-a": 0.45, "run-b": 0.35, "run-c": 0.5, "run-d": 0.3, "run-e": 0.55, "run-f": 0.4}
MODULES = ["parser", "units", "forms", "io/ascii", "printing", "core/indexing"]


def make_patch(rng, path, fix, body_lines):
    ctx = [f"    value_{i} = compute({i})" for i in range(body_lines)]
    h1 = "%07x" % rng.getrandbits(28)
    h2 = "%07x" % rng.getrandbits(28)
    lines = [
        f"diff --git a/{path} b/{path}",
        f"index {h1}..{h2} 100644",
        f"--- a/{path}",
        f"+++ b/{path}",
        f"@@ -10,{len(ctx) + 1} +10,{len(ctx) + 1} @@ def handle(request):",
        *[" " + c for c in ctx[: len(ctx) // 2]],
        "-    return old_behaviour(request)",
        f"+    return {fix}",
        *[" " + c for c in ctx[len(ctx) // 2 :]],
    ]
    return "\n".join(lines) + "\n"


def trajectory(rng, iid, patch, resolved):
    issue = f"Issue in {iid}: handle() returns the wrong value for empty input.\nSteps: call handle('') — expected 0, got None. Ünïcode in the report: naïve café."
    return [
        {"role": "system", "content": "You are a helpful software engineer."},
        {"role": "user", "content": [{"type": "text", "text": issue}]},
        {
            "role": "assistant",
            "content": "Let me look at the code.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "execute_bash", "arguments": json.dumps({"command": "grep -n handle src/app.py", "timeout": 120})},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "name": "execute_bash", "content": "12:def handle(request):\n<judgement>not a real tag</judgement>"},
        {"role": "assistant", "content": "I made the change:\n" + (patch or "(no change)")},
        {"role": "user", "content": "Tests " + ("pass." if resolved else "still fail.")},
        {"role": "user", "content": "Please finish."},
        {"role": "assistant", "content": "Done."},
    ]


def main():
    rng = random.Random(20261121)
    instances = [f"acme__{m.split('/')[-1]}-{1000 + 37 * j}" for j in range(4) for m in MODULES]
    instances = sorted(instances)
    # Per instance: the correct fix and some wrong ones.
    truth = {}
    for iid in instances:
        path = f"src/{rng.choice(MODULES)}/{iid.split('-')[-1]}.py"
        n = rng.randint(3, 40)
        good = make_patch(rng, path, "new_behaviour(request) or 0", n)
        bad = [make_patch(rng, path, f"fallback_{v}(request)", n) for v in range(rng.randint(1, 3))]
        truth[iid] = (good, bad)

    cands = {}  # (iid, run) -> (patch or None (missing record) / "" (empty), label)
    for run in RUNS:
        for iid in instances:
            x = rng.random()
            good, bad = truth[iid]
            if x < 0.08:
                continue  # hole: no record
            if x < 0.14:
                cands[(iid, run)] = ("", False)
            elif rng.random() < SKILL[run]:
                cands[(iid, run)] = (good, True)
            else:
                cands[(iid, run)] = (rng.choice(bad), False)

    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(os.path.join(ROOT, "runs"))
    os.makedirs(os.path.join(ROOT, "reports"))

    def records(run):
        for iid in instances:
            if (iid, run) in cands:
                yield iid, *cands[(iid, run)]

    for run in RUNS:
        fmt, shape = LAYOUT[run]
        base = os.path.join(ROOT, "runs", run)
        if fmt == "predictions-jsonl":
            with open(base + ".jsonl", "w", encoding="utf-8", newline="\n") as f:
                for iid, p, _ in records(run):
                    rec = {"instance_id": iid, "model_name_or_path": "demo-agent", "model_patch": p if p else None}
                    f.write(json.dumps(rec) + "\n")
        elif fmt == "predictions-jsonl-crlf":
            with open(base + ".jsonl", "w", encoding="utf-8", newline="\n") as f:
                for iid, p, _ in records(run):
                    f.write(json.dumps({"instance_id": iid, "model_name_or_path": "demo-agent", "model_patch": p.replace("\n", "\r\n")}) + "\n")
        elif fmt == "predictions-array":
            arr = [{"instance_id": iid, "model_name_or_path": "demo-agent", "model_patch": p} for iid, p, _ in records(run)]
            with open(base + ".json", "w", encoding="utf-8") as f:
                json.dump(arr, f, indent=1)
        elif fmt == "openhands":
            with open(base + ".jsonl", "w", encoding="utf-8") as f:
                for iid, p, lab in records(run):
                    hist = trajectory(rng, iid, p, lab)
                    rec = {
                        "instance_id": iid,
                        "instance": {"instance_id": iid, "problem_statement": hist[1]["content"][0]["text"]},
                        "history": [{"source": "agent" if m["role"] == "assistant" else "user", "message": m["content"] if isinstance(m["content"], str) else m["content"][0]["text"]} for m in hist],
                        "test_result": {"git_patch": p},
                        "report": {"resolved": lab},
                    }
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        elif fmt == "sweagent":
            os.makedirs(base)
            for iid, p, lab in records(run):
                hist = trajectory(rng, iid, p, lab)
                steps = [{"thought": "Looking.", "action": "grep -n handle src/app.py", "observation": "12:def handle(request):", "response": "Looking.\n```\ngrep -n handle src/app.py\n```", "state": "{}"}]
                traj = {
                    "environment": "swe_main",
                    "trajectory": steps,
                    "history": [{"role": m["role"], "content": m["content"] if isinstance(m["content"], str) else m["content"][0]["text"], "agent": "primary"} for m in hist if m["role"] != "tool"],
                    "info": {"exit_status": "submitted" if p else "exit_cost", "submission": ("\n" + p) if p else None, "model_stats": {"instance_cost": 0.5}},
                }
                with open(os.path.join(base, iid + ".traj"), "w", encoding="utf-8") as f:
                    json.dump(traj, f, indent=2, ensure_ascii=False)
        elif fmt == "chat":
            with open(base + ".jsonl", "w", encoding="utf-8") as f:
                for iid, p, lab in records(run):
                    rec = {"instance_id": iid, "messages": trajectory(rng, iid, p, lab), "model_patch": p, "resolved": lab}
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")

        resolved = [iid for iid, _, lab in records(run) if lab]
        attempted = [iid for iid, p, _ in records(run)]
        if shape == "harness-v2":
            rep = {
                "schema_version": 2,
                "total_instances": len(instances),
                "submitted_instances": len(attempted),
                "resolved_instances": len(resolved),
                "resolved_ids": resolved,
                "unresolved_ids": [i for i, p, lab in records(run) if p and not lab],
                "empty_patch_ids": [i for i, p, _ in records(run) if not p],
                "error_ids": [],
            }
        elif shape == "category-list":
            rep = {
                "no_generation": [i for i, p, _ in records(run) if not p],
                "generated": [i for i, p, _ in records(run) if p],
                "with_logs": [i for i, p, _ in records(run) if p],
                "no_apply": [],
                "applied": [i for i, p, _ in records(run) if p],
                "resolved": resolved,
            }
        elif shape == "final_report":
            rep = {"stats": {"resolved": len(resolved)}, "resolved": resolved, "resolved_per_project": {}}
        else:  # per-instance
            rep = {i: {"patch_is_None": not p, "patch_successfully_applied": bool(p), "resolved": lab, "tests_status": {}} for i, p, lab in records(run)}
        with open(os.path.join(ROOT, "reports", run + ".json"), "w", encoding="utf-8") as f:
            json.dump(rep, f, indent=1)

    # Expectations, from the reference implementation.
    grid = {}
    for iid in instances:
        patches = [cands.get((iid, run), (None, False))[0] for run in RUNS]
        scores = ref.consensus_scores(patches)
        grid[iid] = [(scores[r], cands.get((iid, run), (None, False))[1], not ref.normalize_patch(patches[r]),
                      ref.content_key(patches[r]), None, (iid, run) not in cands) for r, run in enumerate(RUNS)]
    expected = {
        "runs": RUNS,
        "holes": sum((i, r) not in cands for i in instances for r in RUNS),
        "candidates": {iid: {run: {"score": grid[iid][r][0], "resolved": grid[iid][r][1]} for r, run in enumerate(RUNS)} for iid in instances},
        "metrics": ref.metrics(grid),
    }
    with open(os.path.join(ROOT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, indent=1)
    with open(os.path.join(ROOT, "instances.txt"), "w") as f:
        f.write("\n".join(instances + ["acme__unattempted-9999"]) + "\n")
    m = expected["metrics"]
    print(f"wrote {ROOT}: {len(instances)} instances x {len(RUNS)} runs, {expected['holes']} holes; "
          f"pass@1 {m['pass_at_k']['1']:.3f} pass@6 {m['pass_at_k']['6']:.3f} best@6 {m['best_at_k']['6']:.3f}")


if __name__ == "__main__":
    main()
