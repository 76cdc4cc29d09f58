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
# beside_test SECONDS TEST: TEST may share the host with another test
# (below); SECONDS, how long it took in a fresh-clone `make test`, orders
# those that do, the longest first, so that the two at a time end close
# together (the short Bochs-only tests, unnamed, fill in last).
declare -A BESIDE_SECONDS=()
beside_test() { BESIDE_SECONDS[$2]=$1; }
for f in tests/system/*_tests.sh; do source "$f"; done

echo "== unit tests (host)"
shopt -s nullglob
run_unit_tests build/unit/test_*
shopt -u nullglob
passed=$UNIT_PASSED
failed=$UNIT_FAILED

# Tests that keep to one core and check nothing of the host's time run
# two at a time, after the others, which run alone one after the other:
# those that run only Bochs, one machine at a time (Bochs keeps its own
# clock: its bochsrc has no `clock:` line, so time is its instruction
# count), and those named by beside_test.
listed_beside() { [[ -n "${BESIDE_SECONDS[$1]:-}" ]]; }

runs_beside() {
    local body
    listed_beside "$1" && return 0
    body=$(declare -f "$1")
    [[ $body == *bochs_vmx* && $body != *qemu* && $body != *") &"* ]]
}

# report_test NAME FAILED SECONDS
report_test() {
    if [ "$2" -eq 0 ]; then
        echo "  PASS  ${1#test_} ($3s)"
        passed=$((passed + 1))
    else
        echo "  FAIL  ${1#test_} ($3s)"
        failed=$((failed + 1))
    fi
}

# start_beside TEST: the test in a subshell of its own, its output kept
# and printed once it ended (finish_beside), so that two run at once.
declare -A beside_pid_test=()
start_beside() {
    echo "  run   ${1#test_} ... (beside another)"
    (
        TEST_FAILED=0
        started=$(date +%s)
        "$1" > "$SYSTEST_DIR/$1.out" 2>&1
        echo "$TEST_FAILED $(( $(date +%s) - started ))" > "$SYSTEST_DIR/$1.result"
    ) &
    beside_pid_test[$!]=$1
}

finish_beside() {
    local pid t test_failed took
    wait -n -p pid
    t=${beside_pid_test[$pid]}
    unset "beside_pid_test[$pid]"
    cat "$SYSTEST_DIR/$t.out"
    read -r test_failed took < "$SYSTEST_DIR/$t.result" || { test_failed=1; took=0; }
    report_test "$t" "$test_failed" "$took"
}

echo "== system tests (emulators)"
beside_tests=()
for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
    [[ -n "${TESTS:-}" && ! "$t" =~ ${TESTS} ]] && continue
    if runs_beside "$t"; then
        beside_tests+=("${BESIDE_SECONDS[$t]:-0} $t")
        continue
    fi
    TEST_FAILED=0
    started=$(date +%s)
    echo "  run   ${t#test_} ..."
    "$t"
    report_test "$t" "$TEST_FAILED" $(( $(date +%s) - started ))
done
(( ${#beside_tests[@]} == 0 )) ||
    mapfile -t beside_tests < <(printf '%s\n' "${beside_tests[@]}" | sort -s -k1,1nr | cut -d' ' -f2)
for t in "${beside_tests[@]}"; do
    (( ${#beside_pid_test[@]} < 2 )) || finish_beside
    rm -f "$SYSTEST_DIR/$t.result"
    start_beside "$t"
done
while (( ${#beside_pid_test[@]} > 0 )); do
    finish_beside
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
