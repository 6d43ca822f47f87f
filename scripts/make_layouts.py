#!/usr/bin/env python3
"""Writes fixtures/layouts/: the directory layouts agents actually write, in the shapes their
writer code produces (../shared/spec/formats.md, "Layouts agents actually write"), with
content made up here (nothing copied from real runs). Standard library, and pyarrow for the
parquet dataset (pip install pyarrow).

    python3 scripts/make_layouts.py

Layouts (3 instances each, every patch non-empty, every trajectory holding its issue text):

  sweagent-1x/run-sa1/<iid>/<iid>.traj (+ .pred, .patch), preds.json, run_batch.config.yaml
      SWE-agent 1.x batch run; history starts with an is_demo demonstration
  sweagent-0x/run-sa0/<iid>.traj, all_preds.jsonl       SWE-agent 0.x flat run
  mini/run-mini/preds.json, <iid>/<iid>.traj.json          mini-swe-agent run
  openhands/gpt_maxiter_30_N_v1/output.jsonl               two OpenHands runs whose files are
  openhands/qwen_maxiter_30_N_v1/output.jsonl              both called output.jsonl, the second
  openhands/qwen_maxiter_30_N_v1/output.critic_attempt_1.jsonl   with a critic attempt; events
                                                           with recall/workspace-context bookkeeping
  openhands-v0/cmd_maxiter_30/output.jsonl                 OpenHands v0 records ([action, observation]
                                                           pairs, top-level git_patch, instruction)
  bom/preds-bom.jsonl                                      SWE-bench predictions behind a UTF-8 BOM
  acr/acr-run-x/applicable_patch/<iid>_<timestamp>/         AutoCodeRover run: problem_statement.txt,
                                                           conversation_round_<N>.json, two patch
                                                           attempts for one instance (the last is
                                                           submitted), debug_agent_write_patch_<N>.json
                                                           for two of three instances,
                                                           predictions_for_swebench.json
  experiments/evaluation/lite/<date>_<name>/               SWE-bench/experiments submissions:
                                                           all_preds.jsonl, metadata.yaml, labels in
                                                           results/results.json or logs/<iid>/report.json,
                                                           trajs/ (.traj files and a Markdown log)
  harness-logs/logs/run_evaluation/<run_id>/<model>/<iid>/ harness logs (report.json, patch.diff,
                                                           test_output.txt) for the bom predictions;
                                                           run_id two-models holds two model folders
  mixed/demos/                                             run folder run-a beside loose .traj files
  mini-old/run-old/<iid>/<iid>.traj.json, preds.json       mini-swe-agent before trajectory_format 1:
                                                           bare message lists, patches in preds.json
  multi-swe/multi-preds.jsonl                              Multi-SWE-bench predictions (org, repo,
                                                           number, fix_patch)
  dataset/swebench/data/{test,dev}-00000-of-00001.parquet  a SWE-bench-style dataset (pyarrow, snappy,
  dataset/swebench.jsonl                                   as the hub stores it) and a JSONL export;
                                                           gold patch and tests hold forbidden markers
  expected.json                                            per layout: run names, instance ids, the
                                                           issue text of each instance, and the
                                                           strings no prompt may contain
"""

import json
import os
import shutil

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "fixtures", "layouts")

INSTANCES = ["layout__pkg-101", "layout__pkg-202", "layout__tool-303"]
ISSUE = {iid: f"Issue {iid}: calling frob() on an empty list raises IndexError (layout fixture {n})."
         for n, iid in enumerate(INSTANCES)}
DEMO = "--- DEMONSTRATION ---\nHere is a solved example from another repository: DEMO_SECRET_MARKER."
RECALL = "Added workspace context: RECALL_SECRET_MARKER"


