#!/usr/bin/env bash
# Redraws the README's pictures of report.html from the demo with headless Chromium (Debian's
# `chromium`): docs/report-html-instances.png and docs/report-html-instance.png.
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
