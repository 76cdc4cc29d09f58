# The fuzzers' short runs (issue 13); `make fuzz` runs them long.
# - The fuzz tool in the control domain (guest-tools/tools/fuzz.c) with a
#   fixed seed on both backends (and a shorter run twice on SVM, whose
#   steps must match): random calls checked against the model of
#   abi/README.md, GET_STATS back at its start, no FAIL_ENTRY after an
#   accepted SET_SREGS, no hypervisor panic or error.
# - Every libFuzzer harness of tests/fuzz/ for a few seconds from its
#   seed corpus, under ASan and UBSan.
# Sourced by tests/run_all.sh.

source tests/system/machines.sh

expect_fuzz_pass() {
    expect_line "fuzz: 0 mismatches"
    expect_line "fuzz: PASS"
    expect_line "tool fuzz finished with status 0"
    expect_clean_run
    grep -a "fuzz: MISMATCH" "$LOG" | head -10 | sed 's/^/    /'
    echo "    $(grep -aoE 'fuzz: [0-9]+ calls done; [0-9]+ RUNs' "$LOG") (${ELAPSED}s)"
    # Where a replay with tracing starts (README, Fuzzing).
    [ "$TEST_FAILED" -eq 0 ] ||
        grep -aoE 'fuzz: step [0-9]+, sequence 0x[0-9a-f]+' "$LOG" | tail -n 1 | sed 's/^/    last /'
}

# QEMU on one thread, and the model accepts a RUN's exit whenever it
# comes: the fuzz runs may share the host with another test.
beside_test 50 test_fuzz_tool_fixed_seed_svm
test_fuzz_tool_fixed_seed_svm() {
    boot fuzz-svm 300 "$END_OF_TOOL" $(qemu_svm_one_thread iso/out/fuzz.iso $SYSTEST_DIR/fuzz-svm.log 2)
    expect_fuzz_pass
}

# A seed makes the same steps whatever its RUNs' exits, which depend on
# timing: two runs print the same sequence lines (the generator's state
# every 65536 steps) and name the same 40 traced steps (their call numbers
# may differ: a RUN may end sooner), so a run that ended early can be
# replayed to its end.
beside_test 40 test_fuzz_tool_replays_its_seed_svm
test_fuzz_tool_replays_its_seed_svm() {
    local run lines=()
    for run in 1 2; do
        boot fuzz-replay-$run 120 "$END_OF_TOOL" \
            $(qemu_svm_one_thread iso/out/fuzz-replay.iso $SYSTEST_DIR/fuzz-replay-$run.log 2)
        expect_fuzz_pass
        lines[run]=$(grep -aoE "fuzz: step [0-9]+(, sequence 0x[0-9a-f]{16}|: [^(]+)" "$LOG")
    done
    [ "$(grep -c ', sequence' <<<"${lines[1]}")" -ge 2 ] || fail "fewer than 2 sequence lines in run 1"
    [ "$(grep -c '^fuzz: step 1966[0-9][0-9]: ' <<<"${lines[1]}")" -eq 40 ] ||
        fail "not 40 traced steps from step 196600 in run 1"
    [ "${lines[1]}" = "${lines[2]}" ] ||
        fail "the runs' steps differ: $(diff <(echo "${lines[1]}") <(echo "${lines[2]}") | grep -m1 '^[<>]')"
}

beside_test 60 test_fuzz_tool_fixed_seed_vmx
test_fuzz_tool_fixed_seed_vmx() {
    boot fuzz-vmx 600 "$END_OF_TOOL" \
        $(bochs_vmx "$PWD/iso/out/fuzz-vmx.iso" "$PWD/$SYSTEST_DIR/fuzz-vmx.log" 2)
    expect_line "virt: using vmx"
    expect_fuzz_pass
}

test_host_fuzz_harnesses_short() {
    local out=$SYSTEST_DIR/host-fuzz.out
    shopt -s nullglob
    local harnesses=(build/fuzz/fuzz_*)
    shopt -u nullglob
    [ "${#harnesses[@]}" -ge 17 ] || fail "only ${#harnesses[@]} harnesses built (make fuzz-harnesses)"
    tests/fuzz/run.sh 2 "${harnesses[@]}" >"$out" 2>&1 || fail "a harness crashed"
    sed 's/^/  /' "$out"
}
# One thread, and no clock it checks: it may share the host with another.
beside_test 60 test_host_fuzz_harnesses_short
