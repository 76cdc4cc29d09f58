#!/usr/bin/env bash
# `make bench`: boots the bench ISO under QEMU with -icount shift=0, where the
# guest TSC counts executed instructions (PLATFORM.md), so every figure is a
# reproducible instruction count of our own code path. Prints the control
# domain's table. Wall-clock time under TCG says nothing and is not shown.
set -u
cd "$(dirname "$0")/.."
source tests/system/machines.sh
mkdir -p build/bench
log=build/bench/bench.log
echo "bench: booting iso/out/bench.iso under QEMU TCG -icount shift=0 -smp 1 (takes a minute)"
tests/system/emulate.sh "$log" 600 'tool bench finished with status|PANIC|hv: halted' -- \
    $(qemu_svm iso/out/bench.iso "$log" 1) -icount shift=0 >/dev/null
status=$?
sed -n 's/\r//; s/^\[ctl\] bench: //p' "$log"
if [ $status -ne 0 ] || ! grep -qa "tool bench finished with status 0" "$log"; then
    echo "bench: FAILED (see $log)"
    exit 1
fi
