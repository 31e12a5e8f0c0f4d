#!/usr/bin/env bash
# npm run test:scale: the HA platform (npm run compose:up:ha: three Kafka nodes, RF 3, min ISR 2, two
# replicas of every backend service; project mpbha, gateway on 127.0.0.1:8180), a probe container
# on its network that reads the cluster's leaders, replicas and consumer lag, the fault suite
# (infra/docker/scale/scale-suite.mjs) under load through the gateway, then everything down.
# Last line: `N passed, N failed`. SCALE_FAULTS picks a subset of the faults (comma-separated).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../local/lib.sh"
source "$HERE/../local/bootstrap.sh"
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-mpbha}
export MPB_GATEWAY_PORT=${MPB_GATEWAY_PORT:-8180}
# Virtual users register and log in far more than 20 times a minute from one address, and every read
# must count its view for the totals to be checked exactly.
export RATE_LIMIT_AUTH_MAX=${RATE_LIMIT_AUTH_MAX:-10000}
export VIEW_DEDUP_SECONDS=0
PROBE=$COMPOSE_PROJECT_NAME-scale-probe
OUT=$MPB_LOCAL_DIR/scale-test
mkdir -p "$OUT"
passed=0 failed=0
timings=()
phase() { timings+=("$1 $2s"); }

finish() {
  local t=$SECONDS
  docker rm -f "$PROBE" >/dev/null 2>&1 || true
  bash "$HERE/compose.sh" down ha || failed=$((failed + 1))
  phase compose:down $((SECONDS - t))
  printf '[test:scale] %s\n' "${timings[@]}" >&2
  echo "$passed passed, $failed failed"
}

ensure_pnpm
install_and_build

t=$SECONDS
if ! bash "$HERE/compose.sh" up ha; then
  phase compose:up:ha $((SECONDS - t))
  failed=$((failed + 1))
  finish
  exit 1
fi
phase compose:up:ha $((SECONDS - t))

# The probe: kafkajs from this checkout (mounted read-only), on the compose network, its HTTP port
# published on a free loopback port.
docker rm -f "$PROBE" >/dev/null 2>&1 || true
docker run -d --name "$PROBE" --label "com.docker.compose.project=$COMPOSE_PROJECT_NAME-probe" \
  --network "${COMPOSE_PROJECT_NAME}_default" -v "$REPO_ROOT:/repo:ro" -p 127.0.0.1::8080 \
  node:20-bookworm-slim node /repo/infra/docker/scale/probe.mjs >/dev/null
probe_port=$(docker port "$PROBE" 8080/tcp | head -n 1 | sed 's/.*://')
export SCALE_PROBE_URL=http://127.0.0.1:$probe_port SCALE_GATEWAY_URL=http://127.0.0.1:$MPB_GATEWAY_PORT
for _ in $(seq 60); do curl -fsS -m 10 "$SCALE_PROBE_URL/state" >/dev/null 2>&1 && break; sleep 1; done

t=$SECONDS
node "$HERE/scale/scale-suite.mjs" 2> >(tee "$OUT/suite.log" >&2) | tee "$OUT/suite.line"
phase suite $((SECONDS - t))
if read -r p _ f _ < <(tail -n 1 "$OUT/suite.line") && [[ $p =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]]; then
  passed=$((passed + p)) failed=$((failed + f))
else
  failed=$((failed + 1))
fi
finish
exit $((failed > 0 ? 1 : 0))
