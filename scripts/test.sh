#!/usr/bin/env bash
# Set up and run the whole test suite: ruff, mypy (configured in pyproject.toml), pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/python -m mypy
.venv/bin/python -m pytest "$@"
