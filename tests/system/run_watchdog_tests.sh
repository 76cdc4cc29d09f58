# System tests of the run watchdog (hv/run_watchdog.h, issue 13 problem 5):
# the hypervisor is started with the test option `lost_slice_interrupts`,
# under which a child's interrupt and slice-timer exits end nothing, as if
# its CPU had not taken the interrupts (the RUNs that never ended under
# QEMU). The conformance suite's run_watchdog case spins a child in a RUN
# on CPU 1 while CPU 0 waits in HLT: only the watchdog's NMI, sent by CPU 0
# ten slices (100 ms) past the RUN's end, can end that RUN. The ordinary
# conformance suites check the other half: no watchdog NMI in their runs.
# Sourced by tests/run_all.sh.

source tests/system/machines.sh

# Both cases: CPU 1's RUN under way when CPU 0 halts, and entered 20 ms
# after it (the watchdog's timer must be armed at that HLT all the same).
expect_watchdog_rescue() {
    local us which
    expect_line "hv: lost_slice_interrupts: children's RUNs end only by the run watchdog's NMI"
    expect_line "run watchdog: CPU 1 is [0-9]+ ms past its RUN's slice without an exit: NMI"
    expect_line "hvtest: PASS run_watchdog_spinning_run_on_another_cpu_ends_with_intr"
    expect_line "hvtest: PASS run_watchdog_run_entered_after_this_cpu_halted_ends_with_intr"
    expect_line "hvtest: 2 passed, 0 failed"
    expect_line "tool hvtest finished with status 0"
    expect_clean_run
    for which in "the spinning RUN" "the spinning RUN entered after CPU 0 halted"; do
        us=$(tr -d '\r' <"$LOG" | sed -n "s/.*run watchdog: $which on CPU 1 ended after \([0-9]*\) us.*/\1/p")
        # Its slice (10 ms) and the watchdog's 10 slices past it at least.
        [ -n "$us" ] && [ "$us" -ge 100000 ] ||
            fail "$which ended after '$us' us, before the watchdog could have ended it"
        echo "    $which ended after ${us:-?} us"
    done
}

test_run_watchdog_ends_a_run_whose_interrupts_are_lost_svm() {
    boot hvtest-watchdog 120 "$END_OF_TOOL" \
        $(qemu_svm iso/out/hvtest-watchdog.iso $SYSTEST_DIR/hvtest-watchdog.log 2)
    expect_watchdog_rescue
}

test_run_watchdog_ends_a_run_whose_interrupts_are_lost_vmx_bochs() {
    boot vmx-hvtest-watchdog 300 "$END_OF_TOOL" \
        $(bochs_vmx "$PWD/iso/out/hvtest-watchdog.iso" "$PWD/$SYSTEST_DIR/vmx-hvtest-watchdog.log" 2)
    expect_line "virt: using vmx"
    expect_watchdog_rescue
}
