#!/usr/bin/env bash
# npm run test:compose: the platform from docker-compose.yml (two replicas of every backend
# service), the end-to-end suite through its gateway on 127.0.0.1:8080, a check that every replica
# served traffic (HTTP, gRPC, Kafka partitions), then compose down. Last line: `N passed, N failed`.
# Left out of the suite: the files that reach a service's process or the machine's Kafka, Redis or
# signing key directly (E2E_COMPOSE_SKIP); they run in `npm test`.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../local/lib.sh"
source "$HERE/../local/bootstrap.sh"
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-mpb}
# The suite registers and logs in far more than 20 times a minute from one address.
export RATE_LIMIT_AUTH_MAX=${RATE_LIMIT_AUTH_MAX:-10000}
SKIP=${E2E_COMPOSE_SKIP:-attachments|attack-gateway-hardening|attack-identity|attack-limits|attack-tokens|deleted-content|event-backlog|events|observability|posts-comments|session-revocation|token-attacks|tracing|view-every-read}
OUT=$MPB_LOCAL_DIR/compose-test
mkdir -p "$OUT"
passed=0 failed=0
timings=()
phase() { timings+=("$1 $2s"); }

finish() {
  local t=$SECONDS
  bash "$HERE/compose.sh" down || failed=$((failed + 1))
  phase compose:down $((SECONDS - t))
  printf '[test:compose] %s\n' "${timings[@]}" >&2
  echo "$passed passed, $failed failed"
}

ensure_pnpm
install_and_build

t=$SECONDS
if ! bash "$HERE/compose.sh" up; then
  phase compose:up $((SECONDS - t))
  failed=$((failed + 1))
  finish
  exit 1
fi
phase compose:up $((SECONDS - t))

# Each backend replica's name and address on the compose network.
replicas_json() {
  local cid
  for cid in $(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
    docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{.Name}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$cid"
  done | awk '$1 ~ /^(auth|posts|comments|attachments|metrics)$/ { sub("^/", "", $2); printf "%s{\"service\":\"%s\",\"name\":\"%s\",\"ip\":\"%s\"}", (n++ ? "," : "["), $1, $2, $3 } END { print "]" }'
}
# A throwaway container on the compose network with this checkout (for kafkajs) mounted read-only.
checker() {
  docker run --rm --network "${COMPOSE_PROJECT_NAME}_default" -v "$REPO_ROOT:/repo:ro" -v "$OUT:/out" \
    node:20-bookworm-slim node /repo/infra/docker/check-replicas.mjs "$@"
}
replicas_json >"$OUT/replicas.json"
checker snapshot /out/replicas.json >"$OUT/baseline.json" || echo '{}' >"$OUT/baseline.json"

t=$SECONDS
# pnpm_ is a shell function, which nice cannot run.
if command -v pnpm >/dev/null 2>&1 && pnpm --version >/dev/null 2>&1; then PNPM=(pnpm); else PNPM=(corepack pnpm); fi
E2E_GATEWAY_URL=http://127.0.0.1:8080 NODE_ENV=test nice -n 10 "${PNPM[@]}" exec jest --selectProjects @mpb/e2e \
  --testPathIgnorePatterns "e2e/test/($SKIP)\\.test\\.ts" --json --outputFile="$OUT/jest.json" \
  >"$OUT/jest.log" 2>&1
tail -n 40 "$OUT/jest.log" >&2
phase e2e $((SECONDS - t))
if [[ -s $OUT/jest.json ]]; then
  read -r p f < <(node -e "const r=require('$OUT/jest.json');console.log(r.numPassedTests,r.numFailedTests+(r.numRuntimeErrorTestSuites||0))")
  passed=$((passed + p)) failed=$((failed + f))
else
  failed=$((failed + 1))
fi

t=$SECONDS
if checker check /out/replicas.json /out/baseline.json >"$OUT/replicas.log" 2>&1; then
  grep -v '^{' "$OUT/replicas.log" >&2
  read -r p f < <(node -e "const l=require('fs').readFileSync('$OUT/replicas.log','utf8').trim().split('\n').pop();const r=JSON.parse(l);console.log(r.passed,r.failed)")
  passed=$((passed + p)) failed=$((failed + f))
else
  cat "$OUT/replicas.log" >&2
  failed=$((failed + 1))
fi
phase replica-check $((SECONDS - t))
finish
exit $((failed > 0 ? 1 : 0))
