# The PC test guests (guest-tools/guests/pc_*.c) straight on the machine,
# without the hypervisor: under plain QEMU q35 (and Bochs for the two
# guests whose features QEMU's TCG lacks) each must print exactly the
# lines in tests/system/pc_expected/, the lines the same image must print
# under the hypervisor's `pc` tool (pc_platform_tests.sh). Sourced by
# tests/run_all.sh.

source tests/system/pc_guests.sh

test_pc_lapic_accepts_interrupts_by_priority_plain_qemu() {
    run_pc_guest_plain pc_lapic $PC_EXPECTED/pc_lapic.txt 65 -no-reboot
}

test_pc_lapic_takes_garbage_and_an_icr_storm_plain_qemu() {
    run_pc_guest_plain pc_lapic_garbage $PC_EXPECTED/pc_lapic_garbage.txt 65 -no-reboot
}

test_pc_lapic_timer_one_shot_and_periodic_plain_qemu() {
    run_pc_guest_plain pc_lapic_timer $PC_EXPECTED/pc_lapic_timer.txt 65 -no-reboot
}

test_pc_hlt_sleeps_until_lapic_timer_plain_qemu() {
    run_pc_guest_plain pc_hlt $PC_EXPECTED/pc_hlt.txt 65 -no-reboot
}

test_pc_smp_guest_starts_its_aps_and_exchanges_ipis_plain_qemu() {
    run_pc_guest_plain pc_smp $PC_EXPECTED/pc_smp.txt 65 -no-reboot
}

test_pc_pic_delivers_pit_irq0_in_protected_and_real_mode_plain_qemu() {
    run_pc_guest_plain pc_pic $PC_EXPECTED/pc_pic.txt 65 -no-reboot
}

test_pc_ioapic_routes_pit_and_uart_plain_qemu() {
    run_pc_guest_plain pc_ioapic $PC_EXPECTED/pc_ioapic.txt 65 -no-reboot
}

# The test types the line when the guest prompts (PC_REPLIES).
test_pc_uart_receive_interrupt_gets_typed_line_plain_qemu() {
    run_pc_guest_plain pc_uart_rx $PC_EXPECTED/pc_uart_rx.txt 65 -no-reboot
}

# The test types the host's UTC time when the guest prompts (PC_REPLIES).
test_pc_rtc_keeps_host_time_plain_qemu() {
    run_pc_guest_plain pc_rtc $PC_EXPECTED/pc_rtc.txt 65 -no-reboot
}

test_pc_pm_timer_runs_at_3579545_hz_plain_qemu() {
    run_pc_guest_plain pc_pmtimer $PC_EXPECTED/pc_pmtimer.txt 65 -no-reboot
}

test_pc_firmware_fw_cfg_acpi_and_pci_plain_qemu() {
    run_pc_guest_plain pc_firmware $PC_EXPECTED/pc_firmware.txt 65 -no-reboot
}

test_pc_string_io_into_refused_pages_faults_plain_qemu() {
    run_pc_guest_plain pc_string_io $PC_EXPECTED/pc_string_io.txt 65 -no-reboot
}

test_pc_task_switches_by_every_way_in_plain_qemu() {
    run_pc_guest_plain pc_task_switch $PC_EXPECTED/pc_task_switch.txt 65 -no-reboot
}

# Without -no-reboot: a reset instead of the power-off would boot the
# guest again (its banner twice) rather than end QEMU with status 0.
test_pc_guest_powers_off_through_acpi_s5_plain_qemu() {
    run_pc_guest_plain pc_poweroff $PC_EXPECTED/pc_poweroff.txt 0
}

# -no-reboot ends QEMU at the reset; QEMU's reset log tells a reset
# through 0xcf9 from a triple fault, which would end it the same way.
test_pc_guest_resets_through_port_cf9_plain_qemu() {
    local resets=$SYSTEST_DIR/plain-pc_reset.resets
    run_pc_guest_plain pc_reset $PC_EXPECTED/pc_reset.txt 0 -no-reboot -d cpu_reset -D "$resets"
    ! grep -q "Triple fault" "$resets" || fail "the guest triple-faulted instead (see $resets)"
}

# QEMU 7.2's TCG offers neither x2APIC nor TSC-deadline: there the two
# guests say so and pass.
test_pc_x2apic_and_tsc_deadline_guests_say_not_offered_plain_qemu() {
    run_pc_guest_plain pc_x2apic $PC_EXPECTED/pc_x2apic.not-offered.txt 65 -no-reboot
    run_pc_guest_plain pc_tsc_deadline $PC_EXPECTED/pc_tsc_deadline.not-offered.txt 65 -no-reboot
}

# Bochs (skylake-x model) offers both: the reference run of the two
# guests, from a GRUB ISO that boots the guest alone (Makefile
# plain-%.iso). Bochs has no isa-debug-exit; the guests end on its
# shutdown port after their result line.
run_pc_guest_bochs() {
    local guest=$1
    boot "bochs-$guest" 300 '^result: ' $(bochs_vmx "$PWD/iso/out/plain-$guest.iso" \
        "$PWD/$SYSTEST_DIR/bochs-$guest.log" 1)
    pc_compare "bochs-$guest" <(pc_bochs_expected "$PC_EXPECTED/$guest.txt") \
        <(pc_plain_lines "$LOG")
}

test_pc_x2apic_guest_on_bochs() {
    run_pc_guest_bochs pc_x2apic
}

test_pc_tsc_deadline_guest_on_bochs() {
    run_pc_guest_bochs pc_tsc_deadline
}
