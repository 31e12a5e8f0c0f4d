#!/usr/bin/env bash
# Runs jest for `npm test` (infra/local/test.sh) with the infrastructure's addresses already in the
# environment (packages/test-kit/src/infra/cli.ts puts them there):
#   bash infra/local/run-jest.sh <results-prefix> [jest args...]
# Two runs: every project but the fault suite on all workers, then the fault suite alone and in band
# (it stops a broker and kills services of its own platform instance; timing must not compete).
# `--selectProjects @mpb/faults` runs only the fault suite, another `--selectProjects` only the first
# run; a path pattern goes to both runs. Each run writes `<prefix>-<run>.json` and its file name to
# `<prefix>.files`, from which test.sh counts (a listed file that is missing counts as a failure).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
prefix=$1
shift
export NODE_ENV=test
mkdir -p "$(dirname "$prefix")"
rm -f "$prefix".files "$prefix"-*.json
args=" $* "
run_main=1
run_faults=1
if [[ $args == *" @mpb/faults "* ]]; then run_main=0; elif [[ $args == *" --selectProjects "* ]]; then run_faults=0; fi
status=0
set +e
if ((run_main)); then
  step "running tests"
  echo "$prefix-main.json" >>"$prefix.files"
  pnpm_ exec jest --json --outputFile="$prefix-main.json" --maxWorkers="${JEST_WORKERS:-2}" --forceExit \
    --ignoreProjects @mpb/faults --passWithNoTests "$@" || status=1
fi
if ((run_faults)); then
  step "running fault tests (one file at a time, under load)"
  echo "$prefix-faults.json" >>"$prefix.files"
  pnpm_ exec jest --json --outputFile="$prefix-faults.json" --runInBand --forceExit \
    --selectProjects @mpb/faults --passWithNoTests "$@" || status=1
fi
exit $status
