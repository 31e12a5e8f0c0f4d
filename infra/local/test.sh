#!/usr/bin/env bash
# `npm test`: every test of every workspace against the real PostgreSQL, Redis, Kafka and S3 server.
# Where they come from is chosen and printed by packages/test-kit/src/infra/cli.ts: MPB_INFRA=local
# (the machine's own, started when down), MPB_INFRA=containers (Docker, removed at the end), or unset
# (the addresses in the environment, else the local servers when this machine has them, else
# containers). Prints `N passed, N failed` as its last line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
ensure_pnpm
ensure_chromium
install_and_build
results=$REPO_ROOT/.local/jest-results
rm -f "$results".files
# Ctrl-C reaches every process; the infra runner removes its containers first, then this script stops.
trap 'exit 130' INT TERM
status=0
node "$REPO_ROOT/packages/test-kit/dist/infra/cli.js" run -- bash "$REPO_ROOT/infra/local/run-jest.sh" "$results" "$@" ||
  status=1
node -e '
  const fs = require("fs");
  const list = process.argv[1];
  const files = fs.existsSync(list) ? fs.readFileSync(list, "utf8").split("\n").filter(Boolean) : [];
  let passed = 0;
  // No run at all (the infrastructure did not come up) is a failure too.
  let failed = files.length === 0 ? 1 : 0;
  for (const f of files) {
    // A run that wrote no results failed before it could count anything.
    if (!fs.existsSync(f)) { failed += 1; continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    // Suites that failed to run (syntax errors, failing hooks) count as failures too.
    const broken = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
    passed += r.numPassedTests;
    failed += r.numFailedTests + broken;
  }
  console.log(`${passed} passed, ${failed} failed`);
' "$results.files"
exit $status
