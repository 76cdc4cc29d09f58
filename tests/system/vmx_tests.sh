# System tests of the VMX backend under Bochs (the only VMX here): the same
# demo and conformance suite as under QEMU/SVM, with identical pass/fail
# lines. Sourced by tests/run_all.sh.

source tests/system/machines.sh

test_vmx_demo_runs_guest() {
    boot vmx-demo 300 "$END_OF_TOOL" $(bochs_vmx "$PWD/iso/out/hostile.iso" "$PWD/$SYSTEST_DIR/vmx-demo.log" 2)
    expect_line "virt: using vmx"
    expect_line "^\[guest hello\] Hello from the test guest"
    expect_line "guest hello exited with status 16"
    expect_line "guest triple_fault: triple fault \(shutdown\) at rip"
    expect_line "guest vmmcall: hypercall nr 0x1234"
    expect_line "guest outside_memory: access to unmapped guest-physical 0x40000000 \(read\)"
    expect_line "guest spin: time slice expired \(interrupted\) 20 times"
    # smp_hello with a vcpu on each of the 2 CPUs (control_domain_tests.sh).
    expect_smp_hello 2
    expect_line "tool demo finished with status 0"
    expect_clean_run
}

test_vmx_conformance_suite_bochs_smp2() {
    boot vmx-hvtest 900 "$END_OF_TOOL" $(bochs_vmx "$PWD/iso/out/hvtest.iso" "$PWD/$SYSTEST_DIR/vmx-hvtest.log" 2)
    # Bochs' Skylake-X has APIC-register virtualization: the suite's xAPIC
    # cases run through it (vmx/vmx_apicv.c), SVM's without.
    expect_line "virt: using vmx .*APIC-register virtualization yes"
    # Bochs is not QEMU's TCG: no x87 guard (qemu_x87_guard=auto).
    expect_line "fpu: guests' extended state switched with XSAVEOPT, XCR0 0x[0-9a-f]+, [0-9]+-byte images.?$"
    expect_line "hvtest: [0-9]+ passed, 0 failed"
    expect_line "tool hvtest finished with status 0"
    expect_no_line "run watchdog: CPU"
    expect_clean_run
    grep -a "hvtest: FAIL" "$LOG" | head -20 | sed 's/^/    /'
    echo "    $(grep -aoE 'hvtest: [0-9]+ passed, [0-9]+ failed' "$LOG") (Bochs, 2 CPUs, ${ELAPSED}s)"
    # The same lines as under SVM, if that run is there to compare with:
    # one of this ISO (a log older than it is an earlier build's).
    local svm=$SYSTEST_DIR/hvtest-smp1.log
    if [ "$svm" -nt iso/out/hvtest.iso ]; then
        diff <(grep -aoE 'hvtest: (PASS|FAIL) [a-z0-9_]+' "$svm") \
             <(grep -aoE 'hvtest: (PASS|FAIL) [a-z0-9_]+' "$LOG") >$SYSTEST_DIR/vmx-svm.diff \
            || fail "pass/fail lines differ between SVM and VMX (see $SYSTEST_DIR/vmx-svm.diff)"
        # SET_SREGS accepts and refuses the same states on both backends:
        # the sweep's digest of its decisions must match.
        diff <(grep -aoE 'hvtest: info sregs sweep: .*' "$svm" | tr -d '\r') \
             <(grep -aoE 'hvtest: info sregs sweep: .*' "$LOG" | tr -d '\r') >$SYSTEST_DIR/vmx-svm-sregs.diff \
            || fail "SET_SREGS decisions differ between SVM and VMX (see $SYSTEST_DIR/vmx-svm-sregs.diff)"
        # SET_VCPU_EVENTS too: the random sweep accepts as many on both.
        diff <(grep -aoE 'hvtest: info events sweep: .*' "$svm" | tr -d '\r') \
             <(grep -aoE 'hvtest: info events sweep: .*' "$LOG" | tr -d '\r') >$SYSTEST_DIR/vmx-svm-events.diff \
            || fail "SET_VCPU_EVENTS decisions differ between SVM and VMX (see $SYSTEST_DIR/vmx-svm-events.diff)"
    fi
}

# The suite's local-APIC cases on VMX without the CPU's APIC
# virtualization (apicv=off): the decoding path that a relocated APIC
# base or a CPU without it takes, as SVM's.
test_vmx_lapic_cases_with_apicv_off_bochs() {
    boot vmx-hvtest-noapicv 300 "$END_OF_TOOL" \
        $(bochs_vmx "$PWD/iso/out/hvtest-noapicv.iso" "$PWD/$SYSTEST_DIR/vmx-hvtest-noapicv.log" 1)
    expect_line "virt: using vmx .*APIC-register virtualization off \\(apicv=off\\)"
    expect_line "hvtest: [0-9]+ passed, 0 failed"
    expect_line "tool hvtest finished with status 0"
    expect_clean_run
    grep -a "hvtest: FAIL" "$LOG" | head -20 | sed 's/^/    /'
    echo "    $(grep -aoE 'hvtest: [0-9]+ passed, [0-9]+ failed' "$LOG") (Bochs, apicv=off, ${ELAPSED}s)"
}

# The per-vcpu MSR tests (hvtest's vcpu_msr_*) on a CPU model that has
# SPEC_CTRL, PRED_CMD (IBPB) and ARCH_CAPABILITIES: Bochs 2.7 gives them
# to corei7_icelake_u and tigerlake only, and QEMU's TCG to no model (it
# drops ibpb, spec-ctrl, amd-ssbd, ... from EPYC-IBPB, EPYC-Rome and
# EPYC-Milan alike), so the default runs check the #GP side only.
test_vmx_vcpu_msrs_with_speculation_controls_icelake() {
    boot vmx-msr-icelake 600 "$END_OF_TOOL" $(bochs_vmx "$PWD/iso/out/hvtest-msr.iso" \
        "$PWD/$SYSTEST_DIR/vmx-msr-icelake.log" 2 corei7_icelake_u)
    expect_line "virt: using vmx"
    expect_line "hvtest: info speculation controls: SPEC_CTRL bits 0x7, IBPB yes, ARCH_CAPABILITIES yes"
    expect_count "hvtest: PASS vcpu_msr_" 8
    expect_line "hvtest: 8 passed, 0 failed"
    expect_line "tool hvtest finished with status 0"
    expect_clean_run
    grep -a "hvtest: FAIL" "$LOG" | head -20 | sed 's/^/    /'
}
