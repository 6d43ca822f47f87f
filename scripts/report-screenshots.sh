#!/usr/bin/env bash
# Redraws the README's pictures of report.html from the demo with headless Chromium (Debian's
# `chromium`): docs/report-html-instances.png and docs/report-html-instance.png, and compare.html
# and compare.png: docs/compare-html-instances.png and docs/demo-compare.png.
# Usage: scripts/report-screenshots.sh   (needs chromium and python3 with Pillow for the palette)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
out=$(mktemp -d)
profile=$(mktemp -d)
trap 'rm -rf "$out" "$profile"' EXIT
target/release/swerm rerank fixtures/demo/runs/* --labels fixtures/demo/reports/* -q -o "$out" > /dev/null 2>&1
shot() { # HASH WIDTHxHEIGHT FILE
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$profile" --virtual-time-budget=3000 --window-size="$2" \
    --screenshot="$out/shot.png" "file://$out/report.html#$1" 2> /dev/null
  # 64 colours: a tenth of the bytes, no visible change for a page of text and flat colours.
  python3 -c "from PIL import Image; import sys; Image.open(sys.argv[1]).convert('RGB').quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(sys.argv[2], optimize=True)" "$out/shot.png" "$3"
  echo "wrote $3"
}
shot "filter=wrong&sort=margin&dir=desc" 1200,760 docs/report-html-instances.png
shot "instance=acme__printing-1000" 1200,900 docs/report-html-instance.png

# compare.html's instances table and compare.png: consensus against the tiny random-weight
# verifier on the same demo runs (its scores mean nothing; the page's shape is what is shown).
target/release/swerm rerank fixtures/demo/runs/* --labels fixtures/demo/reports/* --model fixtures/tiny/qwen3-moe \
  --device cpu -q -o "$out/verifier" > /dev/null 2>&1
target/release/swerm compare consensus="$out" verifier="$out/verifier" --bootstrap 300 --seed 1 -q -o "$out/cmp" > /dev/null 2>&1
cp "$out/cmp/compare.html" "$out/report.html" # shot() loads report.html
shot "filter=disagree" 1200,760 docs/compare-html-instances.png
python3 -c "from PIL import Image; import sys; Image.open(sys.argv[1]).convert('RGB').quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(sys.argv[2], optimize=True)" "$out/cmp/compare.png" docs/demo-compare.png
echo "wrote docs/demo-compare.png"