def patch(iid, variant):
    return (f"diff --git a/pkg/{iid}.py b/pkg/{iid}.py\n--- a/pkg/{iid}.py\n+++ b/pkg/{iid}.py\n"
            f"@@ -1,2 +1,3 @@\n def frob(xs):\n+    if not xs: return None  # {variant}\n     return xs[0]\n")


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_json(path, value, indent=None):
    write(path, json.dumps(value, indent=indent, ensure_ascii=False) + "\n")


def sweagent_history(iid):
    # SWE-agent 1.x history: system, the demonstration (is_demo), the task, then the agent's work.
    return [
        {"role": "system", "content": "SETTING: You are an autonomous programmer.", "agent": "main",
         "message_type": "system_prompt"},
        {"role": "user", "content": DEMO, "agent": "main", "message_type": "demonstration", "is_demo": True},
        {"role": "user", "content": f"<uploaded_files>/repo</uploaded_files>\n{ISSUE[iid]}", "agent": "main",
         "message_type": "observation"},
        {"role": "assistant", "content": "Let me look at frob.", "thought": "Let me look at frob.",
         "action": "open pkg/frob.py", "agent": "main", "message_type": "action"},
        {"role": "user", "content": "[File: pkg/frob.py]\n1:def frob(xs):\n2:    return xs[0]", "agent": "main",
         "message_type": "observation"},
        {"role": "assistant", "content": "Guard the empty case, then submit.", "thought": "Guard it.",
         "action": "submit", "agent": "main", "message_type": "action"},
    ]


def sweagent_traj(iid, variant):
    return {
        "trajectory": [{"action": "open pkg/frob.py", "observation": "...", "response": "Let me look.",
                        "thought": "Let me look.", "state": "{}"}],
        "history": sweagent_history(iid),
        "info": {"submission": "\n" + patch(iid, variant), "exit_status": "submitted",
                 "model_stats": {"instance_cost": 0.1}},
        "environment": "swe_main",
    }


def sweagent_1x():
    run = os.path.join(OUT, "sweagent-1x", "run-sa1")
    preds = {}
    for iid in INSTANCES:
        t = sweagent_traj(iid, "sa1")
        write_json(os.path.join(run, iid, f"{iid}.traj"), t, indent=2)
        pred = {"model_name_or_path": "sa1", "instance_id": iid, "model_patch": t["info"]["submission"]}
        write_json(os.path.join(run, iid, f"{iid}.pred"), pred)
        write(os.path.join(run, iid, f"{iid}.patch"), t["info"]["submission"])
        preds[iid] = pred
    write_json(os.path.join(run, "preds.json"), preds, indent=2)
    write(os.path.join(run, "run_batch.config.yaml"), "agent:\n  model:\n    name: sa1\n")


def sweagent_0x():
    run = os.path.join(OUT, "sweagent-0x", "run-sa0")
    lines = []
    for iid in INSTANCES:
        t = sweagent_traj(iid, "sa0")
        del t["history"][1]["message_type"], t["history"][1]["agent"]  # 0.x: is_demo only
        write_json(os.path.join(run, f"{iid}.traj"), t, indent=2)
        lines.append(json.dumps({"model_name_or_path": "sa0", "instance_id": iid,
                                 "model_patch": t["info"]["submission"]}))
    write(os.path.join(run, "all_preds.jsonl"), "\n".join(lines) + "\n")


def mini():
    run = os.path.join(OUT, "mini", "run-mini")
    preds = {}
    for iid in INSTANCES:
        p = patch(iid, "mini")
        t = {
            "info": {"exit_status": "Submitted", "submission": p, "model_stats": {"api_calls": 3}},
            "messages": [
                {"role": "system", "content": "You are a helpful assistant that can interact with a computer."},
                {"role": "user", "content": f"<pr_description>\n{ISSUE[iid]}\n</pr_description>"},
                {"role": "assistant", "content": "THOUGHT: inspect.\n\n```bash\ncat pkg/frob.py\n```"},
                {"role": "user", "content": "<returncode>0</returncode>\n<output>def frob(xs):</output>"},
                {"role": "assistant", "content": "THOUGHT: done.\n\n```bash\necho COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n```"},
            ],
            "trajectory_format": "mini-swe-agent-1",
            "instance_id": iid,
        }
        write_json(os.path.join(run, iid, f"{iid}.traj.json"), t, indent=2)
        preds[iid] = {"model_name_or_path": "mini", "instance_id": iid, "model_patch": p}
    write_json(os.path.join(run, "preds.json"), preds, indent=2)


