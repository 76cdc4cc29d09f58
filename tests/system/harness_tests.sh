# The harness's own report of an emulator that ends before the expected
# output (issue 13: a fuzz run under QEMU ended once in CI with nothing to
# say why). Each case runs `boot` in a subshell on an emulator that ends
# in a known way and checks what the failure says.
# Sourced by tests/run_all.sh.

source tests/system/machines.sh

# harness_boot_report NAME COMMAND...: boot's output for a run that never
# prints its stop line, and whether it failed
harness_boot_report() {
    local name=$1
    shift
    (
        TEST_FAILED=0
        boot "$name" 30 "no such line in any log" "$@"
        echo "TEST_FAILED=$TEST_FAILED"
    ) 2>/dev/null    # the shell's own "Aborted" notices
}

# expect_report REPORT REGEX
expect_report() {
    grep -qaE "$2" <<<"$1" || fail "missing in the harness's report: $2"
}

test_harness_reports_how_an_emulator_ended() {
    local rom=$SYSTEST_DIR/triple-fault.rom report
    # A 64 KiB firmware whose reset vector loads an empty IDT and executes
    # INT3: #GP, #DF, triple fault, which -no-reboot makes a quiet exit.
    { head -c 65520 /dev/zero; printf '\x2e\x0f\x01\x1e\xf8\xff\xcc'; head -c 9 /dev/zero; } > "$rom"
    report=$(harness_boot_report harness-triple "${QEMU_BASE[@]}" -machine q35 -bios "$rom" \
        -serial "file:$SYSTEST_DIR/harness-triple.log" $(qemu_reset_log "$SYSTEST_DIR/harness-triple.log"))
    expect_report "$report" "TEST_FAILED=1"
    expect_report "$report" "emulator ended before the expected output after [0-9.]+s: exit status 0 "
    expect_report "$report" "QEMU's reset log: 1 triple fault\(s\)"

    # A crash: the signal by name, and the emulator's last words.
    report=$(harness_boot_report harness-abort bash -c \
        'echo "qemu: fatal: invalid tss type" >&2; kill -ABRT $$')
    expect_report "$report" "TEST_FAILED=1"
    expect_report "$report" ": killed by signal 6 \(ABRT\) "
    expect_report "$report" "^      qemu: fatal: invalid tss type$"
    # What the serial log held last.
    report=$(harness_boot_report harness-segv bash -c \
        "echo 'last line before the crash' > $SYSTEST_DIR/harness-segv.log; kill -SEGV \$\$")
    expect_report "$report" ": killed by signal 11 \(SEGV\) "
    expect_report "$report" "^      last line before the crash$"

    # A run that prints its stop line is not reported, whatever its status.
    report=$(
        TEST_FAILED=0
        boot harness-ok 30 "stop here" bash -c \
            "echo 'stop here' > $SYSTEST_DIR/harness-ok.log; exit 3"
        echo "TEST_FAILED=$TEST_FAILED"
    )
    expect_report "$report" "^TEST_FAILED=0$"
    [ "$(grep -c . <<<"$report")" -eq 1 ] || fail "a passing run reported: $report"
}

# boot: another boot after a triple fault
# of the hypervisor (QEMU's, README known limits), said in the output,
# two at most: a third one fails the test; an early end without a triple
# fault is not retried.
test_harness_boots_again_only_after_a_triple_fault() {
    local rom=$SYSTEST_DIR/triple-fault.rom log=$SYSTEST_DIR/harness-again.log report
    { head -c 65520 /dev/zero; printf '\x2e\x0f\x01\x1e\xf8\xff\xcc'; head -c 9 /dev/zero; } > "$rom"
    report=$(
        TEST_FAILED=0
        boot harness-again 30 "no such line in any log" \
            "${QEMU_BASE[@]}" -machine q35 -bios "$rom" -serial "file:$log" $(qemu_reset_log "$log")
        echo "TEST_FAILED=$TEST_FAILED"
    )
    expect_report "$report" "on a triple fault of the hypervisor .*: booting again"
    [ "$(grep -c 'booting again' <<<"$report")" -eq 2 ] || fail "not booted exactly three times: $report"
    expect_report "$report" "TEST_FAILED=1"
    [ -f "$log.qemu.first" ] || fail "the first run's reset log was not kept"
    # An end that is not a triple fault fails at once.
    report=$(
        TEST_FAILED=0
        boot harness-again-abort 30 "no such line in any log" \
            bash -c 'kill -ABRT $$' 2>/dev/null
        echo "TEST_FAILED=$TEST_FAILED"
    )
    ! grep -q 'booting again' <<<"$report" || fail "booted again after an abort: $report"
    expect_report "$report" "TEST_FAILED=1"
}

# The same for the control domain, from the hypervisor's report of its
# vcpu's triple fault: CR2 at gate 8 or at RIP, with the hypervisor's walk
# of CR2 ($HARNESS_WALK) translating it.
harness_control_domain_fault_run() {
    LOG=$SYSTEST_DIR/harness-control-walk.log
    {
        echo "[cpu0] error: ctl: control-domain vcpu 0: cr0 0x80010033 cr3 0x7ffd000" \
            "cr4 0x40660 efer 0xd00; the hypervisor's walk of rip: 0 gpa 0x24a48b," \
            "of cr2: $HARNESS_WALK gpa 0x0"
        echo "[cpu0] error: ctl: control-domain vcpu 0 stopped: triple fault at rip 0x24a48b" \
            "(exit 0x7f, info 0x0 0x0; cr2 0x$HARNESS_CR2 idt 0x213000)"
    } > "$LOG"
    return 0
}

