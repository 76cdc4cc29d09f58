# System tests of installing on a box through GRUB (iso/install.mk and
# iso/grub.d/25_microhypervisor.in): `make install` into a staging tree, the
# grub.d script run the way grub-mkconfig runs it, then GPT disk images that
# GRUB boots under SeaBIOS (i386-pc) and OVMF (x86_64-efi) in QEMU.
# Sourced by tests/run_all.sh. Scratch files go to build/install-test/.
# The disks are made in plain files with sfdisk, mtools and dd: no loop
# device, no mount, no root.

source tests/system/machines.sh

INSTALL_TEST_DIR=build/install-test
# The FAT volume serial of the test disks' EFI system partition, as GRUB
# writes a FAT UUID; the stub library "finds" the boot filesystem by it.
INSTALL_TEST_FS_UUID=1234-5678
# GPT layout of the test disks (512-byte sectors): the BIOS boot partition
# holds core.img, the EFI system partition everything else.
DISK_SIZE_MIB=64
DISK_BIOS_BOOT_START=2048
DISK_BIOS_BOOT_SECTORS=2048
DISK_ESP_START=4096

# ---- staging tree and the grub.d script ----------------------------------

# install_write_stub_lib: a grub-mkconfig_lib with the functions the script
# uses, answering for a pretend boot filesystem instead of probing disks.
install_write_stub_lib() {
    mkdir -p $INSTALL_TEST_DIR/stub
    cat > $INSTALL_TEST_DIR/stub/grub-mkconfig_lib <<'LIB'
# Stub of GRUB's grub-mkconfig_lib for tests: the boot filesystem is FAT on
# the device /dev/stub-boot, its UUID $STUB_FS_UUID, and the staging root
# $MICROHYPERVISOR_ROOT is that filesystem's root.
grub_tab="	"
grub_probe=stub_grub_probe
stub_grub_probe () {
  case "$*" in
    "--target=device $MICROHYPERVISOR_ROOT"/*) echo /dev/stub-boot ;;
    *) echo "stub grub-probe: unexpected: $*" >&2; return 1 ;;
  esac
}
gettext () { printf '%s' "$1"; }
gettext_printf () { format="$1"; shift; printf "$(gettext "$format")" "$@"; }
grub_warn () { echo "$(gettext "Warning:")" "$@" >&2; }
grub_quote () { sed "s/'/'\\\\''/g"; }
grub_add_tab () { sed -e "s/^/$grub_tab/"; }
grub_file_is_not_garbage () {
  test -f "$1" || return 1
  case "$1" in *.dpkg-*|*.rpmsave|*.rpmnew|README*|*/README*|*.sig) return 1 ;; esac
}
make_system_path_relative_to_its_root () { echo "${1#"$MICROHYPERVISOR_ROOT"}"; }
grub_get_device_id () { [ "$1" = /dev/stub-boot ] && echo "$STUB_FS_UUID"; }
prepare_grub_to_access_device () {
  [ "$1" = /dev/stub-boot ] || return 0
  echo "insmod part_gpt"
  echo "insmod fat"
  echo "search --no-floppy --fs-uuid --set=root $STUB_FS_UUID"
}
LIB
}

