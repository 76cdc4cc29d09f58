#!/usr/bin/env bash
# Every test of the project: host unit tests, then system tests that boot the
# ISO under QEMU and Bochs. Prints progress and ends with one line
# "N passed, N failed". Run through `make test`, which builds first.
#   TESTS=regex tests/run_all.sh   runs only the system tests matching regex
set -u
cd "$(dirname "$0")/.."
export SYSTEST_DIR=build/systest
mkdir -p "$SYSTEST_DIR"

source tests/unit_runner.sh
source tests/system/lib.sh
for f in tests/system/*_tests.sh; do source "$f"; done

echo "== unit tests (host)"
shopt -s nullglob
run_unit_tests build/unit/test_*
shopt -u nullglob
passed=$UNIT_PASSED
failed=$UNIT_FAILED

echo "== system tests (emulators)"
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
    [[ -n "${TESTS:-}" && ! "$t" =~ ${TESTS} ]] && continue
    TEST_FAILED=0
    started=$(date +%s)
    echo "  run   ${t#test_} ..."
    "$t"
    took=$(( $(date +%s) - started ))
    if [ "$TEST_FAILED" -eq 0 ]; then
        echo "  PASS  ${t#test_} (${took}s)"
        passed=$((passed + 1))
    else
        echo "  FAIL  ${t#test_} (${took}s)"
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
