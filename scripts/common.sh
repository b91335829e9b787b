# Shared by run.sh and test.sh (sourced, not run).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"

step() { printf '\n\033[1;32m==>\033[0m \033[1m%s\033[0m\n' "$*" >&2; }

# Build outputs live outside the clone by default so a fresh clone reuses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flotilla/target}"
# A CI run builds once: incremental caches would only cost time and disk (gigabytes).
if [[ "${CI:-}" == "true" ]]; then export CARGO_INCREMENTAL=0; fi
# mold links much faster than the default linker (gcc >= 12 can drive it).
if command -v mold >/dev/null 2>&1 && [[ -z "${RUSTFLAGS:-}" ]]; then
  export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C link-arg=-fuse-ld=mold"
fi

# Where rustup could not add the wasm32 target, build everything with Debian's toolchain,
# compiling std for wasm32 from source (see setup.sh).
LEPTOS_EXTRA_ARGS=()
if [[ "$(cat "$ROOT/.frontend-mode" 2>/dev/null)" == "debian" ]]; then
  export PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
  LEPTOS_EXTRA_ARGS=(--lib-cargo-args=-Zbuild-std=std,panic_abort)
fi

# cargo leptos build [--release]: server binary, wasm, css and assets into target/site.
leptos_build() {
  (cd "$ROOT" && cargo leptos build "${LEPTOS_EXTRA_ARGS[@]}" "$@")
}
