# Helpers for system tests (sourced by tests/run_all.sh).
# A test is a shell function that boots an emulator through `boot` and then
# asserts on the serial log with `expect_*`; any failed expectation fails it.

SYSTEST_DIR=${SYSTEST_DIR:-build/systest}
# A line that every run ends with, one way or another.
END_OF_BOOT='tool [a-z_]+ finished with status|hv: halted\.|CPU halted\.|PANIC|control-domain vcpu [0-9]+ stopped'

# boot NAME TIMEOUT STOP_REGEX COMMAND...   (sets LOG and ELAPSED)
# Boots again (twice at most) when QEMU ended the run by itself on a
# triple fault of the hypervisor with no PANIC: under multi-threaded TCG,
# QEMU 7.2's unlocked write of CPU 0's hflags2 from another vCPU thread
# (cpu_clear_ignne) can set HF2_NPT again right after CPU 0's #VMEXIT, and
# its walk of the host's intact tables then fails (README, known limits;
# about 1 boot in 25 of the 4-vcpu Linux guest on 2 CPUs, more with two
# guests at once, and seen in any QEMU run with more than one CPU, once in
# CI at the 4-CPU smp_hello demo 2 s in). Said in the output,
# the first such run's reset log kept; the last run is judged. A Bochs run
# boots again only when it died at start-up for want of a display port
# (bochs_rfb_port_race).
boot() {
    again_after_qemu_triple_fault boot_start "$@"
    boot_judge $? "$2"
}

# again_after_qemu_triple_fault RUN ARGS...: RUN ARGS (which sets LOG and
# returns emulate.sh's status or the like), again while qemu_triple_faulted,
# QEMU_FAULT_BOOTS runs at most (3 unless the caller sets it); returns the
# last run's status.
again_after_qemu_triple_fault() {
    local status tries
    local most=${QEMU_FAULT_BOOTS:-3}
    for ((tries = 1; ; tries++)); do
        "$@"
        status=$?
        [ $tries -lt $most ] || return $status
        if qemu_triple_faulted $status; then
            echo "    QEMU ended the run on a triple fault of the hypervisor" \
                "(README, known limits; reset log kept as $LOG.qemu.first): booting again"
            [ $tries -gt 1 ] || cp "$LOG.qemu" "$LOG.qemu.first"
        elif qemu_walk_failed_in_a_guest; then
            echo "    a guest triple-faulted on its IDT's gate 8, QEMU's page walk" \
                "failing in a guest (README, known limits; log kept as $LOG.first): booting again"
            [ $tries -gt 1 ] || cp "$LOG" "$LOG.first"
        elif bochs_rfb_port_race; then
            echo "    Bochs found no RFB port, another Bochs starting at the same" \
                "instant (README, known limits): booting again"
        elif qemu_walk_failed_in_the_control_domain; then
            echo "    the control domain triple-faulted on a page its tables map, QEMU's page" \
                "walk failing in it (README, known limits; log kept as $LOG.first): booting again"
            [ $tries -gt 1 ] || cp "$LOG" "$LOG.first"
        else
            return $status
        fi
    done
}

