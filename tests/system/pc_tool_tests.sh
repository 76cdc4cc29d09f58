# System tests of the control domain's `pc` tool: a guest module booted on
# the virtual PC (local APICs in the hypervisor, the platform in the VMM),
# its COM1 lines relayed as "[guest <name>] <line>" and its isa-debug-exit
# status reported as "[ctl] guest <name> exited with status <N>", on
# QEMU/SVM and on Bochs/VMX. The guest has 3 vcpus on 2 CPUs: its APs wait
# for an INIT-SIPI-SIPI that hello never sends, time-sharing a CPU with
# the BSP, and must not keep the VM from ending. Sourced by
# tests/run_all.sh.

source tests/system/machines.sh

PC_END_OF_TOOL='tool [a-z_]+ finished with status|PANIC|hv: halted\.|control-domain vcpu [0-9]+ stopped'

# expect_pc_hello: the lines every run of pc-hello.iso must show.
expect_pc_hello() {
    expect_line "^\[ctl\] running tool pc"
    expect_line "^\[ctl\] pc: starting guest hello \(module 1 of 1, [0-9]+ bytes, 32 MiB RAM, 3 vcpus\)"
    expect_line "^\[guest hello\] Hello from the test guest"
    expect_line "^\[guest hello\] multiboot magic 0x2badb002"
    expect_line "^\[ctl\] guest hello exited with status 16"
    expect_line "^\[ctl\] pc: 1 guests run, 0 failed to run"
    expect_line "tool pc finished with status 0"
    expect_no_line "unemulated port|nothing there|stopped:"
    expect_clean_run
}

# The relayed lines are the lines hello prints straight on QEMU.
expect_pc_hello_matches_plain_qemu() {
    local plain=$SYSTEST_DIR/pc-hello-plain.log
    timeout 30 qemu-system-x86_64 -machine q35 -accel tcg -cpu EPYC -m 32M -display none \
        -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel build/guest-tools/guests/hello.elf -serial file:$plain </dev/null >/dev/null 2>&1
    diff <(tr -d '\r' < "$plain" | grep -v '^$') \
         <(tr -d '\r' < "$LOG" | sed -n 's/^\[guest hello\] //p') >$SYSTEST_DIR/pc-hello.diff \
        || fail "relayed lines differ from plain QEMU's (see $SYSTEST_DIR/pc-hello.diff)"
}

test_pc_tool_boots_hello_on_the_virtual_pc_svm() {
    boot pc-hello 120 "$PC_END_OF_TOOL" $(qemu_svm iso/out/pc-hello.iso $SYSTEST_DIR/pc-hello.log 2)
    expect_line "virt: using svm"
    expect_pc_hello
    expect_pc_hello_matches_plain_qemu
    expect_no_line "exit profile:" # only the bench build counts exits so
}

# The hypervisor's bench build (HV_EXIT_PROFILE=1, hv/exit_profile.h) with
# hello under the pc tool and its `profile` option: when the VM dies the
# hypervisor reports its exits by kind, and the I/O exits it says went to
# the VMM are the pc tool's own count of RUNs that returned with one.
expect_exit_profile_matches_the_vmm() {
    local hv_io vmm_io
    expect_line "^\[ctl\] guest hello exited with status 16"
    expect_line "tool pc finished with status 0"
    expect_line "exit profile: cpu[0-9]+ io by vmm: [1-9][0-9]* exits, [1-9][0-9]* ticks"
    expect_no_line "exit profile: .* [0-9]+ exits, 0 ticks"
    hv_io=$(tr -d '\r' <"$LOG" | awk '/exit profile: cpu[0-9]+ io by vmm:/ { n += $(NF-3) } END { print n + 0 }')
    vmm_io=$(tr -d '\r' <"$LOG" | sed -n 's/.*guest hello profile: to the VMM io: \([0-9]*\) returns.*/\1/p')
    [ -n "$vmm_io" ] && [ "$hv_io" -eq "$vmm_io" ] ||
        fail "the hypervisor counted $hv_io I/O exits to the VMM, the pc tool '$vmm_io'"
    expect_clean_run
}

test_exit_profile_build_counts_what_the_vmm_sees_svm() {
    boot pc-hello-profile 120 "$PC_END_OF_TOOL" \
        $(qemu_svm iso/out/pc-hello-profile.iso $SYSTEST_DIR/pc-hello-profile.log 2)
    expect_line "virt: using svm"
    expect_exit_profile_matches_the_vmm
}

test_exit_profile_build_counts_what_the_vmm_sees_vmx_bochs() {
    boot vmx-pc-hello-profile 300 "$PC_END_OF_TOOL" $(bochs_vmx "$PWD/iso/out/pc-hello-profile.iso" \
        "$PWD/$SYSTEST_DIR/vmx-pc-hello-profile.log" 2)
    expect_line "virt: using vmx"
    expect_exit_profile_matches_the_vmm
}

test_pc_tool_boots_hello_on_the_virtual_pc_vmx_bochs() {
    boot vmx-pc-hello 300 "$PC_END_OF_TOOL" $(bochs_vmx "$PWD/iso/out/pc-hello.iso" \
        "$PWD/$SYSTEST_DIR/vmx-pc-hello.log" 2)
    expect_line "virt: using vmx"
    expect_pc_hello
}

# A guest that never ends, stopped by timeout=: the verdict, and where each
# vcpu was (spin loops in its code, above 1 MiB; its AP never started).
test_pc_tool_timeout_reports_where_the_vcpus_were_svm() {
    boot pc-timeout 60 "$PC_END_OF_TOOL" $(qemu_svm iso/out/pc-timeout.iso $SYSTEST_DIR/pc-timeout.log 2)
    expect_line "^\[ctl\] guest spin/0: at the timeout RIP 0x1[0-9a-f]{5} RSP 0x[0-9a-f]+ RFLAGS 0x[0-9a-f]+"
    expect_line "^\[ctl\] guest spin/1: at the timeout RIP 0xfff0 "
    expect_line "^\[ctl\] guest spin stopped: timeout after 2 s"
    expect_line "tool pc finished with status 0"
    expect_clean_run
}
