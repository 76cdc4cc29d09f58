# System tests of the control domain: the demo VMM runs guests by handle,
# hostile guests end in clear exits, and the ABI conformance suite passes.
# Sourced by tests/run_all.sh.

source tests/system/machines.sh

END_OF_TOOL='tool [a-z_]+ finished with status|PANIC|hv: halted\.|control-domain vcpu [0-9]+ stopped'

test_demo_runs_guest_through_emulated_uart() {
    boot demo 120 "$END_OF_TOOL" $(qemu_svm iso/out/hv.iso $SYSTEST_DIR/demo.log 2)
    expect_line "ctl: control domain \"demo\": 128 MiB"
    expect_line "^\[guest hello\] Hello from the test guest"
    expect_line "guest hello exited with status 16"
    expect_line "tool demo finished with status 0"
    expect_clean_run
}

test_guest_output_matches_plain_qemu() {
    # The same image straight under QEMU, its COM1 on a file: the lines it
    # prints must be the lines the VMM relays, in order.
    local plain=$SYSTEST_DIR/hello-plain.log relayed=$SYSTEST_DIR/demo.log
    [ -f "$relayed" ] || test_demo_runs_guest_through_emulated_uart
    timeout 30 qemu-system-x86_64 -accel tcg -cpu EPYC -m 128M -display none \
        -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel build/guest-tools/guests/hello.elf -serial file:$plain </dev/null >/dev/null 2>&1
    local status=$?
    [ $status -eq 33 ] || fail "plain QEMU exit status $status, expected 33 ((0x10 << 1) | 1)"
    diff <(tr -d '\r' < "$plain" | grep -v '^$') \
         <(tr -d '\r' < "$relayed" | sed -n 's/^\[guest hello\] //p') >$SYSTEST_DIR/hello.diff \
        || fail "output differs from plain QEMU (see $SYSTEST_DIR/hello.diff)"
    [ -s "$plain" ] || fail "plain QEMU printed nothing"
}

test_hostile_guests_end_in_clear_exits() {
    boot hostile 180 "$END_OF_TOOL" $(qemu_svm iso/out/hostile.iso $SYSTEST_DIR/hostile.log 2)
    expect_line "guest triple_fault: triple fault \(shutdown\) at rip"
    expect_line "guest vmmcall: hypercall nr 0x1234"
    expect_line "guest outside_memory: access to unmapped guest-physical 0x40000000 \(read\)"
    expect_line "guest spin: time slice expired \(interrupted\) 20 times"
    expect_line "guest hello exited with status 16"
    expect_smp_hello 2
    expect_line "demo: 6 guests run, 0 failed to run"
    expect_line "tool demo finished with status 0"
    expect_clean_run
}

# The control domain's own triple fault (the crash tool: a read of an
# unmapped address with no IDT) is reported with the hypervisor's walks of
# RIP, which the identity map translates to itself, and of CR2, which it
# does not; the harness must not take it for QEMU's walk failure.
expect_control_domain_fault_report() {
    expect_line "crash: reading 0x8000000000 with no IDT"
    local rip
    rip=$(grep -aoE 'control-domain vcpu 0 stopped: triple fault at rip 0x[0-9a-f]+ ' "$LOG" |
          sed -E 's/.* rip (0x[0-9a-f]+) $/\1/')
    [ -n "$rip" ] || fail "no triple-fault report"
    expect_line "control-domain vcpu 0: cr0 0x[0-9a-f]+ cr3 0x[0-9a-f]+ cr4 0x[0-9a-f]+ efer 0x[0-9a-f]+; the hypervisor's walk of rip: 0 gpa $rip, of cr2: -2 gpa 0x0"
    expect_line "control-domain vcpu 0 stopped: triple fault at rip $rip \(.*; cr2 0x8000000000 idt 0x0\)"
    ! qemu_walk_failed_in_the_control_domain || fail "the harness takes the fault for QEMU's"
    expect_no_line "PANIC"
}

test_control_domain_fault_reported_with_walks_svm() {
    boot crash 60 "$END_OF_TOOL" $(qemu_svm iso/out/crash.iso $SYSTEST_DIR/crash.log 1)
    expect_control_domain_fault_report
}

