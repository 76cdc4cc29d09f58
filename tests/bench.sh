#!/usr/bin/env bash
# `make bench`: boots the bench ISO where the TSC counts instructions, so
# every figure is a reproducible instruction count of our own code path:
#   - QEMU TCG with -icount shift=0 (SVM): one tick per instruction, a VMRUN
#     with its #VMEXIT counting as one (PLATFORM.md);
#   - Bochs (VMX): at the bochsrc's ips its TSC also advances one tick per
#     instruction (the boot log's "TSC 4 MHz" at ips=4000000).
# Prints the control domain's tables. Wall-clock time under an emulator says
# nothing about hardware and is not shown.
set -u
cd "$(dirname "$0")/.."
source tests/system/machines.sh
mkdir -p build/bench
status=0

run() { # NAME STOP-TIMEOUT COMMAND...
    local log=$1 timeout=$2
    shift 2
    tests/system/emulate.sh "$log" "$timeout" 'tool bench finished with status|PANIC|hv: halted|stopped:' -- "$@" >/dev/null
    sed -n 's/\r//; s/^\[ctl\] bench: //p' "$log"
    if ! grep -qa "tool bench finished with status 0" "$log"; then
        echo "bench: FAILED (see $log)"
        status=1
    fi
}

echo "== SVM: QEMU TCG -icount shift=0 -smp 1 (make bench; about a minute)"
run build/bench/bench.log 600 $(qemu_svm iso/out/bench.iso build/bench/bench.log 1) -icount shift=0
echo
echo "== VMX: Bochs corei7_skylake_x, 1 CPU (the targets and KVM column are for SVM)"
run build/bench/bench-vmx.log 900 $(bochs_vmx "$PWD/iso/out/bench.iso" "$PWD/build/bench/bench-vmx.log" 1)
exit $status
