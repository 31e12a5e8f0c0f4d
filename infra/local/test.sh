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
fault_results="$REPO_ROOT/.local/jest-results-faults.json"
mkdir -p "$(dirname "$results")"
rm -f "$results" "$fault_results"
# Two runs: every project but the fault suite on all workers, then the fault suite alone and in band
# (it stops a broker and kills services of its own platform instance; timing must not compete).
# Arguments go to jest: `npm test -- --selectProjects @mpb/faults` runs only the fault suite, another
# `--selectProjects` only the first run; a path pattern goes to both runs.
args=" $* "
run_main=1
run_faults=1
if [[ $args == *" @mpb/faults "* ]]; then run_main=0; elif [[ $args == *" --selectProjects "* ]]; then run_faults=0; fi
files=()
status=0
set +e
if ((run_main)); then
  step "running tests"
  files+=("$results")
  pnpm_ exec jest --json --outputFile="$results" --maxWorkers="${JEST_WORKERS:-2}" --forceExit \
    --ignoreProjects @mpb/faults --passWithNoTests "$@" || status=1
fi
if ((run_faults)); then
  step "running fault tests (one file at a time, under load)"
  files+=("$fault_results")
  pnpm_ exec jest --json --outputFile="$fault_results" --runInBand --forceExit \
    --selectProjects @mpb/faults --passWithNoTests "$@" || status=1
fi
set -e
node -e '
  const fs = require("fs");
  let passed = 0;
  let failed = 0;
  for (const f of process.argv.slice(1)) {
    // A run that wrote no results failed before it could count anything.
    if (!fs.existsSync(f)) { failed += 1; continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    // Suites that failed to run (syntax errors, failing hooks) count as failures too.
    const broken = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.length === 0).length;
    passed += r.numPassedTests;
    failed += r.numFailedTests + broken;
  }
  console.log(`${passed} passed, ${failed} failed`);
' "${files[@]}"
exit $status
