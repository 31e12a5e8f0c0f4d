#!/usr/bin/env bash
# `npm start`: the whole platform on this machine with zero configuration. The infrastructure comes
# from packages/test-kit/src/infra/cli.ts (MPB_INFRA=local|containers, or chosen and printed); the
# services run as local processes (platform.mjs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
ensure_pnpm
install_and_build
# platform.mjs stops the services on Ctrl-C; the runner then stops Kafka and S3 (MPB_KEEP_INFRA=1
# keeps them) or removes the run's containers.
exec node "$REPO_ROOT/packages/test-kit/dist/infra/cli.js" run --stop-local -- node "$REPO_ROOT/infra/local/platform.mjs"
