# System tests of allocation fault injection (issue 13): the hypervisor is
# started with `fault_inject`, and the conformance suite's fault walks make
# every allocation of CREATE_VM, CREATE_VCPU, DUP, SET_MEMORY_REGION and
# SET_CPUID fail in turn (guest-tools/tools/hvtest_fault.c): each must fail
# with HV_ENOMEM and leave GET_STATS as it was. On both backends, with the
# same allocation counts. Sourced by tests/run_all.sh.

source tests/system/machines.sh

# The walks' lines and the allocations each went through.
FAULT_WALKS=9
expect_fault_walks() {
    expect_line "hvtest: $FAULT_WALKS passed, 0 failed"
    expect_line "tool hvtest finished with status 0"
    expect_line "hv: fault_inject: FAULT_INJECT can make allocations fail"
    expect_line "fault walk CREATE_VM: [1-9][0-9]* allocations"
    expect_line "fault walk CREATE_VCPU: [1-9][0-9]* allocations"
    expect_line "fault walk SET_MEMORY_REGION\(16 KiB across 1 GiB\): [1-9][0-9]* allocations"
    expect_line "fault walk SET_MEMORY_REGION\(dirty-logged, 64 KiB at 5 GiB\): [1-9][0-9]* allocations"
    expect_line "fault walk SET_CPUID: [1-9][0-9]* allocations"
    expect_clean_run
    grep -a "hvtest: FAIL" "$LOG" | head -10 | sed 's/^/    /'
    grep -aoE 'fault walk [^:]+: [0-9]+ allocations' "$LOG" | sed 's/^/    /'
}

test_fault_inject_walks_svm() {
    boot hvtest-fault 300 "$END_OF_TOOL" \
        $(qemu_svm iso/out/hvtest-fault.iso $SYSTEST_DIR/hvtest-fault.log 2)
    expect_fault_walks
}

test_fault_inject_walks_vmx() {
    boot vmx-hvtest-fault 600 "$END_OF_TOOL" \
        $(bochs_vmx "$PWD/iso/out/hvtest-fault.iso" "$PWD/$SYSTEST_DIR/vmx-hvtest-fault.log" 2)
    expect_line "virt: using vmx"
    expect_fault_walks
    # The same counts as SVM's run of this ISO, but for a VM with local
    # APICs: VMX's APIC virtualization gives it an APIC-access page and
    # the EPT tables down to it (each failure walked here all the same).
    local svm=$SYSTEST_DIR/hvtest-fault.log
    if [ "$svm" -nt iso/out/hvtest-fault.iso ]; then
        diff <(grep -aoE 'fault walk [^:]+: [0-9]+ allocations' "$svm" | grep -v HV_VM_LAPIC) \
             <(grep -aoE 'fault walk [^:]+: [0-9]+ allocations' "$LOG" | grep -v HV_VM_LAPIC) \
            >$SYSTEST_DIR/vmx-svm-fault.diff \
            || fail "allocation counts differ between SVM and VMX (see $SYSTEST_DIR/vmx-svm-fault.diff)"
    fi
}