def openhands_record(iid, variant, attempt=None):
    history = [
        {"id": 0, "source": "agent", "action": "system", "args": {"content": "You are OpenHands agent."}},
        {"id": 1, "source": "user", "action": "message", "args": {"content": ISSUE[iid]}},
        {"id": 2, "source": "user", "action": "recall", "args": {"query": ISSUE[iid], "recall_type": "workspace_context"}},
        {"id": 3, "source": "environment", "observation": "recall", "message": RECALL,
         "content": RECALL, "extras": {"recall_type": "workspace_context"}},
        {"id": 4, "source": "agent", "action": "run", "message": "Running command: cat pkg/frob.py",
         "args": {"command": "cat pkg/frob.py", "thought": "Read the function."},
         "tool_call_metadata": {"function_name": "execute_bash", "tool_call_id": "c1", "model_response": {
             "id": f"resp-{iid}-1", "choices": [{"message": {"role": "assistant", "content": "Read the function.",
                 "tool_calls": [{"id": "c1", "type": "function", "function": {
                     "name": "execute_bash", "arguments": "{\"command\": \"cat pkg/frob.py\"}"}}]}}]}}},
        {"id": 5, "source": "agent", "observation": "run", "content": "def frob(xs):\n    return xs[0]",
         "tool_call_metadata": {"function_name": "execute_bash", "tool_call_id": "c1"}},
        {"id": 6, "source": "agent", "action": "finish", "message": "I guarded the empty list."},
    ]
    rec = {"instance_id": iid, "instance": {"instance_id": iid, "problem_statement": ISSUE[iid]},
           "instruction": ISSUE[iid], "history": history,
           "test_result": {"git_patch": patch(iid, variant)}, "metadata": {"agent_class": "CodeActAgent"}}
    if attempt is not None:
        rec["attempt"] = attempt
    return rec


def openhands():
    for model in ["gpt", "qwen"]:
        d = os.path.join(OUT, "openhands", f"{model}_maxiter_30_N_v1")
        write(os.path.join(d, "output.jsonl"),
              "".join(json.dumps(openhands_record(i, model)) + "\n" for i in INSTANCES))
        write_json(os.path.join(d, "report.json"), {"resolved": [INSTANCES[0]] if model == "gpt" else []})
    d = os.path.join(OUT, "openhands", "qwen_maxiter_30_N_v1")
    write(os.path.join(d, "output.critic_attempt_1.jsonl"),
          "".join(json.dumps(openhands_record(i, "qwen-critic")) + "\n" for i in INSTANCES))


def openhands_v0():
    d = os.path.join(OUT, "openhands-v0", "cmd_maxiter_30")
    lines = []
    for iid in INSTANCES:
        history = [
            [{"source": "user", "action": "message", "args": {"content": ISSUE[iid], "wait_for_response": False},
              "message": ISSUE[iid]},
             {"source": "user", "observation": "null", "content": "", "message": "No observation"}],
            [{"source": "agent", "action": "run", "args": {"command": "cat pkg/frob.py", "thought": "Read it first."},
              "message": "Running command: cat pkg/frob.py"},
             {"source": "agent", "observation": "run", "content": "def frob(xs):\n    return xs[0]",
              "extras": {"command": "cat pkg/frob.py", "exit_code": 0}}],
        ]
        lines.append(json.dumps({"instance_id": iid, "instruction": ISSUE[iid], "git_patch": patch(iid, "v0"),
                                 "history": history, "test_result": {"result": {"resolved": iid == INSTANCES[1]}},
                                 "metadata": {"agent_class": "CodeActAgent"}}))
    write(os.path.join(d, "output.jsonl"), "\n".join(lines) + "\n")


