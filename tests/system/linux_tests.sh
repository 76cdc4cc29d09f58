# System tests of the Linux guest: Debian's stock kernel with our initramfs
# (guest-tools/linux/), first on plain QEMU (the reference: what the same
# kernel and init print on an emulated PC), then under the hypervisor.
# Sourced by tests/run_all.sh.

source tests/system/machines.sh

LINUX_KERNEL=build/linux/vmlinuz
LINUX_INITRD=build/linux/initrd.cpio
LINUX_INPUT_TEXT="hello from the test harness"

# expect_linux_init CPUS [PREFIX]: the init's lines (after PREFIX, e.g.
# "[guest linux] " under the `pc` tool), in order, with values checked.
expect_linux_init() {
    local cpus=$1 prefix=${2:-} lines mem ms
    lines=$(tr -d '\r' < "$LOG" | grep -aF "${prefix}init: " | grep -a "^${prefix//[/\\[}init: " |
        cut -c $((${#prefix} + 1))-)
    [ -n "$lines" ] || { fail "no line from init (see $LOG)"; return; }
    grep -qE '^init: kernel 6\.1\.[0-9]+-[0-9]+-amd64 #1 SMP PREEMPT_DYNAMIC Debian' <<<"$lines" ||
        fail "no kernel version line"
    local want_list=0
    [ "$cpus" -gt 1 ] && want_list="0-$((cpus - 1))"
    grep -qE "^init: cpus online $want_list \($cpus\), affinity $cpus$" <<<"$lines" ||
        fail "cpus online is not $want_list ($cpus): $(grep 'cpus online' <<<"$lines")"
    mem=$(sed -n 's/^init: MemTotal \([0-9]*\) kB$/\1/p' <<<"$lines")
    # 256 MiB less the kernel's image, its reservations and the initrd.
    [ -n "$mem" ] && [ "$mem" -gt 180000 ] && [ "$mem" -le 262144 ] ||
        fail "MemTotal '$mem' kB not within 180000..262144"
    ms=$(sed -n 's/^init: rtc second = \([0-9]*\) ms monotonic$/\1/p' <<<"$lines")
    [ -n "$ms" ] && [ "$ms" -ge 900 ] && [ "$ms" -le 1100 ] ||
        fail "an RTC second lasted '$ms' ms of CLOCK_MONOTONIC (want 1000 +/- 10 %)"
    local sleep_line
    sleep_line=$(grep '^init: sleep 1 s = ' <<<"$lines")
    if [[ "$sleep_line" =~ ^init:\ sleep\ 1\ s\ =\ ([0-9]+)\ ms\ monotonic,\ ([0-9]+)\ ms\ tsc,\ ([0-9]+)\ ms\ rtc$ ]]; then
        for ms in "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"; do
            [ "$ms" -ge 900 ] && [ "$ms" -le 1100 ] || fail "1 s sleep: $sleep_line"
        done
        [ "${BASH_REMATCH[3]}" = 1000 ] || fail "1 s sleep by the RTC: $sleep_line"
    else
        fail "no sleep line: '$sleep_line'"
    fi
    grep -qxF "init: echo $LINUX_INPUT_TEXT" <<<"$lines" || fail "the typed line was not echoed"
    grep -qx 'init: powering off' <<<"$lines" || fail "init did not power off"
    local order
    order=$(sed 's/^init: \([a-zA-Z]*\).*/\1/' <<<"$lines" | tr '\n' ' ')
    [ "$order" = "kernel cpus MemTotal rtc sleep type echo powering " ] ||
        fail "init's lines out of order: $order"
}

# The reference: the same kernel, initrd and command line on plain QEMU.
test_linux_boots_to_init_on_plain_qemu() {
    LOG=$SYSTEST_DIR/linux-plain-qemu.log
    timeout 180 tests/system/linux_qemu_input.sh "$LOG" 'init: type a line' \
        "$LINUX_INPUT_TEXT\r" -- qemu-system-x86_64 -machine q35 -accel tcg -cpu EPYC \
        -smp 2 -m 256 -kernel $LINUX_KERNEL -initrd $LINUX_INITRD -append console=ttyS0 \
        -display none -serial stdio -monitor none -no-reboot
    local status=$?
    [ $status -eq 0 ] || fail "QEMU ended with status $status (see $LOG)"
    expect_linux_init 2
    expect_line 'reboot: Power down'
}