test_harness_boots_again_after_a_control_domain_walk_failure() {
    local report cr2
    for cr2 in 213080 24a48b; do
        report=$(HARNESS_WALK=0 HARNESS_CR2=$cr2 again_after_qemu_triple_fault \
                 harness_control_domain_fault_run)
        [ "$(grep -c 'control domain triple-faulted.*booting again' <<<"$report")" -eq 2 ] ||
            fail "not booted exactly three times for CR2 $cr2, which the tables map: $report"
    done
    [ -f "$SYSTEST_DIR/harness-control-walk.log.first" ] || fail "the first run's log was not kept"
    report=$(HARNESS_WALK=0 HARNESS_CR2=24a000 again_after_qemu_triple_fault \
             harness_control_domain_fault_run)
    ! grep -q 'booting again' <<<"$report" || fail "booted again for CR2 elsewhere: $report"
    report=$(HARNESS_WALK=-2 HARNESS_CR2=24a48b again_after_qemu_triple_fault \
             harness_control_domain_fault_run)
    ! grep -q 'booting again' <<<"$report" ||
        fail "booted again for CR2 the hypervisor's walk does not translate: $report"
}

# A child's triple fault whose state dump has CR2 at gate 8 of its IDT (the
# delivery of #DF failed reading the IDT: QEMU's walk failing in a guest,
# README) boots again, twice at most; CR2 anywhere else does not. The runs
# are a function writing such a dump, no emulator.
harness_guest_dump_run() {
    LOG=$SYSTEST_DIR/harness-guest-walk.log
    {
        echo "[ctl] guest linux/0: triple fault (shutdown) at rip 0xffffffffac475a28"
        echo "[ctl] guest linux/0:   gdt fffffe0000001000/007f idt fffffe0000000000/0fff"
        echo "[ctl] guest linux/0:   cr0 80050033 cr2 $HARNESS_CR2 cr3 000000000277a000 cr4 003506b0"
    } > "$LOG"
    return 0
}

test_harness_boots_again_after_a_guest_walk_failure() {
    local report
    report=$(HARNESS_CR2=fffffe0000000080 again_after_qemu_triple_fault harness_guest_dump_run)
    [ "$(grep -c 'gate 8.*booting again' <<<"$report")" -eq 2 ] ||
        fail "not booted exactly three times for CR2 at gate 8: $report"
    [ -f "$SYSTEST_DIR/harness-guest-walk.log.first" ] || fail "the first run's log was not kept"
    report=$(HARNESS_CR2=fffffe00000000e0 again_after_qemu_triple_fault harness_guest_dump_run)
    ! grep -q 'booting again' <<<"$report" || fail "booted again for CR2 at gate 14: $report"
    # A test may allow more boots (the two-guests test: QEMU_FAULT_BOOTS=5).
    report=$(HARNESS_CR2=fffffe0000000080 QEMU_FAULT_BOOTS=5 again_after_qemu_triple_fault \
             harness_guest_dump_run)
    [ "$(grep -c 'gate 8.*booting again' <<<"$report")" -eq 4 ] ||
        fail "not booted exactly five times with QEMU_FAULT_BOOTS=5: $report"
}

# pc_emulate ends a run whose log says the machine stopped for good (here
# a control domain's triple fault) at once, with PC_STATUS 1, rather than
# at its timeout: the boot-again guards then judge it, and a CI run does
# not wait out 600 s for each such boot.
test_harness_pc_emulate_ends_at_a_stopped_control_domain() {
    local -a PC_REPLIES=()
    local started=$SECONDS
    pc_emulate "$SYSTEST_DIR/harness-pc-stop.log" 60 bash -c \
        'echo "[cpu0] error: ctl: control-domain vcpu 0 stopped: triple fault at rip 0x1"; exec sleep 50'
    [ "$PC_STATUS" -eq 1 ] || fail "PC_STATUS $PC_STATUS, not 1"
    [ $((SECONDS - started)) -lt 10 ] || fail "pc_emulate took $((SECONDS - started)) s to end"
}

# make bench installs what its emulators need on a fresh machine, as make
# test does: its Bochs rows once failed there with "failed to execute bochs".
test_harness_bench_installs_every_emulator_it_runs() {
    local packages command package
    packages=" $(make -s --no-print-directory --eval 'print-%: ; @echo $($*)' print-BENCH_PACKAGES) "
    for command in $(grep -oE 'bochs_vmx|qemu_svm' tests/bench.sh | sort -u); do
        case $command in
        bochs_vmx) command=bochs ;;
        qemu_svm)  command=qemu-system-x86_64 ;;
        esac
        package=$(dpkg -S "$(readlink -f "$(command -v $command)")" 2>/dev/null | cut -d: -f1 | head -1)
        [ -n "$package" ] || { fail "no Debian package holds $command"; continue; }
        [[ $packages == *" $package "* ]] || fail "make bench runs $command but does not install $package"
    done
}
