# Sourced helper for the local infrastructure scripts (bash, set -euo pipefail by the caller).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Per-clone state (data, logs, pid files); git-ignored via .local/.
MPB_LOCAL_DIR="${MPB_LOCAL_DIR:-$REPO_ROOT/.local}"
# Downloaded jars, shared across clones so a second clone starts warm.
MPB_CACHE_DIR="${MPB_CACHE_DIR:-$HOME/.cache/mpb-infra}"
export REPO_ROOT MPB_LOCAL_DIR MPB_CACHE_DIR

info() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for_port host port timeout_s
wait_for_port() {
  local host=$1 port=$2 deadline=$((SECONDS + $3))
  until port_open "$host" "$port"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.3
  done
}

# pid_alive pidfile: true when the pid file names a running process.
pid_alive() {
  [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}
