#!/usr/bin/env bash
# `npm start`: the whole platform on this machine with zero configuration.
set -euo pipefail
started=$SECONDS
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
ensure_pnpm
install_and_build
step "starting local infrastructure (PostgreSQL, Redis, Kafka, S3)"
bash "$REPO_ROOT/infra/local/infra.sh" up
eval "$(bash "$REPO_ROOT/infra/local/infra.sh" env)"
step "starting services ($((SECONDS - started)) s so far)"
stop_infra() {
  if [[ "${MPB_KEEP_INFRA:-0}" != 1 ]]; then
    step "stopping Kafka and S3 (set MPB_KEEP_INFRA=1 to keep them)"
    bash "$REPO_ROOT/infra/local/infra.sh" down || true
  fi
}
trap stop_infra EXIT
# platform.mjs handles Ctrl-C itself: it stops the services in reverse order, then we stop the infra.
trap '' INT
node "$REPO_ROOT/infra/local/platform.mjs"
