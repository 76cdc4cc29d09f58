# System tests of the Linux guest: Debian's stock kernel with our initramfs
# (guest-tools/linux/), first on plain QEMU (the reference: what the same
# kernel and init print on an emulated PC), then under the hypervisor.
# Sourced by tests/run_all.sh.
#
# Time: an RTC second must last 1000 ms +/- 10 % of CLOCK_MONOTONIC, and a
# 1 s nanosleep must last 1 s by CLOCK_MONOTONIC and the TSC alike. The
# sleep's wake-up came 43-151 ms late under the hypervisor on this loaded
# 2-core emulator host (1-2 ms on plain QEMU); its cause is not settled,
# so its bound is 25 %, not 10 %.

source tests/system/machines.sh

LINUX_KERNEL=build/linux/vmlinuz
LINUX_INITRD=build/linux/initrd.cpio
# The pc tool types "hi there" (LINUX_TEST_INPUT in the Makefile).
LINUX_INPUT_TEXT="hi there"

# expect_linux_init CPUS [PREFIX [MiB [SLACK]]]: the init's lines (after
# PREFIX, e.g. "[guest linux] " under the `pc` tool) of a guest of MiB RAM
# (256), in order, with values checked. SLACK (percent, default 10) bounds
# how far an RTC second may be from 1000 ms and the TSC from
# CLOCK_MONOTONIC: a guest whose vcpus wait for a shared CPU reads its
# clocks late (steal time) and needs more; SLACK "none": the time lines
# must be there and well formed, their values are not judged.
# A kernel message printed in the middle of one of init's lines cuts it in
# two (seen: "init: MemTotal [    7.46] hrtimer: interrupt took ..." and
# " 210636 kB" on the guest's next line): the message is dropped and the
# two halves joined again, per guest prefix ($1).
join_init_lines_cut_by_kernel() {
    awk -v p="$1" '
        p == "" || index($0, p) == 1 {
            s = held substr($0, length(p) + 1); held = ""
            if (s ~ /^init: / && match(s, /\[ *[0-9]+\.[0-9]+\] /)) { held = substr(s, 1, RSTART - 1); next }
            print p s; next
        }
        { print }'
}

