#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install lskg with its test tools. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# torch first: 2.13.0 is the release this project is tested with (a local CPU build is used where one is
# available; elsewhere pip downloads it from PyPI).
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[test]"
