#!/usr/bin/env bash
# What travels to the GPU machine with `run(carry=[".gpubin"])`: .gpubin/swerm.xz (the packed
# CUDA binary, kept under 12 MiB) and the whole tree (tracked files, untracked files git does not
# ignore, and .gpubin; the device tool takes 64 MiB, this project keeps under 60 MiB).
#   scripts/gpubin-size.sh        -> prints both; exit 1 when either is over its bound
set -uo pipefail
cd "$(dirname "$0")/.."
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }
xz_bytes=$(stat -c %s .gpubin/swerm.xz 2>/dev/null || echo 0)
tree_bytes=$( (git ls-files -z --cached --others --exclude-standard; find .gpubin -type f -print0 2>/dev/null) \
  | xargs -0 -r stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
bad=0
if [ "$xz_bytes" -eq 0 ]; then
  echo ".gpubin/swerm.xz: missing (scripts/build-cuda.sh --flash-attn)"; bad=1
else
  echo ".gpubin/swerm.xz: $(mib "$xz_bytes") (bound 12 MiB)"
  [ "$xz_bytes" -le $((12 * 1048576)) ] || { echo "  over 12 MiB"; bad=1; }
fi
echo "tree that travels (tracked + untracked-not-ignored + .gpubin): $(mib "$tree_bytes") (bound 60 MiB)"
[ "$tree_bytes" -le $((60 * 1048576)) ] || { echo "  over 60 MiB"; bad=1; }
exit $bad
