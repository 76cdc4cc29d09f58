#!/usr/bin/env bash
# `make bench`: boots the bench ISO where the TSC counts instructions, so
# every figure is a reproducible instruction count of our own code path:
#   - QEMU TCG with -icount shift=0 (SVM): one tick per instruction, a VMRUN
#     with its #VMEXIT counting as one (PLATFORM.md);
#   - Bochs (VMX): at the bochsrc's ips its TSC also advances one tick per
#     instruction (the boot log's "TSC 4.000 MHz" at ips=4000000).
# Prints the control domain's tables. Wall-clock time under an emulator says
# nothing about hardware and is not shown, except in the SMP run's fallback
# below, where it is labelled.
set -u
cd "$(dirname "$0")/.."
source tests/system/machines.sh
source tests/system/lib.sh
mkdir -p build/bench
status=0

# bench_boot LOG STOP-TIMEOUT COMMAND...: true if the bench finished with
# 0. A QEMU run that QEMU ended on a triple fault of the hypervisor, no
# PANIC (QEMU 7.2's multi-threaded TCG setting HF2_NPT on CPU 0 again from
# another vCPU thread, README known limits: the multi-threaded run ended
# so in 2 of 4 `make bench` of session 11) boots again, twice at most, and
# says so, as the system tests do (tests/system/lib.sh).
bench_boot_once() {
    LOG=$1
    local timeout=$2
    shift 2
    tests/system/emulate.sh "$LOG" "$timeout" 'tool bench finished with status|PANIC|hv: halted|stopped:' -- "$@" >/dev/null
}

bench_boot() {
    again_after_qemu_triple_fault bench_boot_once "$@"
    grep -qa "tool bench finished with status 0" "$1"
}

print_tables() { sed -n 's/\r//; s/^\[ctl\] bench: //p' "$1"; }

run() { # LOG STOP-TIMEOUT COMMAND...
    bench_boot "$@"
    local ok=$?
    print_tables "$1"
    if [ $ok -ne 0 ]; then
        echo "bench: FAILED (see $1)"
        status=1
    fi
}

# plain_icount LOG QEMU-ARGS...: boots plain QEMU (-icount shift=0 -smp 1)
# until its guest powers off, which pauses it (-action shutdown=pause),
# and prints the instructions it executed (QMP query-replay's icount).
plain_icount() {
    local log=$1 sock=build/bench/qmp.sock
    shift
    rm -f "$sock"
    qemu-system-x86_64 -machine q35 -accel tcg -smp 1 -icount shift=0 -display none -nodefaults \
        -serial "file:$log" -monitor none -qmp "unix:$sock,server=on,wait=off" \
        -action shutdown=pause -no-reboot "$@" 2>"$log.emulator" &
    local pid=$!
    tests/bench/qmp_icount.py "$sock" 600
    wait $pid
}