expect_linux_init() {
    local cpus=$1 prefix=${2:-} mib=${3:-256} slack=${4:-10} lines mem ms
    lines=$(tr -d '\r' < "$LOG" | join_init_lines_cut_by_kernel "$prefix" |
        grep -aF "${prefix}init: " | grep -a "^${prefix//[/\\[}init: " |
        cut -c $((${#prefix} + 1))-)
    [ -n "$lines" ] || { fail "no line from init (see $LOG)"; return; }
    grep -qE '^init: kernel 6\.1\.[0-9]+-[0-9]+-amd64 #1 SMP PREEMPT_DYNAMIC Debian' <<<"$lines" ||
        fail "no kernel version line"
    local want_list=0
    [ "$cpus" -gt 1 ] && want_list="0-$((cpus - 1))"
    grep -qE "^init: cpus online $want_list \($cpus\), affinity $cpus$" <<<"$lines" ||
        fail "cpus online is not $want_list ($cpus): $(grep 'cpus online' <<<"$lines")"
    mem=$(sed -n 's/^init: MemTotal \([0-9]*\) kB$/\1/p' <<<"$lines")
    # The RAM less the kernel's image, its reservations and the initrd
    # (46 MiB of 256 MiB here).
    local low=$(( (mib - 64) * 1024 )) high=$((mib * 1024))
    [ -n "$mem" ] && [ "$mem" -gt $low ] && [ "$mem" -le $high ] ||
        fail "MemTotal '$mem' kB not within $low..$high"
    ms=$(sed -n 's/^init: rtc second = \([0-9]*\) ms monotonic$/\1/p' <<<"$lines")
    if [ -z "$ms" ]; then
        fail "no RTC second line"
    elif [ "$slack" != none ] &&
        ! { [ "$ms" -ge $((1000 - slack * 10)) ] && [ "$ms" -le $((1000 + slack * 10)) ]; }; then
        fail "an RTC second lasted '$ms' ms of CLOCK_MONOTONIC (want 1000 +/- $slack %)"
    fi
    local sleep_line
    sleep_line=$(grep '^init: sleep 1 s = ' <<<"$lines")
    # Both clocks must count the sleep alike (to 10 %; the TSC's rate is
    # known only to the RTC poll's millisecond) and 1 s less 10 % at
    # least; how late the wake-up comes is checked more loosely (25 %):
    # under the hypervisor on a loaded emulator host it was seen 3 to 15 %
    # late (see the header).
    if [[ "$slack" = none && "$sleep_line" =~ ^init:\ sleep\ 1\ s\ =\ [0-9]+\ ms\ monotonic,\ [0-9]+\ ms\ tsc,\ [0-9]+\ ms\ rtc$ ]]; then
        :
    elif [[ "$sleep_line" =~ ^init:\ sleep\ 1\ s\ =\ ([0-9]+)\ ms\ monotonic,\ ([0-9]+)\ ms\ tsc,\ ([0-9]+)\ ms\ rtc$ ]]; then
        local mono=${BASH_REMATCH[1]} tsc=${BASH_REMATCH[2]}
        for ms in "$mono" "$tsc"; do
            [ "$ms" -ge $((1000 - slack * 10)) ] && [ "$ms" -le $((1150 + slack * 10)) ] ||
                fail "1 s sleep: $sleep_line"
        done
        [ $((mono * 100)) -le $((tsc * (100 + slack))) ] &&
            [ $((tsc * 100)) -le $((mono * (100 + slack))) ] ||
            fail "CLOCK_MONOTONIC and the TSC disagree by more than $slack %: $sleep_line"
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

# Under the hypervisor: the `pc` tool boots the same kernel and initrd on
# the virtual PC (linux-N.iso: 256 MiB, N vcpus, command line
# console=ttyS0) in its normal configuration: ACPI, IOAPIC routing, every
# vcpu brought up by INIT-SIPI-SIPI.
LINUX_END='tool pc finished with status|PANIC|hv: halted\.|control-domain vcpu [0-9]+ stopped|Kernel panic'

expect_linux_on_the_hypervisor() {
    local cpus=$1 mib=${2:-256} plural=s brought="$1 CPUs"
    [ "$cpus" -eq 1 ] && plural= && brought="1 CPU"
    expect_line "^\[ctl\] pc: starting guest linux \(module 1 of 2, [0-9]+ bytes, $mib MiB RAM, $cpus vcpu$plural\)"
    expect_line "^\[ctl\] guest linux: Linux bzImage, boot protocol 2\.[0-9]+, 64-bit entry at 0x100200, initrd [0-9]+ bytes at 0x"
    expect_line "^\[guest linux\] \[ *[0-9.]+\] Kernel command line: console=ttyS0\s*$"
    expect_line "^\[guest linux\] \[ *[0-9.]+\] ACPI: Using IOAPIC for interrupt routing"
    expect_line "^\[guest linux\] \[ *[0-9.]+\] smp: Brought up 1 node, $brought"
    expect_linux_init "$cpus" "[guest linux] " "$mib"
    expect_line "^\[guest linux\] \[ *[0-9.]+\] reboot: Power down"
    expect_line "^\[ctl\] guest linux powered off"
    expect_line "^\[ctl\] pc: 1 guests run, 0 failed to run"
    expect_line "tool pc finished with status 0"
    expect_no_line "Kernel panic|BUG:|Oops|refused"
    expect_clean_run
}

# Boots of the one-guest SVM Linux tests that QEMU's own triple fault of
# the hypervisor may end before one counts (README, known limits). A
# fresh-clone CI run of 2026-12-01 saw it end three boots of the 2-vcpu
# test in a row; measured the same day on this machine, 1 of 24 boots of
# that test (0 of 12 at the session's start). On 2026-12-02 (a host whose
# TSC read 2310 MHz, not 2623) it ended all 4 boots of the 4-vcpu test in
# a fresh-clone run, and session 15 allowed twelve. Since session 16's
# qemu_x87_guard (hv/fpu.c) no boot of three fresh-clone CI runs needed
# another: five, so that a regression with the same signature shows.
LINUX_FAULT_BOOTS=5

test_linux_boots_to_init_on_the_hypervisor_svm_1_vcpu() {
    QEMU_FAULT_BOOTS=$LINUX_FAULT_BOOTS boot linux-1 300 "$LINUX_END" $(qemu_svm iso/out/linux-1.iso $SYSTEST_DIR/linux-1.log 2)
    expect_line "virt: using svm"
    expect_linux_on_the_hypervisor 1
}

# 4 vcpus time-sharing 2 CPUs: each runner gives its two vcpus turns, so
# a RUN that never ends stops the other vcpu on that CPU. Until the host
# timer was re-armed after a wake-up from HLT inside a RUN (hv/vcpu_run.c,
# EXIT_HLT), about 1 boot in 10 hung at "clocksource: acpi_pm" this way:
# one vcpu halted with vector 0xfb in IRR, never RUN again, while the
# vcpu sharing its CPU spun in its guest without an exit, waiting for it.
# Still seen, rarely (2 boots of 54 on 2026-12-01, none of them the
# hang): the emulator ending by itself mid-boot with nothing on the
# serial log, where QEMU's -d cpu_reset log shows a triple fault of the
# hypervisor: QEMU 7.2's multi-threaded TCG setting HF2_NPT on CPU 0 again
# from another vCPU thread (README, known limits), which `boot` boots
# again on.
test_linux_boots_to_init_on_the_hypervisor_svm_4_vcpus_on_2_cpus() {
    QEMU_FAULT_BOOTS=$LINUX_FAULT_BOOTS boot linux-4 400 "$LINUX_END" $(qemu_svm iso/out/linux-4.iso $SYSTEST_DIR/linux-4.log 2)
    expect_line "virt: using svm"
    expect_linux_on_the_hypervisor 4
}

test_linux_boots_to_init_on_the_hypervisor_svm_2_vcpus() {
    QEMU_FAULT_BOOTS=$LINUX_FAULT_BOOTS boot linux-2 300 "$LINUX_END" $(qemu_svm iso/out/linux-2.iso $SYSTEST_DIR/linux-2.log 2)
    expect_line "virt: using svm"
    expect_linux_on_the_hypervisor 2
}

# Each bad image refused with its reason; the guest after them still runs.
test_linux_bad_images_are_refused_svm() {
    boot linux-bad 120 "$LINUX_END" $(qemu_svm iso/out/linux-bad.iso $SYSTEST_DIR/linux-bad.log 2)
    expect_line "^\[ctl\] guest truncated: Linux image refused: image shorter than its header says \(truncated\)"
    expect_line "^\[ctl\] guest random: Linux image refused: not a bzImage"
    expect_line "^\[ctl\] guest big_initrd: Linux image refused: the initrd does not fit in the guest's RAM beside the kernel \(kernel [0-9]+ bytes, initrd 16777216 bytes, 90 MiB RAM\)"
    expect_line "^\[guest hello\] Hello from the test guest"
    expect_line "^\[ctl\] guest hello exited with status 16"
    expect_line "^\[ctl\] pc: 1 guests run, 3 failed to run"
    expect_no_line "^\[guest (truncated|random|big_initrd)\]"
    expect_clean_run
}

# VMX under Bochs: 128 MiB (Bochs' machine has 512 MiB), with Bochs'
# CPUs at 50 M instructions per emulated second. At the 4 M of the other
# Bochs runs the kernel stopped after "ACPI: Core revision": from there
# its 250 Hz tick comes from the PIT through the 8259, and each tick took
# about 47,000 instructions (Bochs' debugger, breakpoints at the kernel's
# interrupt entry and its return to the kernel: 32,764 from entry to
# return, the next entry 14,581 later, most of it exits to the VMM for
# the 8259's mask and EOI) while a 4 MIPS CPU runs 16,000 between two
# ticks, so the vcpu never left its interrupt handlers. At 50 MIPS a tick
# has 200,000. How fast the emulated CPU is against its clocks is the
# harness's choice (on hardware a tick costs microseconds), and above
# 4.29 MHz it needed CPUID 0x15 to fit Linux's 32-bit arithmetic. The
# 1-vcpu run is in the whole `make test` (2.4 min of Bochs' CPU time);
# the 2-vcpu one runs only when TESTS names it (TESTS=linux_vmx).
LINUX_VMX_IPS=50000000

# On an Intel CPU the kernel takes the TSC's rate from CPUID 0x15 and,
# with IA32_TSC_ADJUST and an invariant TSC, trusts it without the
# clocksource watchdog (whose early ticks this slow machine loses): the
# TSC is its clocksource. No MSR the kernel touches unchecked faults.
# The kernel's TSC rate: its "MHz TSC" line, which it prints only when the
# rate differs from the processor's (CPUID 0x16 gives whole MHz), else the
# "MHz processor" line; within 0.2 % of Bochs' 50 MHz either way (the
# hypervisor measures the TSC to the kHz, 49.996 to 50.000 here).
expect_linux_tsc_rate() {
    local rate
    rate=$(grep -aoE "tsc: Detected [0-9.]+ MHz TSC" "$LOG" | grep -oE "[0-9]+\.[0-9]+" | head -1)
    [ -n "$rate" ] || rate=$(grep -aoE "tsc: Detected [0-9.]+ MHz processor" "$LOG" |
                             grep -oE "[0-9]+\.[0-9]+" | head -1)
    [ -n "$rate" ] || { fail "no 'tsc: Detected' line"; return; }
    awk -v r="$rate" 'BEGIN { exit !(r >= 49.9 && r <= 50.1) }' ||
        fail "the guest's TSC rate is $rate MHz, not Bochs' 50 MHz"
}

expect_linux_vmx_clocks() {
    expect_linux_tsc_rate
    expect_line "^\[guest linux\] \[ *[0-9.]+\] clocksource: Switched to clocksource tsc\s*$"
    expect_no_line "Marking TSC unstable|unchecked MSR access error"
}

# On an AMD CPU (Bochs' Ryzen, SVM) the kernel calibrates the TSC against
# the PM timer, as on hardware, and with IA32_TSC_ADJUST (which the
# hypervisor offers on every host, as KVM does) beside the invariant TSC
# it trusts it without the watchdog: the TSC ("tsc-early") is the
# clocksource. It stays tsc-early: the refinement a second later retries
# for as long as a PM-timer read (an exit to the VMM, about 2,000
# instructions here) takes more than tsc_khz/32 TSC ticks, 1,562 on
# Bochs, whose TSC counts instructions; on hardware an exit takes a few
# microseconds against the 31 us of a 3 GHz TSC. Under QEMU's TCG the
# calibration itself fails (README, "The guest's clocksource").
expect_linux_svm_clocks() {
    expect_line "^\[guest linux\] \[ *[0-9.]+\] tsc: using PMTIMER reference calibration"
    expect_linux_tsc_rate
    expect_line "^\[guest linux\] \[ *[0-9.]+\] clocksource: Switched to clocksource tsc(-early)?\s*$"
    expect_no_line "Marking TSC unstable|unchecked MSR access error|Firmware Bug"
}

# The same Linux image with 1 vcpu on both backends under Bochs, two
# tests that may share the host (Bochs is single-threaded and keeps its
# own clock; tests/run_all.sh runs them beside the others, longest
# first): VMX on Skylake-X, SVM on Ryzen (where Bochs' TSC counts
# instructions, unlike QEMU's TCG, so the guest's TSC calibration sees a
# PC's costs).
beside_test 195 test_linux_bochs_boots_to_init_1_vcpu_vmx
test_linux_bochs_boots_to_init_1_vcpu_vmx() {
    boot vmx-linux-1 1500 "$LINUX_END" $(bochs_vmx "$PWD/iso/out/linux-vmx-1.iso" \
        "$PWD/$SYSTEST_DIR/vmx-linux-1.log" 2 corei7_skylake_x $LINUX_VMX_IPS)
    expect_line "virt: using vmx"
    expect_linux_on_the_hypervisor 1 128
    expect_linux_vmx_clocks
}

beside_test 190 test_linux_bochs_boots_to_init_1_vcpu_svm
test_linux_bochs_boots_to_init_1_vcpu_svm() {
    boot svm-linux-1 1500 "$LINUX_END" $(bochs_vmx "$PWD/iso/out/linux-vmx-1.iso" \
        "$PWD/$SYSTEST_DIR/svm-linux-1.log" 2 ryzen $LINUX_VMX_IPS)
    expect_line "virt: using svm"
    expect_linux_on_the_hypervisor 1 128
    expect_linux_svm_clocks
}

if [[ "${TESTS:-}" == *linux_vmx* ]]; then
test_linux_vmx_bochs_boots_to_init_2_vcpus() {
    boot vmx-linux 1500 "$LINUX_END" $(bochs_vmx "$PWD/iso/out/linux-vmx.iso" \
        "$PWD/$SYSTEST_DIR/vmx-linux.log" 2 corei7_skylake_x $LINUX_VMX_IPS)
    expect_line "virt: using vmx"
    expect_linux_on_the_hypervisor 2 128
    expect_linux_vmx_clocks
}
fi

# expect_two_linux_guests MiB [SLACK]: linux1 and linux2 (2 vcpus each,
# `together`) both booted to init and powered off, each init's lines
# checked (SLACK as for expect_linux_init), and their runs overlapping:
# each printed its first kernel line before the other's init powered off.
expect_two_linux_guests() {
    local mib=$1 slack=${2:-10} g other first last
    expect_line "^\[ctl\] pc: 2 guests together"
    for g in linux1 linux2; do
        expect_line "^\[ctl\] pc: starting guest $g \(module [12] of [0-9]+, [0-9]+ bytes, $mib MiB RAM, 2 vcpus\)"
        expect_line "^\[guest $g\] \[ *[0-9.]+\] ACPI: Using IOAPIC for interrupt routing"
        expect_line "^\[guest $g\] \[ *[0-9.]+\] smp: Brought up 1 node, 2 CPUs"
        expect_linux_init 2 "[guest $g] " "$mib" "$slack"
        expect_line "^\[ctl\] guest $g powered off"
    done
    for g in linux1 linux2; do
        other=linux1; [ $g = linux1 ] && other=linux2
        first=$(grep -naE "^\[guest $g\] \[ *[0-9.]+\] Linux version" "$LOG" | head -1 | cut -d: -f1)
        last=$(grep -naE "^\[guest $other\] init: powering off" "$LOG" | head -1 | cut -d: -f1)
        [ -n "$first" ] && [ -n "$last" ] && [ "$first" -lt "$last" ] ||
            fail "$g did not start before $other's init ended (lines '$first', '$last'): not at once"
    done
    expect_line "^\[ctl\] pc: 2 guests run, 0 failed to run"
    expect_no_line "^\[guest linux[12]\].*(Kernel panic|BUG:|Oops)|Linux image refused"
    expect_clean_run
}

# Issue 12, two Linux guests at once, each with 2 vcpus, on a 2-CPU
# hypervisor (linux-two.iso: the `together` option, 256 MiB each): vcpu k
# of both on CPU k, time-shared. Each init's line is typed at the
# machine's console once it asks, after Ctrl-A and the guest's number, so
# that it reaches that guest's ttyS0 only.
# One run of linux-two.iso; its status as emulate.sh's would be: 124 for
# the timeout, 0 when the tool's last line came, else 1 (an early end).
two_linux_guests_run() {
    local log=$SYSTEST_DIR/linux-two.log
    pc_emulate "$log" 600 $(pc_hv_qemu iso/out/linux-two.iso 2) $(qemu_reset_log "$log")
    [ "$PC_STATUS" -ne 124 ] || return 124
    grep -qa "tool pc finished" "$log" || return 1
}

test_two_linux_guests_together_svm() {
    local -a PC_REPLIES=(
        '^\[guest linux1\] init: type a line' 'printf "\001""1%s" "$LINUX_INPUT_TEXT"'
        '^\[guest linux2\] init: type a line' 'printf "\001""2%s" "$LINUX_INPUT_TEXT"'
    )
    # QEMU's triple fault of the hypervisor (README, known limits: QEMU
    # 7.2's hflags2 race, 7 of 13 boots of this pair in session 12's
    # measurement): booted again, seven times at most. It ended 6 of 16
    # boots on 2026-12-01, and all 5 then allowed in one `make test` of
    # 2026-12-02; later that day 16 of 17 boots of this pair at 8e58583
    # (the code of a CI run that had passed) and 8 of 8 twice at the
    # session's head: sixteen then. Session 16's qemu_x87_guard
    # (hv/fpu.c) takes away most of the race's chances: 6 runs of this
    # test in a row passed at their first boot, where the same hypervisor
    # with the guard off used all 16 boots, and three fresh-clone CI runs
    # needed no boot again: eight at most now. This pair cannot go to one
    # thread: there QEMU delivers the interrupts the hypervisor injects
    # twice, and Linux deadlocks on an irq descriptor's lock early in boot
    # (README, known limits).
    QEMU_FAULT_BOOTS=8 again_after_qemu_triple_fault two_linux_guests_run
    [ "$PC_STATUS" -ne 124 ] || fail "no end of run within 600 s (see $LOG)"
    expect_two_linux_guests 256
    expect_line "^\[ctl\] console: typed input goes to guest 1 only"
    expect_line "^\[ctl\] console: typed input goes to guest 2 only"
    expect_no_line "^\[ctl\] console: .*dropped"
    expect_line "tool pc finished with status 0"
}

# Issue 12 item 5: two Linux guests and the conformance suite side by side
# (linux-beside.iso: `pc beside hvtest`). The guests' four vcpus run on
# CPU 1; the suite runs on CPU 0 and its jobs for CPU 1 run there between
# the guests' quanta (smp_lend), so the suite's guests, its state checks
# and the Linux vcpus take turns on CPU 1. Each init reads its line from
# input=. Both must finish correctly. Four vcpus and the suite's jobs on
# one CPU keep a vcpu waiting up to a few hundred ms (one of the suite's
# jobs runs to its end), so init polls the RTC's edges late and its
# RTC-calibrated TSC is off: seen an RTC second of 902 to 1163 ms and a
# 1 s sleep of 1002 to 1080 ms by CLOCK_MONOTONIC but 749 to 1185 ms by
# that TSC. The time lines are checked for form only here; the tests
# above judge them with CPUs to spare.
test_two_linux_guests_beside_the_conformance_suite_svm() {
    boot linux-beside 900 "$LINUX_END" $(qemu_svm iso/out/linux-beside.iso $SYSTEST_DIR/linux-beside.log 2)
    expect_two_linux_guests 192 none
    expect_line "^\[ctl\] pc: running tool hvtest beside the guests"
    expect_line "hvtest: [0-9]+ passed, 0 failed"
    expect_line "^\[ctl\] pc: tool hvtest beside the guests finished with status 0"
    expect_line "tool pc finished with status 0"
    grep -a "hvtest: FAIL" "$LOG" | head -20 | sed 's/^/    /'
    echo "    $(grep -aoE 'hvtest: [0-9]+ passed, [0-9]+ failed' "$LOG") (${ELAPSED}s)"
}
