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
rm -f "$results"*.files "$results"*.line
# Ctrl-C reaches every process; the infra runner removes its containers first, then this script stops.
trap 'exit 130' INT TERM
status=0
lists=("$results.files")
node "$INFRA_CLI" run -- bash "$REPO_ROOT/infra/local/run-jest.sh" "$results" "$@" || status=1

# A full run (no arguments) also proves the container setups on every run, after the suites above:
# - posts and metrics against containers (MPB_INFRA=containers), unless the run above used containers
#   (MPB_TEST_CONTAINERS=0 leaves it out);
# - npm run test:compose, the platform from docker-compose.yml (MPB_TEST_COMPOSE=0 leaves it out);
# - npm run test:scale, the HA platform (docker-compose.ha.yml) under faults, only with MPB_TEST_SCALE=1:
#   it is not yet green (requests over its 6 s answer limit and slow broker recovery on this 2-core
#   machine; issue 14) and takes longer than the CI budget allows.
# All need Docker (the last two a Compose command too), installed and started when this user may;
# without them, each is left out with the reason printed.
if (($# == 0)); then
  if [[ ${MPB_TEST_CONTAINERS:-1} != 0 && $(node "$INFRA_CLI" choose 2>/dev/null) != containers ]]; then
    if (source "$REPO_ROOT/infra/docker/ensure-docker.sh" && ensure_docker_engine); then
      step "posts and metrics again, against containers (MPB_INFRA=containers)"
      t=$SECONDS
      lists+=("$results-containers.files")
      MPB_INFRA=containers node "$INFRA_CLI" run -- bash "$REPO_ROOT/infra/local/run-jest.sh" \
        "$results-containers" --selectProjects @mpb/posts @mpb/metrics || status=1
      step "posts and metrics against containers: $((SECONDS - t)) s"
    else
      step "posts and metrics against containers left out: no Docker engine (see above)"
    fi
  fi
  if [[ ${MPB_TEST_COMPOSE:-1} != 0 ]]; then
    if (source "$REPO_ROOT/infra/docker/ensure-docker.sh" && ensure_docker); then
      step "npm run test:compose (the platform from docker-compose.yml)"
      t=$SECONDS
      lists+=("$results-compose.line")
      rm -f "$results-compose.line"
      bash "$REPO_ROOT/infra/docker/test-compose.sh" | tee "$results-compose.log" || status=1
      tail -n 1 "$results-compose.log" >"$results-compose.line"
      step "test:compose: $((SECONDS - t)) s"
    else
      step "test:compose left out: no Docker engine or Compose command (see above)"
    fi
  fi
  if [[ ${MPB_TEST_SCALE:-0} == 1 ]]; then
    if (source "$REPO_ROOT/infra/docker/ensure-docker.sh" && ensure_docker); then
      step "npm run test:scale (the HA platform under faults)"
      t=$SECONDS
      lists+=("$results-scale.line")
      rm -f "$results-scale.line"
      bash "$REPO_ROOT/infra/docker/test-scale.sh" | tee "$results-scale.log" || status=1
      tail -n 1 "$results-scale.log" >"$results-scale.line"
      step "test:scale: $((SECONDS - t)) s"
    else
      step "test:scale left out: no Docker engine or Compose command (see above)"
    fi
  fi
fi

# The summary over every part: jest's result files (listed in *.files) and the own lines of
# test:compose and test:scale.
node -e '
  const fs = require("fs");
  let passed = 0;
  let failed = 0;
  for (const list of process.argv.slice(1)) {
    if (list.endsWith(".line")) {
      const m = fs.existsSync(list) && /^(\d+) passed, (\d+) failed$/.exec(fs.readFileSync(list, "utf8").trim());
      if (m) { passed += Number(m[1]); failed += Number(m[2]); } else failed += 1;
      continue;
    }
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
