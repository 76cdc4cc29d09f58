#!/usr/bin/env bash
# Runs the host unit-test programs given as arguments (cmocka) and prints a
# summary. Used by `make unit`; tests/run_all.sh has the same loop inline.
set -u
cd "$(dirname "$0")/.."
source tests/unit_runner.sh
run_unit_tests "$@"
echo "$UNIT_PASSED passed, $UNIT_FAILED failed"
[ "$UNIT_FAILED" -eq 0 ]
