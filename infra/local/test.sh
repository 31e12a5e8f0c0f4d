#!/usr/bin/env bash
# `npm test`: every test of every workspace against the real PostgreSQL, Redis, Kafka and S3 server,
# which it starts when they are not running. Prints `N passed, N failed` as its last line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
ensure_pnpm
ensure_chromium
install_and_build
step "starting local infrastructure"
bash "$REPO_ROOT/infra/local/infra.sh" up
eval "$(bash "$REPO_ROOT/infra/local/infra.sh" env)"
export NODE_ENV=test
results="$REPO_ROOT/.local/jest-results.json"
mkdir -p "$(dirname "$results")"
rm -f "$results"
step "running tests"
set +e
pnpm_ exec jest --json --outputFile="$results" --maxWorkers="${JEST_WORKERS:-2}" --forceExit "$@"
status=$?
set -e
node -e '
  const fs = require("fs");
  const f = process.argv[1];
  if (!fs.existsSync(f)) { console.log("0 passed, 1 failed"); process.exit(0); }
  const r = JSON.parse(fs.readFileSync(f, "utf8"));
  // Suites that failed to run (syntax errors, failing hooks) count as failures too.
  const broken = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + broken} failed`);
' "$results"
exit $status
