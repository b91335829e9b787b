#!/usr/bin/env bash
# Runs Flotilla: installs what is missing, builds (release), and serves on
# http://127.0.0.1:3000 with an SQLite database under ./data. Extra arguments go to the
# server (see `--help`); so do FLOTILLA_* environment variables.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$ROOT/scripts/setup.sh"
step "building Flotilla (release)"
leptos_build --release

export FLOTILLA_SITE_ROOT="${FLOTILLA_SITE_ROOT:-$ROOT/target/site}"
step "starting Flotilla"
cat >&2 <<MSG
  Open http://${FLOTILLA_LISTEN:-127.0.0.1:3000} and log in as 'admin'.
  On the first start the admin password is printed below, once (or choose it by setting
  FLOTILLA_ADMIN_PASSWORD before the first start). Data lives in ${FLOTILLA_DATA_DIR:-./data}.
  Stop with Ctrl-C.
MSG
cd "$ROOT"
exec "$CARGO_TARGET_DIR/release/flotilla" "$@"
