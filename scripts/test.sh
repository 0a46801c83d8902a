#!/usr/bin/env bash
# The whole mentorsync test suite: formatting, lints, and every crate's tests.
# PostgreSQL variants run when MENTORSYNC_TEST_PG_URL is set (e.g.
# postgres://postgres@127.0.0.1:5432/test); without it they are skipped and say so.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${MENTORSYNC_TEST_PG_URL:-}" ]; then
  echo "== PostgreSQL tests: ENABLED (${MENTORSYNC_TEST_PG_URL%%@*}@…)"
else
  echo "== PostgreSQL tests: SKIPPED — set MENTORSYNC_TEST_PG_URL=postgres://user@host:port/db to run them"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked

echo "== schemathesis against the served OpenAPI document"
./scripts/schemathesis.sh

echo "== a client generated from docs/openapi.json runs a coordinator's flow"
./scripts/generated_client.sh

echo "== bindings (generated Kotlin, Swift, Python; tests from Python and Kotlin)"
./scripts/bindings.sh test
