#!/usr/bin/env bash
# Proves docs/openapi.json usable by a client written from it alone: generates a Python
# client with openapi-python-client (a standard generator) and runs a coordinator's flow
# (tests/generated_client/coordinator_flow.py) with it against a fresh demo server.
# Skipped, saying so, where the generator is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v openapi-python-client >/dev/null 2>&1; then
  echo "== generated client: SKIPPED — install it (python3 -m pip install openapi-python-client) to run it"
  exit 0
fi

source scripts/lib/demo_server.sh
openapi-python-client generate --path docs/openapi.json --meta none \
  --output-path "$dir/ms_client" >"$dir/generate.log" 2>&1 || { cat "$dir/generate.log"; exit 1; }
PYTHONPATH="$dir" python3 tests/generated_client/coordinator_flow.py "$base"
