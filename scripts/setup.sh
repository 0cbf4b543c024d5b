#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install lskg with its test tools. Safe to re-run.
# Says what it installs and roughly how long each step takes; pip's own progress is shown (set QUIET=1 to hide it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PIP_QUIET=()
if [ "${QUIET:-0}" = "1" ]; then PIP_QUIET=(-q); fi
step() { printf '\n==> [%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
started=$(date +%s)
if [ ! -x .venv/bin/python ]; then
  step "creating .venv with $("$PY" --version 2>&1) (a few seconds)"
  "$PY" -m venv .venv
fi
step "upgrading pip (under a minute)"
.venv/bin/python -m pip install "${PIP_QUIET[@]}" --upgrade pip
# torch first: 2.13.0 is the release this project is tested with (a local CPU build is used where one is
# available; elsewhere pip downloads it from PyPI).
step "installing torch 2.13.0 (the largest download, 1-3 GB with its CUDA libraries: 2-10 minutes on a first install,
    seconds when already installed)"
.venv/bin/python -m pip install "${PIP_QUIET[@]}" "torch==2.13.0"
step "installing lskg in editable mode with its dependencies and test tools (spaCy, pyoxigraph, FastAPI,
    torch-geometric, pytest, mypy, ruff...; 1-5 minutes on a first install, under a minute after)"
.venv/bin/python -m pip install "${PIP_QUIET[@]}" -e ".[test]"
step "done in $(( $(date +%s) - started )) s: run .venv/bin/lskg --help, or bash scripts/test.sh"