def bom():
    text = "".join(json.dumps({"instance_id": i, "model_name_or_path": "bom", "model_patch": patch(i, "bom")}) + "\n"
                   for i in INSTANCES)
    write(os.path.join(OUT, "bom", "preds-bom.jsonl"), "\ufeff" + text)


ACR_SYSTEM = "You are a software developer maintaining a large project."
GOLD = "GOLD_PATCH_MARKER"
ACR_FEEDBACK = "Extracted a patch. ACR_FEEDBACK_MARKER: the tests passed."
HIDDEN = "HIDDEN_TEST_MARKER"


def acr():
    run = os.path.join(OUT, "acr", "acr-run-x")
    preds = []
    for n, iid in enumerate(INSTANCES):
        d = os.path.join(run, "applicable_patch", f"{iid}_2024-04-0{n + 1}_12-3{n}-09")
        write(os.path.join(d, "problem_statement.txt"), ISSUE[iid])
        conv = [
            {"role": "system", "content": ACR_SYSTEM},
            {"role": "user", "content": f"<issue>{ISSUE[iid]}\n</issue>"},
            {"role": "assistant", "content": "search_method(\"frob\")"},
            {"role": "user", "content": "Result of search_method(\"frob\"): def frob(xs): return xs[0]"},
        ]
        write_json(os.path.join(d, "conversation_round_0.json"), conv[:2], indent=4)
        write_json(os.path.join(d, "conversation_round_2.json"),
                   conv + [{"role": "assistant", "content": "Write a patch guarding the empty list."}], indent=4)
        write_json(os.path.join(d, "tool_call_sequence.json"), [{"func_name": "search_method"}], indent=4)
        write_json(os.path.join(d, "cost.json"), {"model": "gpt-4-0125-preview", "cost": 0.5}, indent=4)
        attempts = ["acr-first", "acr"] if n == 0 else ["acr"]
        for k, variant in enumerate(attempts, 1):
            write(os.path.join(d, f"agent_patch_raw_{k}"), "# modification 1\n...")
            write(os.path.join(d, f"extracted_patch_{k}.diff"), patch(iid, variant))
        # The patch-writing agent's conversation (the rounds above stop before the patch): one
        # assistant turn per attempt in ACR's <file>/<original>/<patched> form, re-indented as
        # ACR writes it, each followed by feedback. Instance 0 keeps only its last attempt's file
        # (as runs that validate patches do), holding both attempts; instance 2 has none (the
        # prompt must then add the patch itself). The feedback on the submitted attempt says
        # whether the tests passed: it must never reach a prompt.
        if n < 2:
            write_patch = conv[:2] + [{"role": "user", "content": "Write a patch for the issue, based on the retrieved context."}]
            for k, variant in enumerate(attempts, 1):
                write_patch.append({"role": "assistant", "content": (
                    f"# modification 1\n```python\n<file>pkg/{iid}.py</file>\n<original>def frob(xs):\n    return xs[0]</original>\n"
                    f"<patched>def frob(xs):\nif not xs: return None  # {variant}\n    return xs[0]</patched>\n```")})
                last = k == len(attempts)
                write_patch.append({"role": "user", "content": ACR_FEEDBACK if last else "Written an applicable patch, but it did not resolve the issue. Please try again."})
            write_json(os.path.join(d, f"debug_agent_write_patch_{len(attempts)}.json"), write_patch, indent=4)
        write_json(os.path.join(d, "extract_status.json"), {"extract_status": ["APPLICABLE_PATCH"] * len(attempts)}, indent=4)
        preds.append({"instance_id": iid, "model_name_or_path": "gpt-4-0125-preview", "model_patch": patch(iid, "acr")})
    write_json(os.path.join(run, "predictions_for_swebench.json"), preds, indent=4)
    write(os.path.join(run, "tasks.txt"), "\n".join(INSTANCES) + "\n")


