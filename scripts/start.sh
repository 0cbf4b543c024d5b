#!/usr/bin/env bash
# Set up, build the graph from the embedded corpus (which also fits the recommender), and serve the API and web page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/lskg build
exec .venv/bin/lskg serve "$@"
