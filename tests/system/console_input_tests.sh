# Typed input at the hypervisor's console (COM1) reaches the control
# domain: QEMU's serial is the test's stdio, pc_emulate types a line at
# each prompt of the `readline` tool (ISO readline: CTL_CMDLINE="readline
# 2"), which reads them with CONSOLE_READ and sleeps in HLT in between;
# and more than the hypervisor keeps while nobody reads (ISO
# readline-hold).

source tests/system/pc_guests.sh

test_console_input_reaches_control_domain_svm() {
    local -a PC_REPLIES=(
        'readline: waiting for line 1 on' 'echo typed at COM1'
        'readline: waiting for line 2 on' 'echo second line, 2 CPUs'
    )
    pc_emulate "$SYSTEST_DIR/console-input.log" 300 "${QEMU_BASE[@]}" -machine q35 \
        -cpu EPYC,+svm,+npt -smp 2 -m 512M -cdrom iso/out/readline.iso -serial stdio
    expect_line "console: input from COM1 by interrupt"
    expect_line "^\[ctl\] readline: line 1: 'typed at COM1' \(13 bytes, "
    expect_line "^\[ctl\] readline: line 2: 'second line, 2 CPUs' \(19 bytes, "
    # Each line took one CR more than its bytes; nothing was dropped.
    expect_line "^\[ctl\] readline: GET_STATS console_input_bytes 34, console_input_dropped 0\b"
    # The tool slept in HLT until input came: a few wake-ups (one per
    # burst of bytes), not the millions of a loop that polls.
    local w
    for w in $(sed -nE "s/.*readline: line [0-9]: .* ([0-9]+) wake-ups\)/\1/p" "$LOG" | tr -d '\r'); do
        [ "$w" -ge 1 ] && [ "$w" -le 40 ] || fail "readline woke $w times for one line"
    done
    expect_line "tool readline finished with status 0"
    expect_clean_run
}

# 5000 bytes and a CR typed while the tool reads nothing for 5 s: the
# hypervisor keeps 4096 (its ring), counts the other 905 as dropped, and
# neither it nor the control domain stalls.
test_console_input_overflow_counted_svm() {
    local -a PC_REPLIES=(
        'readline: not reading for 5 s' 'head -c 5000 /dev/zero | tr "\\0" x'
    )
    pc_emulate "$SYSTEST_DIR/console-input-hold.log" 300 "${QEMU_BASE[@]}" -machine q35 \
        -cpu EPYC,+svm,+npt -smp 2 -m 512M -cdrom iso/out/readline-hold.iso -serial stdio
    expect_line "^\[ctl\] readline: after the hold 4096 bytes were waiting"
    expect_line "^\[ctl\] readline: GET_STATS console_input_bytes 5001, console_input_dropped 905\b"
    expect_line "tool readline finished with status 0"
    expect_clean_run
}
