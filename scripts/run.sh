#!/usr/bin/env bash
# Runs Flotilla: installs what is missing, builds, and serves on http://127.0.0.1:3000 with an
# SQLite database under ./data. Extra arguments go to the server (see `--help`); so do
# FLOTILLA_* environment variables.
#
# It builds what the test command builds (an unoptimised, debug-assertion build: the quickest
# to have, and shared with scripts/test.sh, so neither rebuilds after the other). For an
# optimised build, say `--release` first: scripts/run.sh --release --demo
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PROFILE=dev
if [[ "${1:-}" == "--release" ]]; then PROFILE=release; shift; fi

step "tools"
"$ROOT/scripts/setup.sh" --quick
use_toolchain
if "$ROOT/scripts/setup.sh" --compiled-ready 2>/dev/null; then
  step "building Flotilla ($PROFILE)"
  build_server "$PROFILE"
else
  # wasm-bindgen-cli and cargo-leptos compile once, for about 14 minutes; the server needs
  # neither, so it is built meanwhile (they share the cores, and each build has stretches
  # where one core idles).
  step "installing wasm-bindgen-cli and cargo-leptos while building the server ($PROFILE)"
  "$ROOT/scripts/setup.sh" --compiled &
  installing=$!
  build_server "$PROFILE" || { kill "$installing" 2>/dev/null; exit 1; }
  wait "$installing"
fi
build_site "$PROFILE"

export FLOTILLA_SITE_ROOT="${FLOTILLA_SITE_ROOT:-$ROOT/target/site}"
step "starting Flotilla"
cat >&2 <<MSG
  Open http://${FLOTILLA_LISTEN:-127.0.0.1:3000} and log in as 'admin'.
  On the first start the admin password is printed below, once (or choose it by setting
  FLOTILLA_ADMIN_PASSWORD before the first start). Data lives in ${FLOTILLA_DATA_DIR:-./data}.
  Stop with Ctrl-C.
MSG
cd "$ROOT"
profile_dir=debug
[[ "$PROFILE" == release ]] && profile_dir=release
exec "$CARGO_TARGET_DIR/$profile_dir/flotilla" "$@"
