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
INFRA_CLI=$REPO_ROOT/packages/test-kit/dist/infra/cli.js
rm -f "$results"*.files
# Ctrl-C reaches every process; the infra runner removes its containers first, then this script stops.
trap 'exit 130' INT TERM
status=0
lists=("$results.files")
node "$INFRA_CLI" run -- bash "$REPO_ROOT/infra/local/run-jest.sh" "$results" "$@" || status=1

# A full run (no arguments) also runs posts and metrics against containers, so container mode is
# proven on every run (MPB_TEST_CONTAINERS=0 leaves it out), unless the run above used containers.
# It needs Docker, which is installed and started when this user may; without it, it is left out
# with the reason printed.
if (($# == 0)) && [[ ${MPB_TEST_CONTAINERS:-1} != 0 && $(node "$INFRA_CLI" choose 2>/dev/null) != containers ]]; then
  if (source "$REPO_ROOT/infra/docker/ensure-docker.sh" && ensure_docker_engine); then
    step "posts and metrics again, against containers (MPB_INFRA=containers)"
    t=$SECONDS
    lists+=("$results-containers.files")
    MPB_INFRA=containers node "$INFRA_CLI" run -- bash "$REPO_ROOT/infra/local/run-jest.sh" "$results-containers" \
      --selectProjects @mpb/posts @mpb/metrics || status=1
    step "posts and metrics against containers: $((SECONDS - t)) s"
  else
    step "posts and metrics against containers left out: no Docker engine (see above)"
  fi
fi

node -e '
  const fs = require("fs");
  let passed = 0;
  let failed = 0;
  for (const list of process.argv.slice(1)) {
    const files = fs.existsSync(list) ? fs.readFileSync(list, "utf8").split("\n").filter(Boolean) : [];
    // No jest run at all (the infrastructure did not come up) is a failure too.
    if (files.length === 0) failed += 1;
    for (const f of files) {
      // A run that wrote no results failed before it could count anything.
      if (!fs.existsSync(f)) { failed += 1; continue; }
      const r = JSON.parse(fs.readFileSync(f, "utf8"));
      // Suites that failed to run (syntax errors, failing hooks) count as failures too.
      const broken = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
      passed += r.numPassedTests;
      failed += r.numFailedTests + broken;
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
' "${lists[@]}"
exit $status
