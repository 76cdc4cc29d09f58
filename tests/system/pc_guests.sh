# Helpers for the PC test guests (guest-tools/guests/pc_*.c), sourced by
# pc_guest_tests.sh (each guest on the bare machine: plain QEMU, Bochs) and
# by the hypervisor-side pc_platform_tests.sh. Each guest's expected lines
# are in tests/system/pc_expected/<guest>.txt; a guest prints the same
# lines on every platform, so every run is compared with that one file.

source tests/system/machines.sh

PC_EXPECTED=tests/system/pc_expected
# Every run of a PC guest gets these (QEMU -smp/-m, the `pc` tool's
# cpus=/mem=), which pc_smp and pc_firmware print.
PC_GUEST_CPUS=4
PC_GUEST_MEM_MIB=64

# What the test types at the guests that ask (pc_uart_rx, pc_rtc): a
# prompt regex, then a shell command whose output (plus CR) is the reply.
PC_REPLIES=(
    'uart: waiting for a line on COM1' 'echo hello from the test harness'
    "rtc: waiting for the host's UTC time on COM1" 'date -u +%s.%3N'
)

# Bochs 2.7 departs from the SDM where pc_x2apic and pc_tsc_deadline
# look: in x2APIC mode its LDR reads 0 instead of the ID-derived logical
# ID (SDM 11.12.10.2); once APIC_BASE.EN is cleared it refuses to enable
# the APIC again until reset (SDM figure 11-27 allows disabled -> xAPIC;
# the self-IPI that follows then fails too); IA32_TSC_DEADLINE keeps its
# value after the interrupt instead of reading 0 (SDM 11.5.4.1). These
# substitutions turn the expected lines into Bochs' lines.
PC_BOCHS_QUIRKS='
s/^(x2apic: logical ID derived from the x2APIC ID \(cluster, bit\)): pass$/\1: FAIL (0 not in 1..1)/
s/^(x2apic: back in xAPIC mode through the disabled state, same ID): pass$/\1: FAIL/
s/^(x2apic: xAPIC self-IPI works again): pass$/\1: FAIL/
s/^(tsc-deadline: the MSR reads 0 once it fired): pass$/\1: FAIL/'

# pc_bochs_expected FILE: the expected lines as Bochs prints them, the
# result line counting the quirks' failures.
pc_bochs_expected() {
    local lines failed
    lines=$(sed -E "$PC_BOCHS_QUIRKS" "$1")
    failed=$(grep -c ': FAIL' <<< "$lines")
    if [ "$failed" -gt 0 ]; then
        sed -E "s/^result: pass\$/result: FAIL, $failed checks failed/" <<< "$lines"
    else
        echo "$lines"
    fi
}

# pc_emulate LOG TIMEOUT COMMAND...
# Runs an emulator whose serial port is its stdio: output to LOG, input
# from a FIFO. Each time a prompt of PC_REPLIES appears in the log, its
# reply goes in. Ends when the emulator exits (its status in PC_STATUS),
# when the log shows that the machine stopped for good (a PANIC, the
# hypervisor halted, a control-domain vcpu stopped: PC_STATUS 1, the
# emulator killed), or after TIMEOUT seconds (PC_STATUS 124, likewise).
PC_STOPPED='PANIC|hv: halted\.|control-domain vcpu [0-9]+ stopped'

pc_emulate() {
    local log=$1 timeout=$2
    shift 2
    local fifo=$log.in in pid i seen
    local deadline=$(($(date +%s) + timeout))
    local -a answered=()
    rm -f "$log" "$fifo"
    mkfifo "$fifo"
    : > "$log"
    exec {in}<>"$fifo"              # read-write: opening never blocks
    setsid "$@" <&$in >"$log" 2>"$log.emulator" &
    pid=$!
    PC_STATUS=124
    while :; do
        for ((i = 0; i < ${#PC_REPLIES[@]}; i += 2)); do
            seen=$(grep -caE "${PC_REPLIES[i]}" "$log")
            if [ "$seen" -gt "${answered[i]:-0}" ]; then
                printf '%s\r' "$(eval "${PC_REPLIES[i + 1]}")" >&$in
                answered[i]=$seen
            fi
        done
        if ! kill -0 $pid 2>/dev/null; then
            wait $pid
            PC_STATUS=$?
            break
        fi
        if grep -qaE "$PC_STOPPED" "$log"; then
            sleep 0.5               # the rest of the report
            kill -KILL -- -$pid 2>/dev/null
            wait $pid 2>/dev/null
            PC_STATUS=1
            break
        fi
        if [ "$(date +%s)" -ge $deadline ]; then
            kill -KILL -- -$pid 2>/dev/null
            wait $pid 2>/dev/null
            break
        fi
        sleep 0.1
    done
    exec {in}>&-
    rm -f "$fifo"
    LOG=$log
}

# The guest's lines of a bare-machine run (CR LF -> LF, blank lines out).
pc_plain_lines() {
    tr -d '\r' < "$1" | grep -av '^$'
}

# The lines the `pc` tool relayed for guest $2 ("[guest <name>] <line>",
# with "/<vcpu>" after the name if the tool ever tags lines by vcpu).
pc_relayed_lines() {
    tr -d '\r' < "$1" | sed -nE "s/^\[guest $2(\/[0-9]+)?\] //p"
}

# pc_compare NAME EXPECTED_FILE ACTUAL_FILE: fails the test on a difference
# and keeps it in $SYSTEST_DIR/NAME.diff.
pc_compare() {
    diff "$2" "$3" > "$SYSTEST_DIR/$1.diff" && return
    fail "$1: lines differ from $2 (see $SYSTEST_DIR/$1.diff)"
    # CI keeps only this output, not build/: the lines themselves say
    # which check failed and, for a failed check, its measured values;
    # the hypervisor's warnings (a run watchdog's NMI: a RUN that went on
    # past its slice) say whether the guest lost time to the machine.
    sed -n '1,12s/^/      /p' "$SYSTEST_DIR/$1.diff"
    grep -ah '^\[cpu[0-9]*\] warning:' "$LOG" "$LOG.emulator" 2>/dev/null | head -5 | sed 's/^/      /'
}

# pc_qemu_plain GUEST [extra QEMU arguments]: the command line that runs
# a guest straight on QEMU's q35 (multiboot1 through -kernel). Add
# -no-reboot where a reset must end the run.
pc_qemu_plain() {
    local guest=$1
    shift
    echo qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp $PC_GUEST_CPUS \
        -m $PC_GUEST_MEM_MIB -display none -device isa-debug-exit,iobase=0xf4,iosize=4 \
        -kernel build/guest-tools/guests/$guest.elf -serial stdio "$@"
}

# run_pc_guest_plain GUEST EXPECTED_FILE STATUS [extra QEMU arguments]:
# the guest under plain QEMU must print EXPECTED_FILE's lines and make
# QEMU exit with STATUS (65: isa-debug-exit 0x20; 0: power-off or reset).
run_pc_guest_plain() {
    local guest=$1 expected=$2 status=$3
    shift 3
    pc_emulate "$SYSTEST_DIR/plain-$guest.log" 60 $(pc_qemu_plain "$guest" "$@")
    [ "$PC_STATUS" -eq "$status" ] ||
        fail "plain QEMU exit status $PC_STATUS, expected $status (see $LOG)"
    pc_compare "plain-$guest" "$expected" <(pc_plain_lines "$LOG")
}
