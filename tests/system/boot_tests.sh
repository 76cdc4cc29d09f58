# System tests of the boot foundation: every CPU up with virtualization on,
# under each firmware and backend, and the clear refusal without it.
# Sourced by tests/run_all.sh; each test_* function is one test.

source tests/system/machines.sh

ISO=iso/out/hv.iso

test_boot_qemu_svm_smp1() {
    boot boot-smp1 60 "$END_OF_BOOT" $(qemu_svm $ISO $SYSTEST_DIR/boot-smp1.log 1)
    expect_cpus_virtualized svm 1
    expect_clean_run
}

test_boot_qemu_svm_smp2() {
    boot boot-smp2 60 "$END_OF_BOOT" $(qemu_svm $ISO $SYSTEST_DIR/boot-smp2.log 2)
    expect_cpus_virtualized svm 2
    expect_clean_run
}

test_boot_qemu_svm_smp4() {
    # Stops at the line that says every CPU is up, to time the boot alone.
    boot boot-smp4 60 "all CPUs up with virtualization enabled|$END_OF_BOOT" \
        $(qemu_svm $ISO $SYSTEST_DIR/boot-smp4.log 4)
    expect_cpus_virtualized svm 4
    expect_clean_run
    echo "    wall time from QEMU start to all 4 CPUs up: ${ELAPSED}s"
}

test_boot_qemu_uefi_smp2() {
    boot boot-uefi 120 "$END_OF_BOOT" $(qemu_svm_uefi $ISO $SYSTEST_DIR/boot-uefi.log 2)
    expect_cpus_virtualized svm 2
    expect_clean_run
}

test_boot_qemu_multiboot1_kernel() {
    # `qemu -kernel` speaks only multiboot1: the image's a.out-kludge header.
    boot boot-mb1 60 "$END_OF_BOOT" "${QEMU_BASE[@]}" -cpu EPYC,+svm,+npt -smp 2 -m 512M \
        -kernel build/hv.elf -append "loglevel=debug" -serial file:$SYSTEST_DIR/boot-mb1.log
    expect_line "\(multiboot1\)"
    expect_no_line "ignoring bad or unknown option"
    expect_cpus_virtualized svm 2
    expect_line "no control domain module given"
    expect_clean_run
}

test_boot_bochs_vmx_smp2() {
    boot boot-bochs 240 "$END_OF_BOOT" $(bochs_vmx "$PWD/$ISO" "$PWD/$SYSTEST_DIR/boot-bochs.log" 2)
    expect_line "virt: using vmx .*EPT"
    expect_cpus_virtualized vmx 2
    echo "    wall time from Bochs start to both CPUs up: ${ELAPSED}s"
}

test_no_virtualization_gives_clear_message() {
    boot boot-novirt 60 "$END_OF_BOOT" $(qemu_svm $ISO $SYSTEST_DIR/boot-novirt.log 2 qemu64,-svm)
    expect_line "has neither AMD SVM nor Intel VMX"
    expect_line "fix: enable AMD-V \(SVM\) or Intel VT-x in the firmware setup"
    expect_line "hv: halted\."
    expect_no_line "enabled on CPU"
}

test_svm_without_npt_gives_clear_message() {
    boot boot-nonpt 60 "$END_OF_BOOT" $(qemu_svm $ISO $SYSTEST_DIR/boot-nonpt.log 1 qemu64,+svm,-npt)
    expect_line "SVM without nested paging \(NPT\) is not supported"
    expect_line "hv: halted\."
}

# A VMX CPU without EPT (Bochs' Core 2 Penryn): the hypervisor says what
# it needs and halts, as for SVM without NPT.
test_vmx_without_ept_gives_clear_message() {
    boot boot-noept 120 "$END_OF_BOOT" $(bochs_vmx "$PWD/$ISO" "$PWD/$SYSTEST_DIR/boot-noept.log" 1 \
        core2_penryn_t9600)
    expect_line "virt: vmx: VMX without EPT is not supported: use a CPU with EPT"
    expect_line "hv: no usable hardware virtualization"
    expect_line "hv: halted\\."
    expect_no_line "virt: using"
}

test_exception_report_shows_registers_and_backtrace() {
    # fault_test makes the hypervisor execute UD2 after boot.
    boot boot-fault 60 "$END_OF_BOOT" "${QEMU_BASE[@]}" -cpu EPYC,+svm,+npt -smp 2 -m 512M \
        -kernel build/hv.elf -append "fault_test" -serial file:$SYSTEST_DIR/boot-fault.log
    expect_line "PANIC: exception 6 \(invalid opcode\), error code 0x0"
    expect_line "  rip [0-9a-f]{16} cs 0008 rflags"
    expect_line "  rax [0-9a-f]{16} rbx [0-9a-f]{16} rcx"
    expect_line "  r13 [0-9a-f]{16} r14"
    expect_line "backtrace \(addr2line -e build/hv.elf\):"
    expect_line "  #0 0x0000000000[0-9a-f]{6}"
    expect_line "CPU halted\."
    # The reported RIP is the UD2 in boot_main.
    local rip
    rip=$(grep -aoE 'rip [0-9a-f]{16}' "$LOG" | head -1 | cut -d' ' -f2)
    addr2line -f -e build/hv.elf "0x$rip" 2>/dev/null | head -1 | grep -q boot_main \
        || fail "reported rip 0x$rip is not in boot_main"
}