# qemu_walk_failed_in_a_guest: a child in the run behind LOG triple-faulted
# with CR2 at gate 8 of its own IDT (the pc tool's state dump,
# guest-tools/vmm/cpu_dump.c): delivering #DF failed on reading the IDT,
# QEMU's walk of intact guest tables failing as it does for the
# hypervisor's own (README, known limits). The first dump decides.
qemu_walk_failed_in_a_guest() {
    local idt cr2
    idt=$(grep -aoE '^\[ctl\] guest [^ ]+:   gdt [0-9a-f]+/[0-9a-f]+ idt [0-9a-f]+/' "$LOG" |
          head -1 | sed -E 's|.* idt ([0-9a-f]+)/$|\1|')
    cr2=$(grep -aoE '^\[ctl\] guest [^ ]+:   cr0 [0-9a-f]+ cr2 [0-9a-f]+' "$LOG" |
          head -1 | sed -E 's|.* cr2 ||')
    [ -n "$idt" ] && [ -n "$cr2" ] && [ $((16#$cr2)) -eq $((16#$idt + 0x80)) ]
}

# qemu_walk_failed_in_the_control_domain: the same for the control
# domain, from the hypervisor's report of its vcpu's triple fault
# (hv/control_domain.c): CR2 at the faulting RIP or at gate 8 of its IDT,
# and the hypervisor's own walk of the domain's tables translating CR2, so
# the tables were intact and the emulator's walk failed. A fault at an
# address the tables do not map (the domain's own bug, or tables it gave
# away) never boots again.
qemu_walk_failed_in_the_control_domain() {
    local line walk rip cr2 idt
    walk=$(grep -aoE 'control-domain vcpu [0-9]+: .*walk of rip: -?[0-9]+ gpa 0x[0-9a-f]+, of cr2: 0 gpa' "$LOG" | head -1)
    line=$(grep -aoE 'control-domain vcpu [0-9]+ stopped: triple fault at rip .*; cr2 0x[0-9a-f]+ idt 0x[0-9a-f]+' "$LOG" | head -1)
    rip=$(sed -nE 's/.* at rip 0x([0-9a-f]+) .*/\1/p' <<<"$line")
    cr2=$(sed -nE 's/.*; cr2 0x([0-9a-f]+) idt .*/\1/p' <<<"$line")
    idt=$(sed -nE 's/.* idt 0x([0-9a-f]+)$/\1/p' <<<"$line")
    [ -n "$walk" ] && [ -n "$cr2" ] && [ -n "$idt" ] && [ -n "$rip" ] &&
        { [ $((16#$cr2)) -eq $((16#$idt + 0x80)) ] || [ $((16#$cr2)) -eq $((16#$rip)) ]; }
}

# bochs_rfb_port_race: Bochs behind LOG ended at start-up because its
# RFB display found no port. Two Bochs runs that start at the same instant
# can both bind port 5900 (SO_REUSEADDR) before either listens; the one
# whose listen then fails tries each later port with its socket already
# bound, which fails every time (Bochs 2.7's gui/rfb.cc), and panics.
bochs_rfb_port_race() {
    grep -qa 'RFB could not bind any port' "$LOG.emulator" 2>/dev/null
}

# qemu_triple_faulted STATUS: the run behind LOG ended early (STATUS from
# emulate.sh or pc_emulate) with no PANIC and a triple fault in its
# QEMU reset log.
qemu_triple_faulted() {
    [ "$1" -ne 0 ] && [ "$1" -ne 124 ] && ! grep -qa 'PANIC' "$LOG" &&
        grep -qa '^Triple fault' "$LOG.qemu" 2>/dev/null
}

# The emulator run itself: sets LOG and ELAPSED, returns emulate.sh's status.
boot_start() {
    local name=$1 timeout=$2 stop=$3
    shift 3
    LOG=$SYSTEST_DIR/$name.log
    ELAPSED=$(tests/system/emulate.sh "$LOG" "$timeout" "$stop" -- "$@")
}

# boot_judge STATUS TIMEOUT: a run that did not reach its stop line fails.
boot_judge() {
    local status=$1 timeout=$2
    if [ $status -eq 124 ]; then
        fail "no end of run within ${timeout}s (see $LOG)"
    elif [ $status -ne 0 ]; then
        fail "emulator ended before the expected output after ${ELAPSED}s:" \
            "$(cat "$LOG.exit" 2>/dev/null || echo "exit unknown") (see $LOG.emulator)"
        emulator_post_mortem
    fi
}

# What an emulator that ended early left behind, for a failure seen once in
# a long run: the serial log's last lines, its own output without QEMU's
# start-up warnings, and QEMU's -d cpu_reset log (machines.sh), where a
# triple fault of the hypervisor itself is the only trace (-no-reboot
# turns it into a quiet exit with status 0).
emulator_post_mortem() {
    echo "    last lines of $LOG:"
    tail -n 5 "$LOG" | tr -d '\r' | sed 's/^/      /'
    echo "    emulator output (start-up warnings left out):"
    grep -avE "warning: TCG doesn't support requested feature" "$LOG.emulator" 2>/dev/null |
        tail -n 8 | sed 's/^/      /'
    if [ -f "$LOG.qemu" ]; then
        echo "    QEMU's reset log: $(grep -ac '^Triple fault' "$LOG.qemu") triple fault(s)," \
            "$(grep -ac '^CPU Reset' "$LOG.qemu") CPU reset(s) (see $LOG.qemu)"
    fi
}

fail() {
    echo "    $*"
    TEST_FAILED=1
}

# expect_line REGEX: some line of the log matches
expect_line() {
    grep -qaE "$1" "$LOG" || fail "missing in log: $1"
}

# expect_no_line REGEX
expect_no_line() {
    ! grep -qaE "$1" "$LOG" || fail "unexpected in log: $(grep -aE "$1" "$LOG" | head -1)"
}

# expect_count REGEX N: exactly N lines match
expect_count() {
    local n
    n=$(grep -caE "$1" "$LOG")
    [ "$n" -eq "$2" ] || fail "expected $2 lines matching '$1', saw $n"
}

# expect_cpus_virtualized BACKEND N: every one of N CPUs came up with it
expect_cpus_virtualized() {
    local backend=$1 n=$2 i
    expect_count "\] $backend: enabled on CPU" "$n"
    for ((i = 0; i < n; i++)); do
        expect_line "^\[cpu$i\] $backend: enabled on CPU $i "
    done
    expect_line "smp: $n of $n CPUs up, $backend enabled on $n"
    expect_line "hv: all CPUs up with virtualization enabled"
}

# expect_clean_run: no panic and no error from the hypervisor
expect_clean_run() {
    expect_no_line "PANIC|^\[cpu[0-9]+\] error:"
}
