#!/usr/bin/env bash
# `make bench`: boots the bench ISO where the TSC counts instructions, so
# every figure is a reproducible instruction count of our own code path:
#   - QEMU TCG with -icount shift=0 (SVM): one tick per instruction, a VMRUN
#     with its #VMEXIT counting as one (PLATFORM.md);
#   - Bochs (VMX): at the bochsrc's ips its TSC also advances one tick per
#     instruction (the boot log's "TSC 4 MHz" at ips=4000000).
# Prints the control domain's tables. Wall-clock time under an emulator says
# nothing about hardware and is not shown, except in the SMP run's fallback
# below, where it is labelled.
set -u
cd "$(dirname "$0")/.."
source tests/system/machines.sh
mkdir -p build/bench
status=0

# boot LOG STOP-TIMEOUT COMMAND...: true if the bench finished with 0
boot() {
    local log=$1 timeout=$2
    shift 2
    tests/system/emulate.sh "$log" "$timeout" 'tool bench finished with status|PANIC|hv: halted|stopped:' -- "$@" >/dev/null
    grep -qa "tool bench finished with status 0" "$log"
}

print_tables() { sed -n 's/\r//; s/^\[ctl\] bench: //p' "$1"; }

run() { # LOG STOP-TIMEOUT COMMAND...
    boot "$@"
    local ok=$?
    print_tables "$1"
    if [ $ok -ne 0 ]; then
        echo "bench: FAILED (see $1)"
        status=1
    fi
}

echo "== SVM: QEMU TCG -icount shift=0 -smp 1 (make bench; about a minute)"
run build/bench/bench.log 600 $(qemu_svm iso/out/bench.iso build/bench/bench.log 1) -icount shift=0
echo
echo "== VMX: Bochs corei7_skylake_x, 1 CPU (the targets and KVM column are for SVM)"
run build/bench/bench-vmx.log 900 $(bochs_vmx "$PWD/iso/out/bench.iso" "$PWD/build/bench/bench-vmx.log" 1)
echo
# SMP with -icount may hang in QEMU 7.2 (PLATFORM.md): try it with a short
# limit, and fall back to multi-threaded TCG, where a tick is wall TSC.
log=build/bench/bench-smp4.log
if boot $log 300 $(qemu_svm iso/out/bench.iso $log 4) -icount shift=0; then
    echo "== SVM: QEMU TCG -icount shift=0 -smp 4 (ticks = instructions; the CPUs take turns)"
    print_tables $log
else
    echo "== SVM: QEMU TCG -smp 4 without -icount (the -icount run did not finish: see $log.icount);"
    echo "   ticks are wall-clock TSC of the emulator, not instructions"
    mv $log $log.icount
    run $log 600 $(qemu_svm iso/out/bench.iso $log 4)
fi
echo
# Issue 14: real parallelism. Multi-threaded TCG runs each emulated CPU on
# its own host thread, so with -smp 2 on this 2-core machine the scaling
# lines say whether two CPUs' exits get in each other's way; a tick is
# wall-clock TSC and the machine must be otherwise idle for them to mean
# anything.
log=build/bench/bench-mttcg2.log
echo "== SVM: QEMU multi-threaded TCG -smp 2, no -icount (ticks are wall-clock TSC; read the scaling lines)"
run $log 600 $(qemu_svm iso/out/bench.iso $log 2) -accel tcg,thread=multi
exit $status
