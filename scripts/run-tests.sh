#!/usr/bin/env bash
# Runs every compiled test file with node-tap and ends with one plain summary line
# ("tests: N passed, N failed, N skipped") that CI reads. Full TAP goes to <build>/test-results.tap;
# the console shows one line per test file plus the details of anything that failed.
# Usage: scripts/run-tests.sh [build dir (default dist)] [file filter regex]
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-dist}
filter=${2:-.}
mapfile -t files < <(find "$build/test" -name '*.test.js' | grep -E "$filter" | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "no test files under $build/test matching $filter" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
log=$build/test-results.tap
# Coverage is reported, not gated (a summary below; the lcov/HTML report with
# `npx tap report html`); COVERAGE=0 turns it off for a quicker run.
coverage=(--no-disable-coverage --allow-incomplete-coverage --coverage-report=text-summary)
[ "${COVERAGE:-1}" = 0 ] && coverage=(--disable-coverage)
npx tap "${coverage[@]}" --reporter=tap --jobs="${TEST_JOBS:-2}" "${files[@]}" > "$log" 2>&1
status=$?
# File-level results, and for failures the failing assertion with its diagnostics.
awk '
  /^(ok|not ok) / { print; next }
  /^[[:space:]]*not ok / { show = 1; print; next }
  show && /^[[:space:]]*(---|[a-z_]+:|\.\.\.)/ { print; if ($0 ~ /^[[:space:]]*\.\.\./) show = 0; next }
  show && /^[[:space:]]/ { print; next }
  { show = 0 }
  /^# (Subtest|No coverage)/ { next }
  /^# ERROR: incomplete / { next }
  /^(=+ Coverage summary|Statements|Branches|Functions|Lines) / { print; next }
  /^# / { print }
' "$log"
summary=$(grep -E '^# \{ total:' "$log" | tail -1)
num() { echo "$summary" | grep -oE "$1: [0-9]+" | grep -oE '[0-9]+' || echo 0; }
pass=$(num pass); fail=$(num fail); skip=$(num skip); todo=$(num todo)
if [ -z "$summary" ]; then fail=1; echo "tap printed no summary; see $log" >&2; fi
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
echo "tests: ${pass} passed, ${fail} failed, $((skip + todo)) skipped"
exit "$status"
