# System test of machine checks: QEMU's monitor command
#   mce <cpu> <bank> <MCi_STATUS> <MCG_STATUS> <MCi_ADDR> <MCi_MISC>
# injects one (under TCG too) into CPU 1 while the control domain's
# `mcwait` tool on CPU 0 watches GET_STATS. CPU 1 sits idle in the
# hypervisor meanwhile, so the hypervisor's own vector-18 handler takes
# them: a recoverable one is reported and CPU 1 goes on, one without
# MCG_STATUS.RIPV is reported and CPU 1 halts. (QEMU's TCG delivers an
# injected machine check to whatever runs, a guest's IDT included,
# without checking the #MC intercept: a guest cannot be targeted this
# way; PLATFORM.md.) Sourced by tests/run_all.sh.

source tests/system/machines.sh

# UC, EN, MISCV, ADDRV and VAL set; a memory-read error code.
MCE_STATUS_RECOVERABLE=0xbc00000000000134
MCE_STATUS_FATAL=0xbc00000000000135

# wait_for_line REGEX SECONDS: until the log has a matching line.
wait_for_line() {
    local deadline=$(( $(date +%s) + $2 ))
    while ! grep -qaE "$1" "$LOG" 2>/dev/null; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

test_machine_check_injected_by_qemu_monitor() {
    local dir=$SYSTEST_DIR/mce
    LOG=$SYSTEST_DIR/mce.log
    # No old log: its lines would look like this run's.
    rm -rf "$dir" "$LOG" && mkdir -p "$dir"
    # The monitor on a pipe pair (path.in / path.out); its replies are kept.
    mkfifo "$dir/monitor.in" "$dir/monitor.out"
    cat "$dir/monitor.out" > "$dir/monitor.log" &
    local drain=$!
    tests/system/emulate.sh "$LOG" 180 "$END_OF_TOOL" -- \
        $(qemu_svm iso/out/mce.iso "$LOG" 2) \
        -chardev "pipe,id=monitor,path=$dir/monitor" -mon chardev=monitor,mode=readline \
        > "$dir/elapsed" &
    local emulator=$!
    if wait_for_line "mcwait: ready for a recoverable" 120; then
        echo "mce 1 1 $MCE_STATUS_RECOVERABLE 0x7 0x1234000 0x86" > "$dir/monitor.in"
        if wait_for_line "mcwait: ready for an unrecoverable" 60; then
            echo "mce 1 2 $MCE_STATUS_FATAL 0x6 0x5678000 0x0" > "$dir/monitor.in"
        fi
    fi
    wait "$emulator" || fail "no end of run (see $LOG)"
    kill "$drain" 2>/dev/null
    wait "$drain" 2>/dev/null

    expect_line "^\[cpu1\] mce: machine check on CPU 1 while the hypervisor ran \(rip 0x[0-9a-f]+\): MCG_STATUS 0x7 \(RIPV 1, EIPV 1, MCIP 1\), [0-9]+ banks"
    expect_line "^\[cpu1\] mce:   bank 1: MCi_STATUS $MCE_STATUS_RECOVERABLE \(uncorrected, signalled\), MCi_ADDR 0x1234000, MCi_MISC 0x86, error code 0x0134"
    expect_line "^\[cpu1\] mce: recoverable \(RIPV set\): the hypervisor goes on"
    expect_line "mcwait: CPU 1 ran a job after the machine check"
    expect_line "^\[cpu1\] mce: machine check on CPU 1 while the hypervisor ran \(rip 0x[0-9a-f]+\): MCG_STATUS 0x6 \(RIPV 0, EIPV 1, MCIP 1\)"
    expect_line "^\[cpu1\] mce:   bank 2: MCi_STATUS $MCE_STATUS_FATAL \(uncorrected, signalled\), MCi_ADDR 0x5678000, MCi_MISC 0x0, error code 0x0135"
    expect_line "^\[cpu1\] mce: not recoverable \(RIPV clear\): CPU 1 halted"
    expect_line "mcwait: machine_checks 2"
    expect_line "tool mcwait finished with status 0"
    expect_clean_run
}
