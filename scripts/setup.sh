#!/usr/bin/env bash
# Installs what building and testing Flotilla needs, only where it is missing.
# Idempotent: a second run does nothing but checks. Run by run.sh and test.sh.
#
#   scripts/setup.sh                 build tools (npm tools, mold, wasm target, wasm-bindgen, cargo-leptos)
#   scripts/setup.sh --test          also the browser (Debian chromium) for end-to-end tests
#   scripts/setup.sh --quick         all but the compiled tools (what building the server needs)
#   scripts/setup.sh --compiled      the compiled tools alone: wasm-bindgen-cli and cargo-leptos
#                                    (run.sh builds the server while they compile)
#   scripts/setup.sh --compiled-ready   exits 0 when both are installed
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.11"
# Must equal the `wasm-bindgen` crate pinned with `=` in Cargo.toml.
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml")"
WANT_TEST=0 QUICK_TOOLS=1 COMPILED_TOOLS=1
case "${1:-}" in
  --test) WANT_TEST=1 ;;
  --quick) COMPILED_TOOLS=0 ;;
  --compiled) QUICK_TOOLS=0 ;;
  --compiled-ready) QUICK_TOOLS=0 COMPILED_TOOLS=0 ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--test|--quick|--compiled|--compiled-ready]" >&2; exit 2 ;;
esac

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
export PATH="$HOME/.cargo/bin:$PATH"

SUDO=""
if [[ $(id -u) -ne 0 ]] && have sudo; then SUDO="sudo"; fi
APT_UPDATED=0
apt_install() {
  # Installs the Debian packages given, skipping those already installed.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if ! have apt-get; then log "please install: ${missing[*]}"; return 1; fi
  if [[ $APT_UPDATED -eq 0 ]]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

# cargo >= 1.96 is needed to install cargo-leptos 0.3.11 with --locked. Prints its path.
cargo_196() {
  local v
  v="$(cargo --version | awk '{print $2}')"
  if printf '1.96.0\n%s\n' "$v" | sort -V -C; then command -v cargo; return; fi
  if have apt-get; then
    apt_install rustc-web cargo-web
    if [[ -x /usr/bin/cargo ]]; then echo /usr/bin/cargo; return; fi
  fi
  log "cargo $v is too old for cargo-leptos $CARGO_LEPTOS_VERSION and no newer cargo is available"
  return 1
}

# Are the pinned compiled tools installed? (run.sh asks before deciding what to overlap)
wasm_bindgen_ready() {
  [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" == "$WASM_BINDGEN_VERSION" ]]
}
cargo_leptos_ready() {
  [[ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" == "$CARGO_LEPTOS_VERSION" ]]
}

# --- wasm-bindgen CLI, same version as the crate ---------------------------------------------
install_wasm_bindgen() {
  wasm_bindgen_ready && return 0
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
  env -u CARGO_TARGET_DIR cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
}

# --- cargo-leptos ------------------------------------------------------------------------------
# Installed unoptimised and without debug info: 12 minutes on 2 cores instead of 35-40 for the
# default release build with fat LTO; the builds it drives take a few seconds longer.
install_cargo_leptos() {
  cargo_leptos_ready && return 0
  local c196
  c196="$(cargo_196)"
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION with $($c196 --version) (about 12 minutes on 2 cores, once)"
  local fast=(env -u CARGO_TARGET_DIR CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0)
  # Debian's cargo must not pick up rustup's rustc.
  if [[ "$c196" == /usr/bin/cargo ]]; then
    "${fast[@]}" PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc "$c196" install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --debug --root "$HOME/.cargo"
  else
    "${fast[@]}" "$c196" install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --debug
  fi
}
install_compiled_tools() {
  install_wasm_bindgen
  install_cargo_leptos
}
if [[ $QUICK_TOOLS -eq 0 ]]; then
  if [[ $COMPILED_TOOLS -eq 0 ]]; then wasm_bindgen_ready && cargo_leptos_ready; exit; fi
  install_compiled_tools
  exit 0
fi

# --- Node packages (tailwind, binaryen's wasm-opt, playwright-core) -------------------------
if ! have npm; then apt_install nodejs npm; fi
if [[ ! -d "$ROOT/node_modules" || "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.flotilla-stamp" ]]; then
  log "npm ci"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.flotilla-stamp)
fi

# --- A fast linker where available ------------------------------------------------------------
if have apt-get; then apt_install mold || true; fi

# --- wasm32 target: rustup when it can, else Debian's std sources (see shared TOOLCHAIN) ------
FRONTEND_MODE="rustup"
if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  log "adding the wasm32-unknown-unknown target with rustup"
  if ! timeout 120 rustup target add wasm32-unknown-unknown; then
    log "rustup could not add wasm32; falling back to Debian's rust-web toolchain with build-std"
    apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
    FRONTEND_MODE="debian"
  fi
fi
echo "$FRONTEND_MODE" > "$ROOT/.frontend-mode"

if [[ $COMPILED_TOOLS -eq 1 ]]; then install_compiled_tools; fi

# --- Browser for end-to-end tests -------------------------------------------------------------
if [[ $WANT_TEST -eq 1 ]]; then
  if ! have chromium && [[ ! -x /usr/bin/chromium ]]; then apt_install chromium; fi
  # PostgreSQL's server binaries: the store, engine and server tests run on it too.
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then apt_install postgresql; fi
fi
log "toolchain ready (frontend via $FRONTEND_MODE)"