# install_make TARGET DIR [VAR=value...]: `make TARGET DESTDIR=DIR` from the
# images `make all` built (the -o flags keep this make from rebuilding them
# while other work goes on in the tree), run through the command in
# INSTALL_AS (none: as this user); output in DIR.TARGET.log
INSTALL_AS=()
install_make() {
    local target=$1 dir=$2 f old=(-o build/hv.elf)
    shift 2
    for f in build/guest-tools/ctl.elf build/guest-tools/guests/*.elf; do old+=(-o "$f"); done
    "${INSTALL_AS[@]}" make --no-print-directory "${old[@]}" "$target" DESTDIR="$PWD/$dir" "$@" \
        > "$dir.$target.log" 2>&1 || fail "make $target DESTDIR=$dir failed (see $dir.$target.log)"
}

# install_staging DIR: a fresh staging tree made by make install
install_staging() {
    rm -rf "$1"
    install_make install "$1"
}

# install_run_script STAGE OUT: run STAGE's grub.d script as grub-mkconfig
# does (executed, pkgdatadir exported), with the stub library. Output in OUT,
# stderr in OUT.stderr, exit status in SCRIPT_STATUS.
install_run_script() {
    local stage=$1 out=$2 script=$1/etc/grub.d/25_microhypervisor
    install_write_stub_lib
    [ -x "$script" ] || { fail "$script missing or not executable"; return; }
    pkgdatadir="$PWD/$INSTALL_TEST_DIR/stub" STUB_FS_UUID=$INSTALL_TEST_FS_UUID \
        MICROHYPERVISOR_ROOT="$PWD/$stage" "$script" > "$out" 2> "$out.stderr"
    SCRIPT_STATUS=$?
    [ $SCRIPT_STATUS -eq 0 ] || fail "grub.d script exited $SCRIPT_STATUS (see $out.stderr)"
}

# install_entry_lines FILE N WORD: "path args" of each WORD line of entry N
install_entry_lines() {
    awk -v n="$2" -v word="$3" '/^menuentry /{e++} e == n && $1 == word {
        $1 = ""; sub(/^[ \t]+/, ""); print }' "$1"
}

# install_expect_entry FILE N WORD EXPECTED: entry N's WORD lines are
# EXPECTED (lines joined by "; ")
install_expect_entry() {
    local got
    got=$(install_entry_lines "$1" "$2" "$3" | paste -sd';' | sed 's/;/; /g')
    [ "$got" = "$4" ] || fail "entry $2 $3: expected '$4', got '$got'"
}

# install_set_config FILE KEY VALUE: KEY="VALUE" in the config file
install_set_config() {
    local config=$1 key=$2 value=$3
    sed -i "s|^$key=.*|$key=\"$value\"|" "$config"
    grep -q "^$key=\"$value\"\$" "$config" || fail "could not set $key in $config"
}

test_install_grub_script_prints_entries_from_config() {
    local stage=$INSTALL_TEST_DIR/stage-entry out=$INSTALL_TEST_DIR/entry.cfg
    mkdir -p $INSTALL_TEST_DIR
    install_staging $stage
    local hv=$stage/boot/microhypervisor f
    for f in $hv/hv.elf $hv/ctl.elf $hv/guests/hello.elf $stage/etc/default/microhypervisor; do
        [ -f "$f" ] || fail "make install did not install $f"
    done
    cmp -s build/hv.elf $hv/hv.elf || fail "installed hv.elf differs from build/hv.elf"
    install_run_script $stage $out
    LOG=$out.stderr
    expect_line "^Found microhypervisor: /boot/microhypervisor/hv.elf$"
    expect_no_line "Warning"
    LOG=$out
    expect_count "^menuentry " 2
    expect_line "^menuentry 'microhypervisor' .*'microhypervisor-$INSTALL_TEST_FS_UUID' \{$"
    expect_line "^menuentry 'microhypervisor \(serial console\)' "
    expect_count "^	search --no-floppy --fs-uuid --set=root $INSTALL_TEST_FS_UUID$" 2
    install_expect_entry $out 1 multiboot2 "/boot/microhypervisor/hv.elf loglevel=info console=com1,vga ctl_mem=128M"
    install_expect_entry $out 1 module2 "/boot/microhypervisor/ctl.elf demo; /boot/microhypervisor/guests/hello.elf hello"
    install_expect_entry $out 2 serial "--unit=0 --speed=115200"
    install_expect_entry $out 2 terminal_output "serial"
    install_expect_entry $out 2 multiboot2 "/boot/microhypervisor/hv.elf loglevel=info ctl_mem=128M console=com1"
    install_expect_entry $out 2 module2 "/boot/microhypervisor/ctl.elf demo; /boot/microhypervisor/guests/hello.elf hello"
    grub-script-check "$out" > $out.check 2>&1 || fail "grub-script-check rejects the entries (see $out.check)"
}

test_install_grub_entry_follows_config_changes() {
    local stage=$INSTALL_TEST_DIR/stage-config out=$INSTALL_TEST_DIR/config.cfg
    mkdir -p $INSTALL_TEST_DIR
    install_staging $stage
    local config=$stage/etc/default/microhypervisor
    install_set_config $config MICROHYPERVISOR_CMDLINE "loglevel=debug console=vga"
    install_set_config $config MICROHYPERVISOR_CTL_MEM 64M
    install_set_config $config MICROHYPERVISOR_CTL_CMDLINE hvtest
    install_set_config $config MICROHYPERVISOR_MODULES "spin hello vmmcall"
    # Installing again keeps the edited settings.
    install_make install $stage
    grep -q '^MICROHYPERVISOR_CTL_MEM="64M"$' $config || fail "make install overwrote $config"
    install_run_script $stage $out
    LOG=$out
    install_expect_entry $out 1 multiboot2 "/boot/microhypervisor/hv.elf loglevel=debug console=vga ctl_mem=64M"
    install_expect_entry $out 1 module2 "/boot/microhypervisor/ctl.elf hvtest; /boot/microhypervisor/guests/spin.elf spin; /boot/microhypervisor/guests/hello.elf hello; /boot/microhypervisor/guests/vmmcall.elf vmmcall"
    install_expect_entry $out 2 multiboot2 "/boot/microhypervisor/hv.elf loglevel=debug ctl_mem=64M console=com1"
    # No ctl_mem: the hypervisor's default; no modules: the control domain alone.
    install_set_config $config MICROHYPERVISOR_CTL_MEM ""
    install_set_config $config MICROHYPERVISOR_MODULES ""
    install_run_script $stage $out
    install_expect_entry $out 1 multiboot2 "/boot/microhypervisor/hv.elf loglevel=debug console=vga"
    install_expect_entry $out 1 module2 "/boot/microhypervisor/ctl.elf hvtest"
    # Words for every guest module, and a guest's own after them.
    install_set_config $config MICROHYPERVISOR_MODULES "hello spin"
    install_set_config $config MICROHYPERVISOR_GUEST_ARGS "mem=64"
    echo 'MICROHYPERVISOR_GUEST_ARGS_hello="cpus=2 input=a%20b"' >> $config
    install_run_script $stage $out
    install_expect_entry $out 1 module2 "/boot/microhypervisor/ctl.elf hvtest; /boot/microhypervisor/guests/hello.elf hello mem=64 cpus=2 input=a%20b; /boot/microhypervisor/guests/spin.elf spin mem=64"
    install_set_config $config MICROHYPERVISOR_GUEST_ARGS ""
    install_run_script $stage $out
    install_expect_entry $out 1 module2 "/boot/microhypervisor/ctl.elf hvtest; /boot/microhypervisor/guests/hello.elf hello cpus=2 input=a%20b; /boot/microhypervisor/guests/spin.elf spin"
    sed -i '/^MICROHYPERVISOR_GUEST_ARGS_hello=/d' $config
    # A module that is not installed: a warning now, GRUB's error at boot.
    install_set_config $config MICROHYPERVISOR_MODULES "hello nosuchguest"
    install_run_script $stage $out
    install_expect_entry $out 1 module2 "/boot/microhypervisor/ctl.elf hvtest; /boot/microhypervisor/guests/hello.elf hello; /boot/microhypervisor/guests/nosuchguest.elf nosuchguest"
    LOG=$out.stderr
    expect_line "^Warning: microhypervisor guest /boot/microhypervisor/guests/nosuchguest.elf not found"
}

test_install_script_prints_nothing_without_hypervisor() {
    local stage=$INSTALL_TEST_DIR/stage-nohv out=$INSTALL_TEST_DIR/nohv.cfg
    mkdir -p $INSTALL_TEST_DIR
    install_staging $stage
    rm -rf "${stage:?}/boot"
    install_run_script $stage $out
    [ ! -s $out ] || fail "script printed $(wc -l < $out) lines without a hypervisor"
    [ ! -s $out.stderr ] || fail "script said on stderr: $(head -1 $out.stderr)"
}

test_install_uninstall_removes_exactly_what_install_added() {
    local stage=$INSTALL_TEST_DIR/stage-uninstall left
    mkdir -p $INSTALL_TEST_DIR
    # Installed into an empty tree: nothing at all is left.
    install_staging $stage
    install_make uninstall $stage
    left=$(cd $stage && find . -mindepth 1 | tr '\n' ' ')
    [ -z "$left" ] || fail "after install and uninstall into an empty tree: $left"
    # Into a tree with other files, and a guest image added by hand
    # afterwards: all of those stay.
    mkdir -p $stage/etc/grub.d $stage/boot
    echo theirs > $stage/etc/grub.d/40_custom
    echo theirs > $stage/boot/vmlinuz-test
    install_make install $stage
    echo theirs > $stage/boot/microhypervisor/guests/mine.elf
    install_make uninstall $stage
    left=$(cd $stage && find . -mindepth 1 | sort | tr '\n' ' ')
    [ "$left" = "./boot ./boot/microhypervisor ./boot/microhypervisor/guests \
./boot/microhypervisor/guests/mine.elf ./boot/vmlinuz-test ./etc ./etc/grub.d \
./etc/grub.d/40_custom " ] || fail "after uninstall the tree holds: $left"
}

test_install_into_destdir_needs_no_root() {
    local stage=$INSTALL_TEST_DIR/stage-user
    mkdir -p $INSTALL_TEST_DIR
    rm -rf $stage && mkdir -p $stage
    if [ "$(id -u)" -eq 0 ]; then
        # As root: install and uninstall as nobody, who can write nowhere
        # but the staging tree.
        chown 65534:65534 $stage
        INSTALL_AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    fi
    install_make install $stage
    [ -x $stage/etc/grub.d/25_microhypervisor ] && [ -f $stage/boot/microhypervisor/hv.elf ] \
        || fail "make install as $("${INSTALL_AS[@]}" id -un) did not install (see $stage.install.log)"
    install_make uninstall $stage
    INSTALL_AS=()
    [ -z "$(ls -A $stage)" ] || fail "uninstall as an unprivileged user left: $(ls -A $stage)"
}

test_install_prefix_selects_grub_config_dir() {
    # GRUB installed under /usr/local reads /usr/local/etc/grub.d; /boot stays.
    local stage=$INSTALL_TEST_DIR/stage-prefix
    mkdir -p $INSTALL_TEST_DIR
    rm -rf $stage
    install_make install $stage PREFIX=/usr/local
    local script=$stage/usr/local/etc/grub.d/25_microhypervisor
    [ -x $script ] || fail "no $script"
    [ -f $stage/usr/local/etc/default/microhypervisor ] || fail "no config under /usr/local/etc"
    [ -f $stage/boot/microhypervisor/hv.elf ] || fail "no hv.elf under /boot/microhypervisor"
    grep -q '^prefix="/usr/local"$' $script || fail "script prefix is not /usr/local"
    grep -q '^sysconfdir="/usr/local/etc"$' $script || fail "script sysconfdir is not /usr/local/etc"
    install_make uninstall $stage PREFIX=/usr/local
    [ -z "$(ls -A $stage)" ] || fail "uninstall PREFIX=/usr/local left: $(ls -A $stage)"
}

# ---- disk images -----------------------------------------------------------

# disk_put_le64 FILE OFFSET VALUE: store VALUE little-endian at OFFSET
disk_put_le64() {
    local bytes="" i
    for ((i = 0; i < 8; i++)); do
        bytes+=$(printf '\\x%02x' $((($3 >> (8 * i)) & 0xff)))
    done
    printf "$bytes" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# disk_make_grub_images: core.img (i386-pc) and BOOTX64.EFI with the modules
# the entries use built in, and an early config that finds the ESP by UUID
# and reads /boot/grub/grub.cfg from it.
disk_make_grub_images() {
    local dir=$INSTALL_TEST_DIR/grub
    mkdir -p $dir
    cat > $dir/early.cfg <<CFG
search --no-floppy --fs-uuid --set=root $INSTALL_TEST_FS_UUID
set prefix=(\$root)/boot/grub
CFG
    local common="part_gpt fat search search_fs_uuid normal configfile echo test
        multiboot2 serial terminal all_video"
    grub-mkimage -O i386-pc -o $dir/core.img -p /boot/grub -c $dir/early.cfg \
        biosdisk $common > $dir/mkimage.log 2>&1 &&
    grub-mkimage -O x86_64-efi -o $dir/BOOTX64.EFI -p /boot/grub -c $dir/early.cfg \
        $common >> $dir/mkimage.log 2>&1 ||
        { fail "grub-mkimage failed (see $dir/mkimage.log)"; return 1; }
}

# disk_write_bios_boot IMAGE: GRUB for BIOS, as grub-bios-setup would put it
# (it cannot work on a plain file here: it probes the host's disks). boot.img
# goes to the MBR's first 440 bytes (the partition table stays), core.img to
# the BIOS boot partition. Patched fields (grub/i386/pc/boot.h and the
# diskboot.img blocklist at the end of core.img's first sector):
#   boot.img 0x5c  kernel_sector: LBA of core.img's first sector
#   boot.img 0x66  boot_drive_check jump -> two NOPs (trust DL on a disk)
#   core.img 0x1f4 blocklist start: LBA of the rest of core.img (its length,
#                  at 0x1fc, grub-mkimage already set)
disk_write_bios_boot() {
    local img=$1 dir=$INSTALL_TEST_DIR/grub
    local sectors=$((($(stat -c %s $dir/core.img) + 511) / 512))
    [ $sectors -le $DISK_BIOS_BOOT_SECTORS ] || { fail "core.img too big: $sectors sectors"; return 1; }
    cp /usr/lib/grub/i386-pc/boot.img $dir/boot.img
    cp $dir/core.img $dir/core-patched.img
    disk_put_le64 $dir/boot.img $((0x5c)) $DISK_BIOS_BOOT_START
    printf '\x90\x90' | dd of=$dir/boot.img bs=1 seek=$((0x66)) conv=notrunc status=none
    disk_put_le64 $dir/core-patched.img $((0x1f4)) $((DISK_BIOS_BOOT_START + 1))
    dd if=$dir/boot.img of="$img" bs=440 count=1 conv=notrunc status=none
    dd if=$dir/core-patched.img of="$img" bs=512 seek=$DISK_BIOS_BOOT_START conv=notrunc status=none
}

# disk_build NAME STAGE DEFAULT_ENTRY: $INSTALL_TEST_DIR/NAME.img, a GPT disk
# with a BIOS boot partition and an ESP that holds GRUB for UEFI, the files
# of STAGE's /boot/microhypervisor and a grub.cfg from STAGE's grub.d script
# (the header 00_header writes for a serial terminal, then the entries).
disk_build() {
    local name=$1 stage=$2 default=$3
    local img=$INSTALL_TEST_DIR/$name.img cfg=$INSTALL_TEST_DIR/$name.grub.cfg
    local esp=$((DISK_ESP_START * 512)) esp_sectors
    disk_make_grub_images || return 1
    install_run_script $stage $cfg.entries
    {
        cat <<HEADER
# From tests/system/install_tests.sh: 00_header's lines for a serial
# terminal, then the entries of /etc/grub.d/25_microhypervisor.
if [ x"\${feature_menuentry_id}" = xy ]; then
  menuentry_id_option="--id"
else
  menuentry_id_option=""
fi
export menuentry_id_option
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
set default=$default
HEADER
        cat $cfg.entries
    } > $cfg
    grub-script-check $cfg > $cfg.check 2>&1 || fail "grub-script-check rejects $cfg"

    rm -f $img
    truncate -s ${DISK_SIZE_MIB}M $img
    sfdisk -q --no-reread --no-tell-kernel $img > $img.sfdisk.log 2>&1 <<GPT || { fail "sfdisk failed"; return 1; }
label: gpt
start=$DISK_BIOS_BOOT_START, size=$DISK_BIOS_BOOT_SECTORS, type=21686148-6449-6E6F-744E-656564454649, name="BIOS boot"
start=$DISK_ESP_START, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system"
GPT
    esp_sectors=$(sfdisk -d $img | awk -v s=$DISK_ESP_START '$4 == s"," {sub(",", "", $6); print $6}')
    [ -n "$esp_sectors" ] || { fail "no ESP in the partition table of $img"; return 1; }
    disk_write_bios_boot $img || return 1

    local m=(-i "$img@@$esp")
    local -x MTOOLS_SKIP_CHECK=1
    mformat "${m[@]}" -F -T $esp_sectors -H $DISK_ESP_START -h 64 -s 32 \
        -N ${INSTALL_TEST_FS_UUID/-/} -v HVBOOT :: &&
    mmd "${m[@]}" ::/EFI ::/EFI/BOOT ::/boot ::/boot/grub &&
    mcopy "${m[@]}" $INSTALL_TEST_DIR/grub/BOOTX64.EFI ::/EFI/BOOT/BOOTX64.EFI &&
    mcopy "${m[@]}" $cfg ::/boot/grub/grub.cfg &&
    mcopy "${m[@]}" -s $stage/boot/microhypervisor ::/boot/ ||
        fail "could not fill the ESP of $img"
}

# disk_boot NAME FIRMWARE TIMEOUT STOP: boot $INSTALL_TEST_DIR/NAME.img with
# SeaBIOS (bios) or OVMF (uefi); the serial log is $SYSTEST_DIR/NAME.log.
disk_boot() {
    local name=$1 firmware=$2 timeout=$3 stop=$4 bios=()
    [ "$firmware" = uefi ] && bios=(-bios /usr/share/ovmf/OVMF.fd)
    echo "    booting $name.img ($firmware, at most ${timeout}s)"
    boot "$name" "$timeout" "$stop" "${QEMU_BASE[@]}" -machine q35 -cpu EPYC,+svm,+npt \
        -smp 2 -m 1G "${bios[@]}" -drive file=$INSTALL_TEST_DIR/$name.img,format=raw \
        -serial file:$SYSTEST_DIR/$name.log
    echo "    $name: ${ELAPSED}s to the end of the run"
}

# disk_expect_demo_run CTL_MIB: every CPU virtualized, the demo done
disk_expect_demo_run() {
    expect_no_line "error: "
    expect_cpus_virtualized svm 2
    expect_line "ctl: control domain \"demo\": $1 MiB"
    expect_line "guest hello exited with status 16"
    expect_line "tool demo finished with status 0"
    expect_clean_run
}

test_disk_bios_gpt_boots_hypervisor_and_demo() {
    local stage=$INSTALL_TEST_DIR/stage-disk-bios
    mkdir -p $INSTALL_TEST_DIR
    install_staging $stage
    install_set_config $stage/etc/default/microhypervisor MICROHYPERVISOR_CTL_MEM 96M
    # Entry 0: the plain entry (console=com1,vga).
    disk_build disk-bios $stage 0 || return
    disk_boot disk-bios bios 60 "$END_OF_BOOT"
    expect_line "Booting .microhypervisor'"
    expect_line "hv: command line \"loglevel=info console=com1,vga ctl_mem=96M\""
    disk_expect_demo_run 96
}

test_disk_uefi_gpt_boots_hypervisor_and_demo() {
    local stage=$INSTALL_TEST_DIR/stage-disk-uefi
    mkdir -p $INSTALL_TEST_DIR
    install_staging $stage
    # Entry 1: the serial-console entry.
    disk_build disk-uefi $stage 1 || return
    disk_boot disk-uefi uefi 90 "$END_OF_BOOT"
    expect_line "Booting .microhypervisor \(serial console\)'"
    expect_line "hv: command line \"loglevel=info ctl_mem=128M console=com1\""
    disk_expect_demo_run 128
}

test_disk_missing_module_gives_grub_file_not_found() {
    local stage=$INSTALL_TEST_DIR/stage-disk-missing
    mkdir -p $INSTALL_TEST_DIR
    install_staging $stage
    install_set_config $stage/etc/default/microhypervisor MICROHYPERVISOR_MODULES "hello nosuchguest"
    disk_build disk-missing $stage 1 || return
    # GRUB names the file, waits 10 s at "Press any key to continue..." and
    # boots without it: the box still comes up, with the guests it has.
    disk_boot disk-missing bios 60 "$END_OF_BOOT"
    expect_line "error: file .?/boot/microhypervisor/guests/nosuchguest\.elf.? not found\."
    expect_line "ctl: control domain \"demo\": 128 MiB at .*, 1 modules"
    expect_line "tool demo finished with status 0"
}

test_disk_corrupt_control_domain_gives_clear_message() {
    local stage=$INSTALL_TEST_DIR/stage-disk-corrupt
    mkdir -p $INSTALL_TEST_DIR
    install_staging $stage
    yes "not an ELF image" | head -c 65536 > $stage/boot/microhypervisor/ctl.elf
    disk_build disk-corrupt $stage 1 || return
    disk_boot disk-corrupt bios 60 "$END_OF_BOOT"
    expect_line "ctl: the first module is not a usable x86-64 ELF executable"
    expect_line "hv: halted\."
}
