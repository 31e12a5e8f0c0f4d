# shellcheck shell=bash
# Sourced helper for the local infrastructure scripts (bash, set -euo pipefail by the caller).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Per-clone state (data, logs, pid files); git-ignored via .local/.
MPB_LOCAL_DIR="${MPB_LOCAL_DIR:-$REPO_ROOT/.local}"
# Downloaded jars, shared across clones so a second clone starts warm.
MPB_CACHE_DIR="${MPB_CACHE_DIR:-$HOME/.cache/mpb-infra}"
# Absolute paths: they are matched against process command lines and used after cd.
[[ $MPB_LOCAL_DIR == /* ]] || MPB_LOCAL_DIR=$PWD/$MPB_LOCAL_DIR
[[ $MPB_CACHE_DIR == /* ]] || MPB_CACHE_DIR=$PWD/$MPB_CACHE_DIR
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

# pid_alive pidfile: true when the pid file names a running process of this clone (its command
# line mentions MPB_LOCAL_DIR), so a stale pid reused by another process is never signalled.
pid_alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) && [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$MPB_LOCAL_DIR"
}

# start_detached pidfile logfile cmd...: runs cmd in its own session, immune to the caller's
# exit/SIGHUP. The child writes its own pid, so the pid file is right even if setsid forks.
start_detached() {
  local pidfile=$1 log=$2
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$ and $@ belong to the child shell
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$log" 2>&1 </dev/null &
  for _ in {1..50}; do [[ -s $pidfile ]] && return 0; sleep 0.1; done
  die "could not start: $*"
}

# stop_pidfile name pidfile: SIGTERM, wait up to 20 s, then SIGKILL.
stop_pidfile() {
  local name=$1 pidfile=$2 pid
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    info "$name: not running"
    return 0
  fi
  pid=$(cat "$pidfile")
  info "$name: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in {1..100}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    info "$name: still alive after 20 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