# Issue 12's bench: Debian's kernel with our initrd booted to init's first
# line (init powers off right after it when `bench` is on the kernel
# command line), -icount shift=0 -smp 1, 256 MiB, the same command line.
# Under the hypervisor the pc tool's `profile` option counts from the
# guest's first RUN to its power-off: TSC ticks less those the CPU slept
# for the halted vcpu (GET_STATS idle_tsc), so instructions of the guest,
# the hypervisor and the VMM. The floor: the same kernel, initrd and
# command line on plain QEMU (-kernel/-initrd, -cpu EPYC: the model the
# hypervisor runs on, without SVM; -nodefaults: no VGA or NIC, as the
# virtual PC has none), counted by QEMU to the power-off, less
# what SeaBIOS and the option ROM take before the kernel (measured by
# booting pc_poweroff the same way: its own few thousand instructions are
# in that figure, so the floor is, if anything, low).
linux_boot_bench() {
    local log=build/bench/linux-bench.log cmdline=${LINUX_BENCH_CMDLINE:-console=ttyS0 bench}
    local total vmm guest_hv plain bios floor
    echo "== Linux boot to init's first line: QEMU TCG -icount shift=0 -smp 1, 256 MiB, 1 vcpu, \"$cmdline\""
    if ! tests/system/emulate.sh "$log" 900 'tool pc finished with status|PANIC|hv: halted|stopped:' -- \
        $(qemu_svm iso/out/linux-bench.iso "$log" 1) -icount shift=0 >/dev/null ||
        ! grep -qa "guest linux powered off" "$log"; then
        echo "bench: FAILED (see $log)"
        status=1
        return
    fi
    total=$(sed -n 's/\r//; s/.*profile: \([0-9]*\) instructions from the first RUN.*/\1/p' "$log")
    vmm=$(sed -n 's/\r//; s/.*profile: \([0-9]*\) instructions in the VMM, .*/\1/p' "$log")
    guest_hv=$(sed -n 's/\r//; s/.*instructions in the VMM, \([0-9]*\) in the guest.*/\1/p' "$log")
    plain=$(plain_icount build/bench/linux-plain.log -cpu EPYC -m 256 -kernel build/linux/vmlinuz \
        -initrd build/linux/initrd.cpio -append "$cmdline")
    bios=$(plain_icount build/bench/bios.log -cpu EPYC -m 256 \
        -kernel build/guest-tools/guests/pc_poweroff.elf)
    if [ -z "$total" ] || [ -z "$plain" ] || [ -z "$bios" ] ||
        ! grep -qa '^init: kernel' build/bench/linux-plain.log; then
        echo "bench: FAILED (hypervisor '$total', plain QEMU '$plain', SeaBIOS '$bios')"
        status=1
        return
    fi
    floor=$((plain - bios))
    printf '  %-66s %13s\n' "under the hypervisor, first RUN to the power-off" "$total" \
        "plain QEMU -kernel/-initrd to the power-off" "$plain" \
        "  less SeaBIOS and the option ROM (pc_poweroff booted so)" "$bios" \
        "floor" "$floor"
    awk -v t="$total" -v f="$floor" 'BEGIN { printf "  ratio %.3f (target <= 1.15)\n", t / f }'
    echo "  where the hypervisor's run goes:"
    sed -n 's/\r//; s/^\[ctl\] guest linux profile: \(.*\(exits\|returns\),.*\)/    \1/p' "$log"
    printf '    %s instructions in the VMM, %s in the guest and the hypervisor together\n' \
        "$vmm" "$guest_hv"
    linux_exit_profile
}

# The same boot with the hypervisor's profile build (HV_EXIT_PROFILE=1,
# hv/exit_profile.h), which counts each exit's instructions in the
# hypervisor by kind and by who completes it: the hypervisor alone, or
# the VMM (then both ways through RUN, less the VMM's own time, which the
# pc tool's profile gives per exit reason). Its hooks' two RDTSCs an exit
# are why it is a boot of its own.
linux_exit_profile() {
    local log=build/bench/linux-bench-profile.log
    echo "  exits by kind, from a second boot with the hypervisor's profile build:"
    if ! tests/system/emulate.sh "$log" 900 'tool pc finished with status|PANIC|hv: halted|stopped:' -- \
        $(qemu_svm iso/out/linux-bench-profile.iso "$log" 1) -icount shift=0 >/dev/null ||
        ! grep -qa "exit profile: cpu" "$log"; then
        echo "bench: FAILED (see $log)"
        status=1
        return
    fi
    tr -d '\r' <"$log" | awk '
        # the pc tool: "guest linux profile: to the VMM io: N returns, T instructions in the VMM"
        /guest linux profile: to the VMM / {
            split($0, a, "to the VMM "); split(a[2], b, ":"); reason = b[1]
            split(b[2], c, " "); vmm_ticks[reason] += c[3]
        }
        # the hypervisor: "exit profile: cpuN KIND by WHO: N exits, T ticks"
        /exit profile: cpu[0-9]+ / {
            sub(/.*exit profile: cpu[0-9]+ /, ""); kind = $1; who = $3; sub(/:$/, "", who)
            key = kind " " who
            if (!(key in exits)) order[++n] = key
            exits[key] += $4; ticks[key] += $6
        }
        END {
            # which of the VMM'"'"'s exit reasons each kind comes back as
            vmm_of["io"] = "io"; vmm_of["mmio"] = "mmio"; vmm_of["irq_window"] = "irq_window"
            vmm_of["interrupt"] = "intr deadline"; vmm_of["hlt"] = "hlt"
            printf "    %-11s %-11s %8s %12s %9s %12s %9s\n", "kind", "completed", "exits",
                "hypervisor", "per exit", "VMM", "per exit"
            for (i = 1; i <= n; i++) {
                split(order[i], k, " ")
                line = sprintf("    %-11s %-11s %8d %12d %9d", k[1], k[2], exits[order[i]],
                               ticks[order[i]], ticks[order[i]] / exits[order[i]])
                if (k[2] == "vmm") {
                    v = 0; m = split(vmm_of[k[1]], rs, " ")
                    for (j = 1; j <= m; j++) v += vmm_ticks[rs[j]]
                    line = line sprintf(" %12d %9d", v, v / exits[order[i]])
                }
                print line
                all_exits += exits[order[i]]; all_ticks += ticks[order[i]]
            }
            printf "    %-23s %8d %12d %9d\n", "all", all_exits, all_ticks, all_ticks / all_exits
        }'
    # "exit profile xstate: cpuN: R RUNs, T ticks": RUN's extended-state
    # switch, both ways (hv/fpu.h), inside the figures above.
    if ! grep -qa "exit profile xstate: cpu" "$log"; then
        echo "bench: FAILED (no extended-state switch figure in $log)"
        status=1
        return
    fi
    tr -d '\r' <"$log" | awk '
        /exit profile xstate: cpu[0-9]+:/ { runs += $(NF-3); ticks += $(NF-1) }
        END {
            printf "    extended-state switch (hv/fpu.h), both ways: %d RUNs, %d instructions a RUN\n",
                runs, ticks / runs
        }'
}

