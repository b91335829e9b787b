# Shared by run.sh and test.sh (sourced, not run).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"

step() { printf '\n\033[1;32m==>\033[0m \033[1m%s\033[0m\n' "$*" >&2; }

# Build outputs live outside the clone by default so a fresh clone reuses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flotilla/target}"
# A CI run builds once: incremental caches would only cost time and disk (gigabytes).
if [[ "${CI:-}" == "true" ]]; then export CARGO_INCREMENTAL=0; fi

# How to build, once setup.sh has installed the tools: call after it (the flags chosen here are
# part of every artifact's fingerprint, so they must not change between two runs).
LEPTOS_EXTRA_ARGS=()
use_toolchain() {
  # mold links much faster than the default linker (gcc >= 12 can drive it).
  if command -v mold >/dev/null 2>&1 && [[ -z "${RUSTFLAGS:-}" ]]; then
    export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C link-arg=-fuse-ld=mold"
  fi
  # Where rustup could not add the wasm32 target, build everything with Debian's toolchain,
  # compiling std for wasm32 from source (see setup.sh).
  if [[ "$(cat "$ROOT/.frontend-mode" 2>/dev/null)" == "debian" ]]; then
    export PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
    LEPTOS_EXTRA_ARGS=(--lib-cargo-args=-Zbuild-std=std,panic_abort)
  fi
}

# cargo leptos build [--release] ...: wasm, css and assets into target/site.
leptos_build() {
  (cd "$ROOT" && cargo leptos build "${LEPTOS_EXTRA_ARGS[@]}" "$@")
}

# The server binaries, with plain cargo: the same command, features and flags for the run
# command and the tests, so neither rebuilds what the other built. `release` or `dev`.
build_server() {
  local profile=()
  [[ "$1" == release ]] && profile=(--release)
  (cd "$ROOT" && cargo build --workspace --exclude frontend --bins --locked "${profile[@]}")
}

# A digest of everything the site (wasm, CSS, assets) is built from, and how.
site_inputs() {
  (
    cd "$ROOT"
    echo "$1 $(cargo leptos --version 2>/dev/null) $(cat .frontend-mode 2>/dev/null)"
    find app domain frontend style public -type f -print0 | sort -z | xargs -0 sha256sum
    sha256sum Cargo.toml Cargo.lock package-lock.json
  ) | sha256sum | cut -d' ' -f1
}

# The site, built by cargo-leptos, unless it was built from exactly these inputs already
# (cargo-leptos itself regenerates the JS and wasm on every call, minutes in release).
build_site() {
  local profile=() stamp="$ROOT/target/site/.built-from" want
  [[ "$1" == release ]] && profile=(--release)
  want="$(site_inputs "$1")"
  if [[ -d "$ROOT/target/site/pkg" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
    step "the site is up to date ($1)"
    return
  fi
  rm -f "$stamp"
  leptos_build --frontend-only "${profile[@]}"
  echo "$want" > "$stamp"
}

# A throwaway PostgreSQL server for the tests (Debian's binaries, a new cluster in a temporary
# folder, fsync off, loopback only); exports FLOTILLA_TEST_POSTGRES with its URL. Stop it with
# stop_test_postgres (test.sh does, on exit).
start_test_postgres() {
  local bin port
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [[ -x "$bin/initdb" ]] || { echo "PostgreSQL's server binaries are missing (apt-get install postgresql)" >&2; return 1; }
  TEST_PG_DIR="$(mktemp -d)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  local as=()
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$TEST_PG_DIR"; as=(runuser -u postgres --); fi
  "${as[@]}" "$bin/initdb" -D "$TEST_PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale >"$TEST_PG_DIR/initdb.log"
  "${as[@]}" "$bin/pg_ctl" -D "$TEST_PG_DIR/data" -l "$TEST_PG_DIR/log" -w \
    -o "-p $port -k $TEST_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" start >/dev/null
  TEST_PG_BIN="$bin" TEST_PG_AS="${as[*]}"
  export FLOTILLA_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port"
}

stop_test_postgres() {
  [[ -n "${TEST_PG_DIR:-}" ]] || return 0
  # shellcheck disable=SC2086
  $TEST_PG_AS "$TEST_PG_BIN/pg_ctl" -D "$TEST_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$TEST_PG_DIR"
  TEST_PG_DIR=""
}
