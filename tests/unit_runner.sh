# run_unit_tests PROGRAM...: runs each cmocka program, counting its tests
# into UNIT_PASSED and UNIT_FAILED (sourced).
run_unit_tests() {
    UNIT_PASSED=0
    UNIT_FAILED=0
    local program out passed failed
    for program in "$@"; do
        out=$(CMOCKA_MESSAGE_OUTPUT=stdout timeout 120 "$program" 2>&1)
        local status=$?
        passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' <<<"$out")
        failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' <<<"$out" | head -1)
        passed=${passed:-0}
        failed=${failed:-0}
        if [ $status -ne 0 ] && [ "$failed" -eq 0 ]; then
            failed=1 # crashed or sanitizer report without a cmocka summary
        fi
        printf '  unit  %-28s %3d passed, %d failed\n' "$(basename "$program")" "$passed" "$failed"
        [ "$failed" -ne 0 ] && sed 's/^/    /' <<<"$out" | grep -vE '^\s*\[ (RUN|      OK) ' | head -40
        UNIT_PASSED=$((UNIT_PASSED + passed))
        UNIT_FAILED=$((UNIT_FAILED + failed))
    done
}