def per_instance_report(iid, resolved):
    return {iid: {"patch_is_None": False, "patch_exists": True, "patch_successfully_applied": True,
                  "resolved": resolved, "tests_status": {"FAIL_TO_PASS": {"success": [], "failure": []}}}}


def instance_logs(d, iid, resolved, variant):
    write_json(os.path.join(d, iid, "report.json"), per_instance_report(iid, resolved), indent=4)
    write(os.path.join(d, iid, "patch.diff"), patch(iid, variant))
    write(os.path.join(d, iid, "test_output.txt"), "+ pytest tests/test_frob.py\n1 passed\n")


def experiments():
    base = os.path.join(OUT, "experiments", "evaluation", "lite")
    # A SWE-agent submission: labels in results/results.json, trajectories in trajs/.
    d = os.path.join(base, "20240402_sweagent_gpt4")
    lines = [json.dumps({"instance_id": i, "model_name_or_path": "sweagent_gpt4", "model_patch": patch(i, "exp-sa")})
             for i in INSTANCES]
    write(os.path.join(d, "all_preds.jsonl"), "\n".join(lines) + "\n")
    write(os.path.join(d, "metadata.yaml"), "name: SWE-agent + GPT 4\noss: true\nsite: https://swe-agent.com\n")
    write_json(os.path.join(d, "results", "results.json"),
               {"no_generation": [], "generated": INSTANCES, "with_logs": INSTANCES, "install_fail": [],
                "reset_failed": [], "no_apply": [], "applied": INSTANCES, "test_errored": [], "test_timeout": [],
                "resolved": [INSTANCES[0]]}, indent=2)
    for i in INSTANCES:
        instance_logs(os.path.join(d, "logs"), i, i == INSTANCES[0], "exp-sa")
    for i in INSTANCES[:2]:
        write_json(os.path.join(d, "trajs", f"{i}.traj"), sweagent_traj(i, "exp-sa"), indent=2)
    write(os.path.join(d, "trajs", f"{INSTANCES[2]}.md"), "# a log in Markdown\n")
    # An AutoCodeRover submission: labels only in logs/.
    d = os.path.join(base, "20240509_autocoderover")
    lines = [json.dumps({"instance_id": i, "model_name_or_path": "acr", "model_patch": patch(i, "exp-acr")})
             for i in INSTANCES]
    write(os.path.join(d, "all_preds.jsonl"), "\n".join(lines) + "\n")
    write(os.path.join(d, "metadata.yaml"), "name: AutoCodeRover\noss: true\n")
    for i in INSTANCES:
        instance_logs(os.path.join(d, "logs"), i, i == INSTANCES[1], "exp-acr")


def harness_logs():
    base = os.path.join(OUT, "harness-logs", "logs", "run_evaluation")
    for i in INSTANCES:
        instance_logs(os.path.join(base, "my-run", "preds-bom"), i, i == INSTANCES[2], "bom")
    for model in ["model-a", "model-b"]:
        instance_logs(os.path.join(base, "two-models", model), INSTANCES[0], True, model)
        write(os.path.join(base, "two-models", model, INSTANCES[0], "run_instance.log"), "log\n")


def mixed():
    d = os.path.join(OUT, "mixed", "demos")
    for iid in INSTANCES:
        write_json(os.path.join(d, f"{iid}.traj"), sweagent_traj(iid, "loose"), indent=2)
        write_json(os.path.join(d, "run-a", f"{iid}.traj"), sweagent_traj(iid, "run-a"), indent=2)


