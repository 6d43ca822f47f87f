#!/usr/bin/env python3
"""The steps of scripts/gpu-check.sh (which unpacks the binary and sets the environment; run
that, not this). Standard library only.

Every step runs under the overall deadline (GPU_CHECK_DEADLINE_S): its own limit is cut to the
time left, and a step that cannot get its minimum is skipped and listed as skipped. After each
step $OUT/gpu-check.md is rewritten, so a run killed from outside still reports what ran.
Everything bulky (parity stores, logs) goes to $WORK; $OUT gets at most 8 small files.
Exit status: 0 all passed, 1 a step failed, 2 the device could not be opened, 3 steps skipped
at the deadline (none failed).
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

OUT, WORK, SWERM = os.environ["OUT"], os.environ["WORK"], os.environ["SWERM_BIN"]
DEADLINE = float(os.environ.get("GPU_CHECK_DEADLINE_S", "420"))
PARITY_DEVICE = os.environ.get("PARITY_DEVICE", "cuda:0")
CHECK_MODE = not PARITY_DEVICE.startswith("cuda")  # checking this script on a machine without a GPU
LAYERS = os.environ.get("LAYERS", "48")
PASSES = os.environ.get("PASSES", "2")
CONTEXTS = os.environ.get("CONTEXTS", "8192,32768,131072")
HF_CONTEXTS = os.environ.get("HF_CONTEXTS", "8192,32768")
ARCHS = ["qwen3-moe", "qwen3", "qwen2", "qwen3-moe-h32"]
PRESETS = ["swegym", "r2egym"]
START = time.monotonic()
STEPS = []  # {"step", "status", "secs", "note"}
# The files $OUT may hold (the device tool brings back at most 8).
OUT_FILES = ["gpu-check.md", "device.txt", "selftest.txt", "parity.txt", "bench.txt", "bench.json", "fit-256k.txt"]


def left():
    return DEADLINE - (time.monotonic() - START)


def run(cmd, limit, log_path, min_secs=5, env=None):
    """Runs `cmd` with its output streamed to stdout and to `log_path`, for at most `limit`
    seconds and never past the deadline. Returns (status, secs): status is the exit code,
    "timeout", or "skipped" (less than `min_secs` left)."""
    limit = min(limit, left() - 2)
    if limit < min_secs:
        return "skipped", 0.0
    t = time.monotonic()
    with open(log_path, "a", encoding="utf-8", errors="replace") as log:
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                             env=env, text=True, errors="replace")

        def pump():
            for line in p.stdout:
                sys.stdout.write(line)
                log.write(line)
                log.flush()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            rc = p.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            rc = "timeout"
        reader.join(timeout=5)
    return rc, time.monotonic() - t


def record(step, status, secs, note=""):
    if status == "skipped" and not note:
        note = "deadline (GPU_CHECK_DEADLINE_S)"
    shown = {0: "ok"}.get(status, status if isinstance(status, str) else f"FAIL (exit {status})")
    STEPS.append({"step": step, "status": shown, "secs": secs, "note": note})
    print(f"== {step}: {shown} in {secs:.0f} s {note} (t = {time.monotonic() - START:.0f} s)", flush=True)
    write_md()


def tail(path, n=40):
    if not os.path.exists(path):
        return None
    lines = open(path, encoding="utf-8", errors="replace").read().strip().splitlines()
    return "\n".join((["..."] if len(lines) > n else []) + lines[-n:])


def bench_rows():
    p = os.path.join(OUT, "bench.json")
    if not os.path.exists(p):
        return []
    try:
        b = json.load(open(p))
    except ValueError:
        return ["(bench.json unreadable: the bench was killed while writing it)"]
    meta = b.get("transformers_meta") or {}
    rows = ["", "| context | swerm tokens/s | transformers tokens/s | ratio | of 790 TFLOP/s | peak memory (pool) | profile |",
            "|---:|---:|---:|---:|---:|---:|---|"]
    for l, s in sorted(b.get("swerm", {}).items(), key=lambda kv: int(kv[0])):
        h = b.get("transformers", {}).get(l)
        ratio = f"{s['tokens_per_s'] / h['tokens_per_s']:.2f}x" if h else "n/a"
        hf = f"{h['tokens_per_s']:.0f}" if h else "n/a"
        mem = f"{s['peak_mem_gib']:.1f} GiB" if s.get("peak_mem_gib") is not None else "n/a"
        frac = "n/a" if s.get("of_ceiling") is None else f"{100 * s['of_ceiling']:.1f}%"
        rows.append(f"| {l} | {s['tokens_per_s']:.0f} | {hf} | {ratio} | {frac} | {mem} | {s.get('profile', '')} |")
    if meta:
        rows.append(f"\ntransformers: {meta.get('versions', '')}; attention {meta.get('attention')}, experts "
                    f"{meta.get('experts')}")
    return rows


def write_md():
    dev = tail(os.path.join(OUT, "device.txt"), 3) or "device unknown"
    flash = "fallback attention (SWERM_NO_FLASH_ATTN)" if os.environ.get("SWERM_NO_FLASH_ATTN") else "FlashAttention-2 when built"
    shape = "tiny-moe, f32 on the CPU (a check of the script)" if CHECK_MODE else f"qwen3-30b-a3b shape, {LAYERS} layers, bf16"
    rows = [f"# swerm GPU check\n\n{dev}; {shape}, random weights; {flash}; "
            f"deadline {DEADLINE:.0f} s, {time.monotonic() - START:.0f} s used\n",
            "| step | result | seconds | note |", "|---|---|---:|---|"]
    rows += [f"| {s['step']} | {s['status']} | {s['secs']:.0f} | {s['note']} |" for s in STEPS]
    rows += bench_rows()
    for name in ["selftest.txt", "parity.txt", "fit-256k.txt"]:
        t = tail(os.path.join(OUT, name))
        if t:
            rows.append(f"\n## {name}\n\n```\n{t}\n```")
    tmp = os.path.join(OUT, ".gpu-check.md.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    os.replace(tmp, os.path.join(OUT, "gpu-check.md"))


def device_unavailable(path):
    text = open(path, encoding="utf-8", errors="replace").read() if os.path.exists(path) else ""
    return any(s in text for s in ["could not be loaded", "no CUDA device", "CUDA_ERROR_NO_DEVICE",
                                   "not compiled with CUDA", "built without CUDA", "cuda is not available"])


def parity():
    bad, lines = 0, []
    exp = [json.loads(l) for l in open("fixtures/tiny/expected.jsonl")]
    tol = json.load(open("fixtures/tiny/bf16-tolerance.json"))
    for arch in ARCHS:
        for dt in ["f32", "bf16"]:
            dz = dp = 0.0
            missing = []
            for preset in PRESETS:
                p = f"{WORK}/parity/{arch}-{preset}-{dt}/scores.jsonl"
                if not os.path.exists(p):
                    missing.append(preset)
                    continue
                got = {(r["instance_id"], r["run"]): r for r in map(json.loads, open(p))}
                for w in (w for w in exp if w["arch"] == arch and w["preset"] == preset):
                    g = got[(w["instance_id"], w["run"])]
                    dz = max(dz, abs((g["logit_yes"] - g["logit_no"]) - (w["logit_yes"] - w["logit_no"])))
                    dp = max(dp, abs(g["score"] - w["p_yes"]))
                    if dt == "f32":
                        dz = max(dz, abs(g["logit_yes"] - w["logit_yes"]), abs(g["logit_no"] - w["logit_no"]))
            tz, tp = (1e-4, 1e-4) if dt == "f32" else (tol[arch]["logit_diff_tolerance"], tol[arch]["p_yes_tolerance"])
            ok = dz <= tz and dp <= tp and not missing
            bad += not ok
            note = f"  (no scores: {', '.join(missing)})" if missing else ""
            lines.append(f"{'ok  ' if ok else 'FAIL'} {arch:<14} {dt:<5} max |d logit| {dz:.2e} (tol {tz:.2e})  "
                         f"max |d P(YES)| {dp:.2e} (tol {tp:.2e}){note}")
    open(f"{OUT}/parity.txt", "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return bad


def main():
    os.makedirs(f"{WORK}/parity", exist_ok=True)
    for f in os.listdir(OUT):  # $OUT holds this run's files alone
        if f not in OUT_FILES:
            print(f"note: {OUT}/{f} is not one of this check's outputs (the device tool brings back 8 files)")
    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        r = None
    open(f"{OUT}/device.txt", "w").write(r.stdout if r and r.returncode == 0 else "no nvidia-smi answer (no GPU here?)\n")
    failures = 0
    steps = ["(0) selftest", "(a) parity", "(b) bench", "(c) 256k fit"]

    status, secs = run([SWERM, "selftest", "--device", "cuda:0"], 150, f"{OUT}/selftest.txt", min_secs=20)
    if status != 0 and status != "skipped" and device_unavailable(f"{OUT}/selftest.txt"):
        record(steps[0], status, secs, "the device could not be opened (selftest.txt says why)")
        if not CHECK_MODE:
            for s in steps[1:]:
                record(s, "not run", 0, "stopped: no device")
            return 2
    else:
        record(steps[0], status, secs)
    failures += status not in (0, "skipped")

    t, ran, status = time.monotonic(), 0, 0
    for arch in ARCHS:
        for preset in PRESETS:
            for dt in ["f32", "bf16"]:
                rc, _ = run([SWERM, "score", "fixtures/tiny/trajectories.jsonl", "--model", f"fixtures/tiny/{arch}",
                             "--preset", preset, "--device", PARITY_DEVICE, "--dtype", dt, "-q", "--overwrite",
                             "-o", f"{WORK}/parity/{arch}-{preset}-{dt}"], 60, f"{WORK}/parity.log", min_secs=8)
                ran += rc != "skipped"
                status = status if rc in (0, "skipped") else rc
    if ran == 0:
        record(steps[1], "skipped", 0, "deadline")
    else:
        bad = parity()
        status = status if status != 0 else (0 if bad == 0 else f"FAIL ({bad} of 8 off)")
        record(steps[1], status, time.monotonic() - t, f"{ran} of 16 scoring runs")
    failures += status not in (0, "skipped")

    reserve = 0 if os.environ.get("SKIP_256K") == "1" else 130
    if CHECK_MODE:
        bench = ["--shape", "tiny-moe", "--context", "256,1024", "--hf-context", "256", "--layers", "2", "--device", "cpu"]
    else:
        bench = ["--shape", "qwen3-30b-a3b", "--context", CONTEXTS, "--hf-context", HF_CONTEXTS, "--layers", LAYERS,
                 "--device", "cuda"]
    cmd = [sys.executable, "scripts/bench_gpu.py", "--swerm", SWERM, *bench, "--batch-tokens", "32768", "--passes",
           PASSES, "--long-passes", "1", "--profile", "--json", f"{OUT}/bench.json"]
    if os.environ.get("SKIP_HF") == "1":
        cmd.append("--no-transformers")
    status, secs = run(cmd, max(30, min(330, left() - reserve)), f"{OUT}/bench.txt", min_secs=30)
    record(steps[2], status, secs, "rows kept in bench.json" if status == "timeout" else "")
    failures += status not in (0, "skipped")

    if os.environ.get("SKIP_256K") == "1":
        record(steps[3], "skipped", 0, "SKIP_256K=1")
    else:
        shape, ctx, dev = ("tiny-moe", "4096", "cpu") if CHECK_MODE else ("qwen3-30b-a3b", "262144", "cuda:0")
        status, secs = run([SWERM, "bench", "--synthetic", shape, "--context", ctx, "--batch-tokens", ctx, "--passes", "0",
                            "--layers", LAYERS, "--device", dev], 150, f"{OUT}/fit-256k.txt", min_secs=20)
        record(steps[3], status, secs, "" if status == "skipped" else "one pass of one trajectory")
        failures += status not in (0, "skipped")
    skipped = sum(s["status"] == "skipped" for s in STEPS)
    print(f"== done in {time.monotonic() - START:.0f} s of {DEADLINE:.0f}; {failures} step(s) failed, {skipped} skipped",
          flush=True)
    return 1 if failures else 3 if skipped else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        write_md()