test_control_domain_fault_reported_with_walks_vmx_bochs() {
    boot crash-vmx 120 "$END_OF_TOOL" $(bochs_vmx "$PWD/iso/out/crash.iso" $SYSTEST_DIR/crash-vmx.log 1)
    expect_control_domain_fault_report
}

# expect_smp_hello N: the demo ran smp_hello with N vcpus, each printed its
# line from its own CPU, and vcpu 0 exited with 0x13 once all checked in.
expect_smp_hello() {
    local n=$1 k
    for ((k = 0; k < n; k++)); do
        expect_line "^\[guest smp_hello/$k\] hello from vcpu $k of $n, APIC ID [0-9]+"
    done
    expect_line "^\[guest smp_hello/0\] all $n vcpus checked in"
    expect_line "guest smp_hello/0 exited with status 19"
}

test_smp_guest_vcpus_print_from_distinct_cpus() {
    boot smp-hello 180 "$END_OF_TOOL" $(qemu_svm_one_thread iso/out/hostile.iso $SYSTEST_DIR/smp-hello.log 4)
    expect_smp_hello 4
    expect_line "tool demo finished with status 0"
    expect_clean_run
    local ids
    ids=$(grep -aoE '^\[guest smp_hello/[0-9]+\] hello from vcpu [0-9]+ of 4, APIC ID [0-9]+' "$LOG" \
          | sed 's/.*APIC ID //' | sort -u | wc -l)
    [ "$ids" -eq 4 ] || fail "4 vcpus printed from $ids distinct APIC IDs, expected 4"
}

# run_hvtest NAME CPUS
run_hvtest() {
    boot "$1" 600 "$END_OF_TOOL" $(qemu_svm iso/out/hvtest.iso $SYSTEST_DIR/$1.log "$2")
    expect_line "hvtest: [0-9]+ passed, 0 failed"
    expect_line "tool hvtest finished with status 0"
    expect_no_line "hvtest: info debug exit DR6"   # QEMU writes the #DB's cause
    expect_no_line "run watchdog: CPU"  # it leaves ordinary RUNs alone
    expect_clean_run
    grep -a "hvtest: FAIL" "$LOG" | head -20 | sed 's/^/    /'
    echo "    $(grep -aoE 'hvtest: [0-9]+ passed, [0-9]+ failed' "$LOG") (-smp $2, ${ELAPSED}s)"
}

# Under QEMU's TCG the x87 guard is on by itself (qemu_x87_guard=auto,
# hv/fpu.c), and the suite's extended-state tests run with it. An NMI held
# back by a MOV SS shadow with IF clear comes with the exit that SVM's
# entry arranges (an interrupt of the CPU's own): before the shadow's
# instruction here, as QEMU ignores the shadow; without that exit, at the
# guest's next exit.
test_conformance_suite_smp1() {
    run_hvtest hvtest-smp1 1
    expect_line "fpu: guests' extended state switched with XSAVEOPT, .*, initial x87 marked \(qemu_x87_guard\)"
    expect_line "PASS xstate_initial_x87_beside_x87_in_use"
    expect_line "hvtest: info nmi in MOV SS shadow: before the shadow's instruction"
}

# The extended-state tests with the hypervisor switching by FXSAVE, as on
# a CPU without XSAVE (the xsave=off option).
test_extended_state_switched_with_fxsave() {
    boot hvtest-fxsave 300 "$END_OF_TOOL" $(qemu_svm iso/out/hvtest-fxsave.iso $SYSTEST_DIR/hvtest-fxsave.log 1)
    expect_line "fpu: guests' extended state switched with FXSAVE"
    expect_line "hvtest: [0-9]+ passed, 0 failed"
    expect_line "PASS xstate_two_vms_on_one_cpu_keep_their_own_extended_state"
    expect_clean_run
    grep -a "hvtest: FAIL" "$LOG" | head -20 | sed 's/^/    /'
}
test_conformance_suite_smp4() { run_hvtest hvtest-smp4 4; }
