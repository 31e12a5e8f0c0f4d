#!/usr/bin/env bash
# Makes a working Docker engine and a Compose command available, or says what is missing.
#   bash infra/docker/ensure-docker.sh          # checks, installs/starts when it can, prints the compose command
#   source infra/docker/ensure-docker.sh; ensure_docker; compose ps   # from other scripts
# As root on Debian it installs Debian's docker.io, docker-compose and debootstrap with apt-get
# when missing, and starts dockerd (log: $MPB_DOCKERD_LOG) when no daemon answers. Never hangs:
# every wait is bounded, every failure ends with a message and a non-zero exit.

MPB_DOCKERD_LOG=${MPB_DOCKERD_LOG:-/var/log/mpb-dockerd.log}
MPB_DOCKERD_TIMEOUT=${MPB_DOCKERD_TIMEOUT:-60}

dlog() { printf '[docker] %s\n' "$*" >&2; }
dfail() {
  printf '[docker] ERROR: %s\n' "$*" >&2
  exit 1
}

_is_root() { [[ $(id -u) -eq 0 ]]; }

# apt_install pkg...: installs Debian packages as root, `apt-get update` first (once per run).
_apt_install() {
  _is_root && command -v apt-get >/dev/null 2>&1 || return 1
  if [[ -z ${_MPB_APT_UPDATED:-} ]]; then
    dlog "apt-get update"
    timeout 300 apt-get update -qq >&2 || return 1
    _MPB_APT_UPDATED=1
  fi
  dlog "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "$@" >&2
}

# docker info within a bounded time (a wedged daemon must not hang the caller).
_docker_answers() { timeout 20 docker info >/dev/null 2>&1; }

_start_dockerd() {
  command -v dockerd >/dev/null 2>&1 || return 1
  _is_root || dfail "no Docker daemon answers and this user cannot start one: start dockerd (or Docker Desktop) and retry"
  if pgrep -x dockerd >/dev/null 2>&1; then
    dlog "dockerd is running but does not answer yet; waiting"
  else
    dlog "starting dockerd (log $MPB_DOCKERD_LOG)"
    mkdir -p "$(dirname "$MPB_DOCKERD_LOG")"
    # Its own session, so it outlives this script; no systemd on these machines.
    setsid nohup dockerd >>"$MPB_DOCKERD_LOG" 2>&1 </dev/null &
  fi
  local deadline=$((SECONDS + MPB_DOCKERD_TIMEOUT))
  until [[ -S /var/run/docker.sock ]] && _docker_answers; do
    if ((SECONDS >= deadline)); then
      tail -n 20 "$MPB_DOCKERD_LOG" >&2 2>/dev/null || true
      dfail "dockerd did not answer within ${MPB_DOCKERD_TIMEOUT}s (log $MPB_DOCKERD_LOG)"
    fi
    sleep 0.5
  done
  dlog "dockerd is up"
}

# The engine alone (what the container test setup needs): installed and started when it can be.
ensure_docker_engine() {
  if ! command -v docker >/dev/null 2>&1 || { ! _docker_answers && ! command -v dockerd >/dev/null 2>&1; }; then
    _apt_install docker.io ||
      dfail "Docker is not installed: install it (Debian: apt-get install docker.io docker-compose) and retry"
  fi
  if ! _docker_answers; then
    _start_dockerd || dfail "no Docker daemon answers and dockerd is not installed (Debian: apt-get install docker.io)"
  fi
}

ensure_docker() {
  ensure_docker_engine
  # Compose v2 plugin when it exists, Debian's docker-compose 1.29 otherwise.
  if timeout 20 docker compose version >/dev/null 2>&1; then
    MPB_COMPOSE=(docker compose)
  else
    command -v docker-compose >/dev/null 2>&1 || _apt_install docker-compose ||
      dfail "neither 'docker compose' nor 'docker-compose' exists: install one (Debian: apt-get install docker-compose)"
    MPB_COMPOSE=(docker-compose)
  fi
  export MPB_COMPOSE_CMD="${MPB_COMPOSE[*]}"
}

# debootstrap is needed only to build the offline base image.
ensure_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return 0
  _apt_install debootstrap ||
    dfail "debootstrap is missing: install it (Debian: apt-get install debootstrap) to build the offline base image"
}

compose() { "${MPB_COMPOSE[@]}" "$@"; }

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  ensure_docker
  ensure_debootstrap
  dlog "engine $(docker version --format '{{.Server.Version}}' 2>/dev/null), compose: $MPB_COMPOSE_CMD"
  echo "$MPB_COMPOSE_CMD"
fi
