# Emulator command lines shared by the system tests (sourced).
# Each function takes: ISO LOG [extra emulator arguments...]

# QEMU_ACCEL=tcg,thread=single runs the QEMU tests on one host thread,
# where QEMU 7.2's unlocked write of CPU 0's hflags2 from other vCPU
# threads (README, known limits) cannot happen; the tests' guest timing
# windows do not all survive its round-robin, and there QEMU delivers an
# injected interrupt twice often enough to hang Linux guests (README,
# known limits), so the default stays multi-threaded TCG.
QEMU_BASE=(qemu-system-x86_64 -accel "${QEMU_ACCEL:-tcg}" -display none -no-reboot
           -device isa-debug-exit,iobase=0xf4,iosize=4)

# QEMU's reset log next to the serial log (LOG.qemu): with -no-reboot a
# triple fault of the hypervisor itself ends QEMU quietly with status 0,
# and this log's "Triple fault" line is then all that tells it from a
# crash (lib.sh, emulator_post_mortem). About 8 KiB a run: the state dumps
# of the resets at power-on and of each AP's INIT.
qemu_reset_log() {
    echo -d cpu_reset -D "$1.qemu"
}

# QEMU TCG with SVM+NPT (PLATFORM.md). $1 ISO, $2 serial log, $3 CPUs, $4 cpu model
qemu_svm() {
    local iso=$1 log=$2 cpus=$3 model=${4:-EPYC,+svm,+npt}
    shift 4 2>/dev/null || shift $#
    rm -f "$log.qemu"
    echo "${QEMU_BASE[@]}" -machine q35 -cpu "$model" -smp "$cpus" -m 1G \
        -cdrom "$iso" -serial "file:$log" $(qemu_reset_log "$log") "$@"
}

# qemu_svm THREADS ISO LOG CPUS...: qemu_svm with TCG's threading set
# (single or multi) whatever QEMU_ACCEL says.
qemu_svm_tcg_threads() {
    local threads=$1
    shift
    local QEMU_BASE=("${QEMU_BASE[@]/#tcg*/tcg,thread=$threads}")
    qemu_svm "$@"
}

# qemu_svm on one host thread, where QEMU 7.2's unlocked write of CPU 0's
# hflags2 from other vCPU threads cannot happen (README, known limits):
# for the runs with no guest timing windows and no Linux (the fuzz tool,
# region churn, the smp_hello demo), which also run faster so on this
# 2-core machine (fuzz tool 43 -> 32 s). There QEMU may deliver an
# injected interrupt twice (README, known limits); none of these runs
# checks what a guest does with its interrupts (the fuzz tool judges the
# calls' results, and its sequence lines are its generator's state).
qemu_svm_one_thread() {
    qemu_svm_tcg_threads single "$@"
}

# The same under OVMF (UEFI firmware).
qemu_svm_uefi() {
    local iso=$1 log=$2 cpus=$3
    rm -f "$log.qemu"
    echo "${QEMU_BASE[@]}" -machine q35 -cpu EPYC,+svm,+npt -smp "$cpus" -m 1G \
        -bios /usr/share/ovmf/OVMF.fd -cdrom "$iso" -serial "file:$log" $(qemu_reset_log "$log")
}

# Bochs with a VMX CPU model. Writes a bochsrc next to the log and prints
# the command. $1 ISO, $2 serial log, $3 CPUs, $4 cpu model, $5 the
# emulated instructions per emulated second (ips: the TSC's rate and each
# CPU's speed against the emulated clocks; 4 M makes idle time pass
# quickly in wall time, PLATFORM.md)
bochs_vmx() {
    local iso=$1 log=$2 cpus=$3 model=${4:-corei7_skylake_x} ips=${5:-4000000}
    local dir
    dir=$(dirname "$log")
    cat > "$log.bochsrc" <<RC
megs: 512
cpu: model=$model, count=$cpus, ips=$ips, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$log
display_library: rfb, options="timeout=0"
speaker: enabled=0
port_e9_hack: enabled=1
log: $log.bochs
panic: action=fatal
error: action=report
RC
    echo c > "$log.rc"   # one of its own: two runs may start together
    echo bochs -q -f "$log.bochsrc" -rc "$log.rc"
}
