#!/usr/bin/env bash
# Runs every test: the Rust workspace's unit and integration tests, then the Playwright
# end-to-end suite in Debian's Chromium against a freshly built server. Installs what is
# missing first. Ends with one line: "summary: N passed, N failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$ROOT/scripts/setup.sh" --test
use_toolchain
cd "$ROOT"
LOGS="$(mktemp -d)"

step "formatting and lints (rustfmt, clippy -D warnings)"
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --check
cargo clippy --workspace --exclude frontend --all-targets --locked -- -D warnings

step "cargo test (workspace)"
set +e
# The wasm-only frontend is built by cargo-leptos below (testing it here would unify its
# `hydrate` feature with the server's `ssr`).
cargo test --workspace --exclude frontend --locked 2>&1 | tee "$LOGS/cargo.log"
cargo_status=${PIPESTATUS[0]}
step "cargo test on PostgreSQL (the workspace again, on a throwaway server: the store, engine and server tests use it)"
trap stop_test_postgres EXIT
start_test_postgres
cargo test --workspace --exclude frontend --locked --tests 2>&1 | tee -a "$LOGS/cargo.log"
pg_status=${PIPESTATUS[0]}
if [[ $pg_status -ne 0 ]]; then cargo_status=$pg_status; fi
stop_test_postgres
unset FLOTILLA_TEST_POSTGRES
step "fuzz targets, smoke run on stable (seeds and inputs made from them; see README, Fuzzing)"
cargo test --manifest-path fuzz/Cargo.toml --locked 2>&1 | tee -a "$LOGS/cargo.log"
fuzz_status=${PIPESTATUS[0]}
if [[ $fuzz_status -ne 0 ]]; then cargo_status=$fuzz_status; fi
set -e
rust_passed=$(grep -Eo '^test result: .* ([0-9]+) passed' "$LOGS/cargo.log" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
rust_failed=$(grep -Eo '^test result: .*; ([0-9]+) failed' "$LOGS/cargo.log" | grep -Eo '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
if [[ $cargo_status -ne 0 ]]; then
  echo "summary: ${rust_passed} passed, $((rust_failed > 0 ? rust_failed : 1)) failed"
  exit 1
fi

step "building the server and the site for the end-to-end tests"
# The server with plain cargo, as the tests above and the run command build it (nothing is
# rebuilt); cargo-leptos builds the wasm frontend, CSS and assets into target/site.
build_server dev
build_site dev

step "end-to-end tests (Playwright, Chromium)"
export FLOTILLA_BIN="$CARGO_TARGET_DIR/debug/flotilla"
export FLOTILLA_SITE_ROOT="$ROOT/target/site"
export PLAYWRIGHT_JSON_OUTPUT_NAME="$LOGS/e2e.json"
set +e
(cd end2end && playwright test --reporter=list,json)
e2e_status=$?
set -e
read -r e2e_passed e2e_failed < <(node -e '
  const fs = require("fs");
  try {
    const s = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).stats;
    console.log(`${s.expected + s.flaky} ${s.unexpected}`);
  } catch { console.log("0 1"); }' "$PLAYWRIGHT_JSON_OUTPUT_NAME")
if [[ $e2e_status -ne 0 && $e2e_failed -eq 0 ]]; then e2e_failed=1; fi

echo "rust: ${rust_passed} passed, ${rust_failed} failed"
echo "e2e: ${e2e_passed} passed, ${e2e_failed} failed (screenshots and traces: end2end/test-results)"
echo "summary: $((rust_passed + e2e_passed)) passed, $((rust_failed + e2e_failed)) failed"
[[ $e2e_status -eq 0 ]]
