# shellcheck shell=bash
# Sourced by start.sh and test.sh: pnpm through corepack, dependencies, build. Idempotent and quick
# when nothing changed.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export COREPACK_ENABLE_DOWNLOAD_PROMPT=0

step() { printf '\033[1m[mpb] %s\033[0m\n' "$*" >&2; }

ensure_pnpm() {
  local want
  want=$(node -p "require('$REPO_ROOT/package.json').packageManager")
  if command -v pnpm >/dev/null 2>&1 && [[ "pnpm@$(pnpm --version 2>/dev/null)" == "$want" ]]; then return 0; fi
  step "enabling $want through corepack"
  corepack enable pnpm >/dev/null 2>&1 || corepack enable >/dev/null 2>&1 || true
  if ! corepack pnpm --version >/dev/null 2>&1; then
    # Corepack releases bundled with some Node 20 builds carry outdated npm signing keys and refuse
    # current pnpm releases; the tarball's integrity hash from the registry is still checked.
    export COREPACK_INTEGRITY_KEYS=0
    corepack pnpm --version >/dev/null || { echo "[mpb] could not install pnpm through corepack" >&2; exit 1; }
  fi
}

pnpm_() { if command -v pnpm >/dev/null 2>&1 && pnpm --version >/dev/null 2>&1; then pnpm "$@"; else corepack pnpm "$@"; fi; }

install_and_build() {
  cd "$REPO_ROOT"
  step "installing dependencies"
  pnpm_ install --frozen-lockfile --prefer-offline --reporter=append-only | tail -n 3
  step "building"
  pnpm_ exec turbo run build --output-logs=errors-only
}

# The e2e suite opens the /docs page in Debian's Chromium (playwright-core downloads no browser).
ensure_chromium() {
  local bin="${E2E_CHROMIUM_PATH:-/usr/bin/chromium}"
  if [[ -x "$bin" ]]; then return 0; fi
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    step "installing chromium (apt-get) for the /docs browser test"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    [[ -x "$bin" ]] && return 0
  fi
  echo "[mpb] $bin is missing: install Debian's chromium (sudo apt-get install chromium) or set E2E_CHROMIUM_PATH" >&2
  exit 1
}
