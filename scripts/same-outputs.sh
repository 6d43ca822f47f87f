#!/usr/bin/env bash
# Structure changes must not change behaviour: builds swerm at REV (a git worktree with its own
# target directory: a full release build, ~5 min on 2 cores) and runs the same commands with
# both binaries, then compares every output file byte for byte (lock files aside, and the
# output directory's own path, which summaries name, made neutral).
#
#   scripts/same-outputs.sh [REV=HEAD~1] [DATA=../shared/data/swebench-lite-8runs]
#   OLD_BIN=path/to/swerm scripts/same-outputs.sh   # compare against a binary already built
#   KEEP=1 scripts/same-outputs.sh ...               # keep both output trees to read the diffs
#
# Commands: rerank of the demo runs (consensus, with labels and a bootstrap), the same with the
# tiny verifier, eval and select of those stores, a compare of the two, render, a calibration
# and a calibrated eval with --json; a rerank and a
# select of generated runs shaped like real ones (scripts/bench_rerank.py's data, 600 x 16); a
# pairwise judge (the tiny checkpoint on the demo runs: empty candidates, every k-subset
# enumerated) and the eval of a generated tournament store (scripts/bench_pairwise_eval.py's,
# 300 x 24: best@k by seeded draws); and a rerank of DATA's eight real runs when that folder is
# there. Exit status 1 on any
# difference.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:-HEAD~1}
DATA=${2:-../shared/data/swebench-lite-8runs}
W=$(mktemp -d)
trap 'git worktree remove --force "$W/old-src" >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] && echo "kept $W" || rm -rf "$W"' EXIT
if [ -n "${OLD_BIN:-}" ]; then
    OLD=$OLD_BIN
    REV=$OLD_BIN
else
    git worktree add --detach "$W/old-src" "$REV" >/dev/null 2>&1
    (cd "$W/old-src" && CARGO_TARGET_DIR="$W/old-target" cargo build --release --quiet)
    OLD=$W/old-target/release/swerm
fi
cargo build --release --quiet
NEW=target/release/swerm

# Generated runs (the benchmark's shapes: patch sizes, empty and missing predictions).
python3 -c "import sys; sys.path.insert(0, 'scripts'); import bench_rerank; bench_rerank.synth('$W/gen', 600, 16)"
python3 -c "import sys; sys.path.insert(0, 'scripts'); import bench_pairwise_eval as b; b.write_store('$W/pwgen', 300, 24, True, unsolved=0.3, solve_rate=0.3)"

run() { # BIN DIR: every command into DIR
    local s=$1 o=$2
    local demo=(fixtures/demo/runs/*) reports=(fixtures/demo/reports/*)
    "$s" rerank "${demo[@]}" --labels "${reports[@]}" --bootstrap 200 --seed 3 -q -o "$o/c" >"$o/c.stdout" 2>"$o/c.stderr"
    "$s" rerank "${demo[@]}" --labels "${reports[@]}" --model fixtures/tiny/qwen3-moe --device cpu -q -o "$o/v" >"$o/v.stdout" 2>"$o/v.stderr"
    "$s" eval --scores "$o/v" -q -o "$o/e" >"$o/e.stdout" 2>&1
    "$s" select "${demo[@]}" --scores "$o/v" -q -o "$o/s" >"$o/s.stdout" 2>&1
    "$s" compare consensus="$o/c" verifier="$o/v" --bootstrap 100 -q -o "$o/cmp" >"$o/cmp.stdout" 2>&1
    "$s" render fixtures/demo/runs/run-e.jsonl --model fixtures/tiny/qwen3 >"$o/render.jsonl" 2>&1
    "$s" calibrate --scores "$o/v" --folds 4 -o "$o/cal.json" >"$o/cal.stdout" 2>&1
    "$s" eval --scores "$o/v" --calibration "$o/cal.json" --json -q -o "$o/ec" >"$o/ec.json" 2>&1
    "$s" rerank "$W"/gen/runs/*.jsonl --labels "$W"/gen/reports/*.json --bootstrap 200 -q -o "$o/gen" >"$o/gen.stdout" 2>&1
    "$s" select "$W"/gen/runs/*.jsonl --scores "$o/gen" -q -o "$o/gen-select" >"$o/gen-select.stdout" 2>&1
    # (its summary says how long the comparisons took: that part left out)
    "$s" rerank "${demo[@]}" --labels "${reports[@]}" --model fixtures/tiny/qwen3 --pairwise --device cpu -q -o "$o/pw" 2>&1 |
        sed -E 's/ in [0-9.]+ s$//' >"$o/pw.stdout"
    "$s" eval --scores "$W/pwgen" -q -o "$o/pwgen" >"$o/pwgen.stdout" 2>&1
    if [ -d "$DATA/predictions" ]; then
        "$s" rerank "$DATA"/predictions/*.jsonl -q -o "$o/real" >"$o/real.stdout" 2>"$o/real.stderr"
    fi
}
mkdir -p "$W/a" "$W/b"
run "$OLD" "$W/a"
run "$NEW" "$W/b"
# Outputs name their own directory (summaries, compare.json's sources): make that neutral.
find "$W/a" "$W/b" -name .swerm.lock -delete
for f in $(cd "$W/a" && find . -type f | sort); do
    sed -i "s#$W/a#OUT#g" "$W/a/$f" 2>/dev/null || true
done
for f in $(cd "$W/b" && find . -type f | sort); do
    sed -i "s#$W/b#OUT#g" "$W/b/$f" 2>/dev/null || true
done
if diff -r -q "$W/a" "$W/b"; then
    echo "same-outputs: $(cd "$W/a" && find . -type f | wc -l) files byte-identical between $REV and the working tree"
else
    echo "same-outputs: outputs differ (above)" >&2
    exit 1
fi
