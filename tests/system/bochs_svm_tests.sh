# The SVM backend on Bochs' own SVM (CPU model ryzen: next-RIP save, no
# decode assists), a second implementation beside QEMU's TCG. Sourced by
# tests/run_all.sh.

source tests/system/machines.sh

# GET/SET_VCPU_EVENTS and the NMI window (hvtest's vcpu_events_*): the
# single step over the guest's IRET that brings a pending NMI in right
# after it, and the interrupt shadow a VMRUN loads, which QEMU's TCG
# ignores (the suite reports it on SVM; here it must hold).
test_vcpu_events_on_bochs_svm() {
    boot bochs-svm-events 600 "$END_OF_TOOL" $(bochs_vmx "$PWD/iso/out/hvtest-events.iso" \
        "$PWD/$SYSTEST_DIR/bochs-svm-events.log" 2 ryzen)
    expect_line "virt: using svm"
    expect_count "hvtest: PASS vcpu_events_" 10
    expect_line "hvtest: 10 passed, 0 failed"
    expect_line "hvtest: info shadow: .*\(shadow held\)"
    # Bochs keeps the VMCB's shadow, so the NMI must come after its
    # instruction (QEMU, which ignores it, may take it before). Only
    # STI's: under MOV SS's IF is clear, and Bochs then takes no
    # interrupt in the guest (README, known limits).
    expect_line "hvtest: info nmi in STI shadow: after the shadow's instruction"
    expect_line "tool hvtest finished with status 0"
    expect_clean_run
    grep -a "hvtest: FAIL" "$LOG" | head -20 | sed 's/^/    /'
}

# DEBUG_GUEST's hardware breakpoints (hvtest's tests whose names hold
# "debug_"; of the other debugregs_* ones, busy_while_running_elsewhere
# does not end under Bochs' SVM: its spinning guest runs with IF clear,
# Bochs' SVM then takes neither the slice's timer nor the kick (README,
# known limits), and CPU 0 waits for CPU 1 spinning, not in the HLT that
# would arm the run watchdog). The
# hypervisor keeps guests' breakpoints out of its own DR7, so QEMU's TCG,
# which arms a breakpoint only on a MOV to DR7, never stops at one (the suite reports that on
# SVM); Bochs' SVM loads them from the VMCB as hardware does, so every
# one must stop here, the one in code with a CS base included. (Bochs
# leaves the VMCB's DR6 unwritten at a #DB intercept: the suite says so.)
test_debug_breakpoints_on_bochs_svm() {
    boot bochs-svm-debug 600 "$END_OF_TOOL" $(bochs_vmx "$PWD/iso/out/hvtest-debug.iso" \
        "$PWD/$SYSTEST_DIR/bochs-svm-debug.log" 2 ryzen)
    expect_line "virt: using svm"
    expect_count "hvtest: info hw breakpoint: .*: stopped at it" 4
    expect_no_line "hvtest: info hw breakpoint: .*ran past"
    expect_line "hvtest: PASS debug_breakpoint_in_code_with_cs_base"
    expect_no_line "hvtest: FAIL"
    expect_line "hvtest: [0-9]+ passed, 0 failed"
    expect_line "tool hvtest finished with status 0"
    expect_clean_run
    grep -a "hvtest: FAIL" "$LOG" | head -20 | sed 's/^/    /'
}

# CPUID with next-RIP save, as every AMD CPU since 2010 has and QEMU's TCG
# lacks: the exit's length comes from the VMCB (svm/svm_insn.h), so a
# paging guest's plain CPUID needs no read of its code, and a prefixed
# one (longer than two bytes) goes the general way and resumes after its
# prefix (hvtest's prefixed_cpuid_resumes_after_it). Every CPUID case of
# the suite, under Bochs' ryzen.
test_cpuid_with_next_rip_save_on_bochs_svm() {
    boot bochs-svm-cpuid 600 "$END_OF_TOOL" $(bochs_vmx "$PWD/iso/out/hvtest-cpuid.iso" \
        "$PWD/$SYSTEST_DIR/bochs-svm-cpuid.log" 1 ryzen)
    expect_line "virt: using svm .*next-RIP yes"
    expect_line "hvtest: PASS prefixed_cpuid_resumes_after_it"
    expect_line "hvtest: PASS child_cpuid_reports_signature"
    expect_no_line "hvtest: FAIL"
    expect_line "hvtest: [0-9]+ passed, 0 failed"
    expect_line "tool hvtest finished with status 0"
    expect_clean_run
    grep -a "hvtest: FAIL" "$LOG" | head -20 | sed 's/^/    /'
}