def mini_old():
    run = os.path.join(OUT, "mini-old", "run-old")
    preds = {}
    for iid in INSTANCES:
        messages = [
            {"role": "system", "content": "You are a helpful assistant that can interact with a computer."},
            {"role": "user", "content": f"<pr_description>\n{ISSUE[iid]}\n</pr_description>"},
            {"role": "assistant", "content": "THOUGHT: inspect.\n\n```bash\ncat pkg/frob.py\n```"},
            {"role": "user", "content": "<returncode>0</returncode>\n<output>def frob(xs):</output>"},
        ]
        write_json(os.path.join(run, iid, f"{iid}.traj.json"), messages, indent=2)
        preds[iid] = {"model_name_or_path": "mini-old", "instance_id": iid, "model_patch": patch(iid, "mini-old")}
    write_json(os.path.join(run, "preds.json"), preds, indent=2)


def multi_swe():
    lines = []
    for iid in INSTANCES:
        org, rest = iid.split("__")
        repo, number = rest.rsplit("-", 1)
        lines.append(json.dumps({"org": org, "repo": repo, "number": int(number), "fix_patch": patch(iid, "multi")}))
    write(os.path.join(OUT, "multi-swe", "multi-preds.jsonl"), "\n".join(lines) + "\n")


def dataset():
    import pyarrow as pa
    import pyarrow.parquet as pq
    ids = INSTANCES + ["layout__extra-404"]
    issue = dict(ISSUE, **{"layout__extra-404": "Issue layout__extra-404: not attempted by any run."})
    def rows(split):
        text = (lambda i: issue[i]) if split == "test" else (lambda i: f"DEV_SPLIT_MARKER {i}")
        return {
            "repo": ["layout/pkg"] * len(ids), "instance_id": ids, "base_commit": ["0" * 40] * len(ids),
            "patch": [f"{GOLD} diff for {i}" for i in ids], "test_patch": [f"{HIDDEN} tests for {i}" for i in ids],
            "problem_statement": [text(i) for i in ids], "hints_text": [""] * len(ids),
            "created_at": ["2024-01-01T00:00:00Z"] * len(ids), "version": ["1.0"] * len(ids),
            "FAIL_TO_PASS": ['["tests/test_frob.py::test_empty"]'] * len(ids),
            "PASS_TO_PASS": ["[]"] * len(ids), "environment_setup_commit": ["1" * 40] * len(ids),
        }
    for split in ["test", "dev"]:
        path = os.path.join(OUT, "dataset", "swebench", "data", f"{split}-00000-of-00001.parquet")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pq.write_table(pa.table(rows(split)), path, compression="snappy")
    r = rows("test")
    write(os.path.join(OUT, "dataset", "swebench.jsonl"),
          "".join(json.dumps({k: r[k][n] for k in r}) + "\n" for n in range(len(ids))))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    acr()
    experiments()
    harness_logs()
    mixed()
    mini_old()
    multi_swe()
    dataset()
    sweagent_1x()
    sweagent_0x()
    mini()
    openhands()
    openhands_v0()
    bom()
    expected = {
        "instances": INSTANCES,
        "issues": ISSUE,
        "forbidden": ["DEMO_SECRET_MARKER", "RECALL_SECRET_MARKER", GOLD, HIDDEN, "ACR_FEEDBACK_MARKER"],
        "patch_only": ["bom/preds-bom.jsonl", "multi-swe/multi-preds.jsonl"],
        "layouts": {
            "sweagent-1x/run-sa1": ["run-sa1"],
            "sweagent-0x/run-sa0": ["run-sa0"],
            "mini/run-mini": ["run-mini"],
            "openhands": ["gpt_maxiter_30_N_v1", "qwen_maxiter_30_N_v1", "qwen_maxiter_30_N_v1.critic_attempt_1"],
            "openhands-v0/cmd_maxiter_30": ["cmd_maxiter_30"],
            "bom/preds-bom.jsonl": ["preds-bom"],
            "acr/acr-run-x": ["acr-run-x"],
            "mixed/demos": ["demos", "run-a"],
            "mini-old/run-old": ["run-old"],
            "multi-swe/multi-preds.jsonl": ["multi-preds"],
        },
    }
    write_json(os.path.join(OUT, "expected.json"), expected, indent=2)


if __name__ == "__main__":
    main()