echo "== SVM: QEMU TCG -icount shift=0 -smp 1 (make bench; about a minute)"
run build/bench/bench.log 600 $(qemu_svm iso/out/bench.iso build/bench/bench.log 1) -icount shift=0
echo
echo "== VMX: Bochs corei7_skylake_x, 1 CPU (the targets and KVM column are for SVM)"
run build/bench/bench-vmx.log 900 $(bochs_vmx "$PWD/iso/out/bench.iso" "$PWD/build/bench/bench-vmx.log" 1)
echo
# Bochs' ryzen model has SVM with next-RIP save, which QEMU's TCG lacks:
# there an intercepted instruction's length is one VMCB load, as on every
# AMD CPU since 2010, not a read of the guest's code.
echo "== SVM: Bochs ryzen (next-RIP save), 1 CPU"
run build/bench/bench-svm-bochs.log 900 \
    $(bochs_vmx "$PWD/iso/out/bench.iso" "$PWD/build/bench/bench-svm-bochs.log" 1 ryzen)
echo
# Paths between two CPUs (guest-tools/tools/bench_ipi.c): Bochs runs its
# CPUs side by side, a quantum of 16 instructions each in turn, on one
# clock, so a TSC difference across CPUs is a path length to within that.
for model in corei7_skylake_x ryzen; do
    log=build/bench/bench-ipi-$model.log
    echo "== Two CPUs: Bochs $model, 2 CPUs side by side"
    run $log 900 $(bochs_vmx "$PWD/iso/out/bench-ipi.iso" "$PWD/$log" 2 $model)
    echo
done
linux_boot_bench
echo
# SMP with -icount may hang in QEMU 7.2 (PLATFORM.md): try it with a short
# limit, and fall back to multi-threaded TCG, where a tick is wall TSC.
log=build/bench/bench-smp4.log
if bench_boot $log 300 $(qemu_svm iso/out/bench.iso $log 4) -icount shift=0; then
    echo "== SVM: QEMU TCG -icount shift=0 -smp 4 (ticks = instructions; the CPUs take turns)"
    print_tables $log
else
    echo "== SVM: QEMU TCG -smp 4 without -icount (the -icount run did not finish: see $log.icount);"
    echo "   ticks are wall-clock TSC of the emulator, not instructions"
    mv $log $log.icount
    run $log 600 $(qemu_svm iso/out/bench-mttcg.iso $log 4)
fi
echo
# Issue 14: real parallelism. Multi-threaded TCG runs each emulated CPU on
# its own host thread, so with -smp 2 on this 2-core machine the scaling
# lines say whether two CPUs' exits get in each other's way; a tick is
# wall-clock TSC and the machine must be otherwise idle for them to mean
# anything.
log=build/bench/bench-mttcg2.log
echo "== SVM: QEMU multi-threaded TCG -smp 2, no -icount (ticks are wall-clock TSC; read the scaling lines)"
run $log 600 $(qemu_svm_tcg_threads multi iso/out/bench-mttcg.iso $log 2)
exit $status
