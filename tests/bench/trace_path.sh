#!/usr/bin/env bash
# Where the instructions of one bench path go: runs the bench ISO
# (`make bench` builds iso/out/bench.iso) and traces, one instruction at a
# time, the control domain's code from START to STOP (linear addresses in
# build/guest-tools/ctl.elf, normally the two RDTSCs around the call the
# bench times), after the SKIP-th pass through START (past the warm-up).
# Prints the functions in the order they ran, with their instruction
# counts, then the counts per function; `-v` prints every instruction.
#   tests/bench/trace_path.sh svm|vmx START STOP [SKIP] [-v]
# SVM: QEMU with -icount shift=0 and its gdb stub (stepi on loopback);
# VMX: Bochs' debugger (physical breakpoints, `trace on`). Find START and
# STOP in `objdump -d build/guest-tools/ctl.elf` (bench_main and
# time_out_round_trip: the RDTSC before a VMMCALL/VMCALL and the one after).
# The control domain's memory starts at 0x600000 (hv's command line:
# ctl_mem, placed at the first free frame); its code is identity-mapped.
set -eu
cd "$(dirname "$0")/../.."
source tests/system/machines.sh
backend=$1 start=${2#0x} stop=${3#0x} skip=${4:-100} verbose=${5:-}
dir=build/trace; mkdir -p $dir
raw=$dir/$backend-$start-$stop.trace
case $backend in
svm)
    port=$((20000 + RANDOM % 10000))
    # shellcheck disable=SC2046
    $(qemu_svm iso/out/bench.iso $dir/serial.log 1) -icount shift=0 \
        -gdb tcp:127.0.0.1:$port -S >$dir/qemu.out 2>&1 &
    qemu=$!
    sleep 0.5
    PORT=$port START=$start STOP=$stop SKIP=$skip OUT=$raw \
        timeout 900 gdb -q -batch -x tests/bench/trace_gdb.py >$dir/gdb.out 2>&1 || true
    kill $qemu 2>/dev/null || true
    ;;
vmx)
    ctl_phys=0x600000
    bochs_vmx "$PWD/iso/out/bench.iso" "$PWD/$dir/serial.log" 1 >/dev/null
    rc=$dir/trace.rc
    { printf 'pb 0x%x\n' $((0x$start + ctl_phys))
      for _ in $(seq 1 "$skip"); do echo c; done
      echo "d 1"; printf 'pb 0x%x\n' $((0x$stop + ctl_phys))
      echo "trace on"; echo c; echo "trace off"; echo quit; } >$rc
    timeout 900 bochs -q -f "$dir/serial.log.bochsrc" -rc $rc </dev/null >$raw 2>&1 || true
    ;;
*) echo "usage: $0 svm|vmx START STOP [SKIP] [-v]" >&2; exit 2 ;;
esac
python3 tests/bench/trace_report.py $backend $raw $verbose
