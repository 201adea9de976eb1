#!/usr/bin/env bash
# The whole test suite, as CI runs it (`npm test`, `.ci/run`): set-up (which also builds the node
# image and the test guest, and installs the Node.js of node-version.env where the node found is
# older or missing), type check, unit tests, integration tests, end-to-end tests (node containers in
# the Docker engine), every step after the set-up on that node. Stops at the first failing step.
# The last line is always
#   N passed, N failed
# counting jest test cases of all runs.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

RESULTS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/bmcfleet-test.XXXXXX")"
trap 'rm -rf "$RESULTS_DIR"' EXIT

started_at=$SECONDS
passed=0
failed=0

say() { printf '\n== %s\n' "$*"; }

# Adds the test-case counts of a jest --json result file to the totals.
count_results() {
  local file="$1" counts
  [ -s "$file" ] || return 0
  counts="$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    process.stdout.write(`${r.numPassedTests} ${r.numFailedTests}`);' "$file")" || return 0
  passed=$((passed + ${counts% *}))
  failed=$((failed + ${counts#* }))
}

finish() {
  local status="$1" what="$2"
  printf '\n%s (%s s)\n' "$what" "$((SECONDS - started_at))"
  printf '%d passed, %d failed\n' "$passed" "$failed"
  exit "$status"
}

# Runs one step; on failure prints the summary and stops.
step() {
  local name="$1"
  shift
  say "$name"
  if ! "$@"; then
    finish 1 "FAILED: $name"
  fi
}

jest_step() {
  local name="$1" script="$2" file="$RESULTS_DIR/$2.json" status=0
  say "$name"
  npm run --silent "$script" -- --json --outputFile="$file" || status=$?
  count_results "$file"
  if [ "$status" -ne 0 ]; then
    finish 1 "FAILED: $name"
  fi
}

# The node every later step runs on: the set-up's (`npm test` itself may have been started by an
# older one, which the set-up has just replaced on PATH). hash -r forgets earlier look-ups.
check_node() {
  local want have
  # shellcheck source=scripts/install-node.sh
  source "$REPO_ROOT/scripts/install-node.sh"
  want="$(node_pin NODE_VERSION)"
  hash -r
  have="$(node -p 'process.versions.node')"
  printf 'node %s (%s), npm %s; node-version.env declares %s\n' "$have" "$(command -v node)" "$(npm --version)" "$want"
  if node_version_lt "$have" "$want"; then
    printf 'node %s is older than %s: run "bash scripts/setup.sh"\n' "$have" "$want" >&2
    return 1
  fi
}

step "setup" bash scripts/setup.sh
step "node" check_node
step "type check" npm run --silent typecheck
jest_step "unit tests" test:unit
jest_step "integration tests" test:int
jest_step "end-to-end tests" test:e2e
if [ "$failed" -ne 0 ]; then
  finish 1 "FAILED: some tests failed"
fi
finish 0 "all steps passed"
