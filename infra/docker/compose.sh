#!/usr/bin/env bash
# The platform from docker-compose.yml with two replicas of every backend service:
#   bash infra/docker/compose.sh up      # npm run compose:up: images, start, wait until healthy
#   bash infra/docker/compose.sh down    # npm run compose:down: containers, network and volumes
#   bash infra/docker/compose.sh up ha   # npm run compose:up:ha: docker-compose.ha.yml laid over it
#                                        # (three Kafka nodes, RF 3, min ISR 2), project mpbha, 127.0.0.1:8180
#   bash infra/docker/compose.sh down ha # npm run compose:down:ha
# Images: pinned ones are pulled when a registry answers; otherwise (or with MPB_IMAGES=offline)
# infra/docker/images-offline.sh builds stand-ins under the same names. The service images are
# always built here (infra/docker/service.Dockerfile, with the host's CA bundle when it has one).
# Only the gateway publishes a port: 127.0.0.1:8080 (8180 for ha; MPB_GATEWAY_PORT sets another).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../local/lib.sh"
source "$HERE/ensure-docker.sh"

HA=0
[[ ${2:-} == ha ]] && HA=1
COMPOSE_FILES=(-f "$REPO_ROOT/docker-compose.yml")
REPLICAS=${MPB_REPLICAS:-2}
BACKENDS=(auth posts comments attachments metrics)
INFRA_SERVICES=(postgres redis kafka s3proxy)
if ((HA)); then
  export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-mpbha}
  export MPB_GATEWAY_PORT=${MPB_GATEWAY_PORT:-8180}
  COMPOSE_FILES+=(-f "$REPO_ROOT/docker-compose.ha.yml")
  INFRA_SERVICES=(postgres redis kafka-1 kafka-2 kafka-3 s3proxy)
else
  export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-mpb}
  export MPB_GATEWAY_PORT=${MPB_GATEWAY_PORT:-8080}
fi
UP_TIMEOUT=${MPB_COMPOSE_TIMEOUT:-300}
GATEWAY=127.0.0.1:$MPB_GATEWAY_PORT

log() { printf '[compose] %s\n' "$*" >&2; }
dc() { compose "${COMPOSE_FILES[@]}" -p "$COMPOSE_PROJECT_NAME" "$@"; }

infra_images() { dc config 2>/dev/null | sed -n 's/^ *image: *//p' | grep -v '^mpb/' | sort -u; }

# Infrastructure images: pulled, or built offline when no registry answers (infra-images.sh); the
# service images are always built here.
images() {
  local infra=()
  mapfile -t infra < <(infra_images)
  bash "$HERE/infra-images.sh" "${infra[@]}"
  bash "$HERE/images-offline.sh" services
}

# Containers of an earlier run (a restarted dockerd brings back those with a restart policy).
clear_earlier() {
  if [[ -n $(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME") ]]; then
    log "removing the containers an earlier run left"
    dc down --remove-orphans --timeout 20 >/dev/null 2>&1 || true
  fi
}

port_owner() {
  command -v ss >/dev/null 2>&1 && ss -H -ltnp "sport = :${GATEWAY##*:}" 2>/dev/null | sed -n 's/.*users:((\(.*\))).*/\1/p' | head -n 1
}

check_port() {
  if port_open "${GATEWAY%:*}" "${GATEWAY##*:}"; then
    local who
    who=$(port_owner || true)
    die "port ${GATEWAY##*:} on ${GATEWAY%:*} is taken${who:+ by $who}: stop that process (or npm start's gateway) and retry"
  fi
}

# health cid: healthy | unhealthy | starting | exited:<code> | running (no health check)
health() {
  docker inspect -f '{{if not .State.Running}}exited:{{.State.ExitCode}}{{else if .State.Health}}{{.State.Health.Status}}{{else}}running{{end}}' "$1" 2>/dev/null || echo gone
}

# wait_healthy [containers-only]: every container of the project healthy (or done), then, unless
# containers-only, the gateway's /health.
wait_healthy() {
  local deadline=$((SECONDS + UP_TIMEOUT)) cid name state pending
  while :; do
    pending=()
    for cid in $(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
      name=$(docker inspect -f '{{.Name}}' "$cid")
      name=${name#/}
      state=$(health "$cid")
      case $state in
        healthy | running | exited:0) ;;
        exited:* | unhealthy | gone)
          docker logs --tail 40 "$cid" >&2 2>&1 || true
          die "$name is $state (its last log lines above)"
          ;;
        *) pending+=("$name:$state") ;;
      esac
    done
    if ((${#pending[@]} == 0)) && { [[ ${1:-} == containers-only ]] || curl -fsS -m 5 "http://$GATEWAY/health" >/dev/null 2>&1; }; then return 0; fi
    ((SECONDS < deadline)) || die "not healthy after ${UP_TIMEOUT}s: ${pending[*]:-gateway /health}"
    sleep 2
  done
}

up() {
  ensure_docker
  local t0=$SECONDS scale=() s
  clear_earlier
  check_port
  images
  local t1=$SECONDS
  for s in "${BACKENDS[@]}"; do scale+=(--scale "$s=$REPLICAS"); done
  if ((HA)); then
    # The infrastructure by name (never the single `kafka` the services' depends_on names), healthy
    # first; then the services without their dependencies.
    log "starting ${INFRA_SERVICES[*]}"
    dc up -d --no-build --remove-orphans "${INFRA_SERVICES[@]}" s3-bucket >&2
    wait_healthy containers-only
    log "starting ${BACKENDS[*]} x$REPLICAS, gateway"
    dc up -d --no-build --no-deps "${scale[@]}" --scale gateway=1 "${BACKENDS[@]}" gateway >&2
  else
    log "starting ${BACKENDS[*]} x$REPLICAS, gateway, ${INFRA_SERVICES[*]}"
    dc up -d --no-build --remove-orphans "${scale[@]}" --scale gateway=1 >&2
  fi
  wait_healthy
  log "healthy in $((SECONDS - t1)) s (images $((t1 - t0)) s); gateway on http://$GATEWAY"
}

down() {
  ensure_docker
  log "removing containers, network and volumes of project $COMPOSE_PROJECT_NAME"
  dc down --volumes --remove-orphans --timeout 20 >&2
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down [ha]" ;;
esac
