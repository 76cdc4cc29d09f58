/*
 * GET_MSRS and SET_MSRS (abi/README.md section 7) by their effect: every
 * virtualised MSR round-trips, the guest's own RDMSR and RDTSC read what
 * SET_MSRS set, GET_MSRS reads what the guest's WRMSR wrote, GET_SREGS and
 * GET_MSRS agree on EFER and the FS/GS bases. What the calls refuse is in
 * hvtest_msrs_refused.c.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define EFER_SCE (1ull << 0)
#define EFER_NXE (1ull << 11)
#define POISON 0xa5a5a5a5a5a5a5a5ull
#define BIG_TSC (1ull << 60)
#define TSC_SLACK (1ull << 44)     /* far more cycles than a test takes */

/* A value for each virtualised MSR but the TSC: distinct, canonical where
 * it must be, valid memory types for PAT. */
static const struct msr_value {
    uint32_t index;
    const char *name;
    uint64_t value;
} msr_values[] = {
    { HV_MSR_EFER, "EFER", EFER_SCE | EFER_NXE },
    { HV_MSR_STAR, "STAR", 0x001b000800000000ull },
    { HV_MSR_LSTAR, "LSTAR", 0xffff800000401000ull },
    { HV_MSR_CSTAR, "CSTAR", 0xffff800000402000ull },
    { HV_MSR_SFMASK, "SFMASK", 0x47700 },
    { HV_MSR_KERNEL_GS_BASE, "KERNEL_GS_BASE", 0xffff888012345000ull },
    { HV_MSR_SYSENTER_CS, "SYSENTER_CS", 0x10 },
    { HV_MSR_SYSENTER_ESP, "SYSENTER_ESP", 0xffff800000403000ull },
    { HV_MSR_SYSENTER_EIP, "SYSENTER_EIP", 0xffff800000404000ull },
    { HV_MSR_PAT, "PAT", 0x0007010600070106ull },
    { HV_MSR_TSC_AUX, "TSC_AUX", 0x2a },
    { HV_MSR_FS_BASE, "FS_BASE", 0x00007fff12345000ull },
    { HV_MSR_GS_BASE, "GS_BASE", 0xffff800000405000ull },
};
#define MSR_VALUES (sizeof(msr_values) / sizeof(msr_values[0]))

struct hvt_msr_list *hvt_msr_list(void)
{
    struct hvt_msr_list *list = page_alloc(sizeof(*list));

    list->header.count = 0;
    return list;
}

void hvt_msr_add(struct hvt_msr_list *list, uint32_t index, uint64_t data)
{
    struct hv_msr_entry *e = &list->entries[list->header.count++];

    e->index = index;
    e->reserved = 0;
    e->data = data;
}

/* Every msr_values entry, with its value or POISON. */
static struct hvt_msr_list *all_values(int poisoned)
{
    struct hvt_msr_list *list = hvt_msr_list();

    for (unsigned i = 0; i < MSR_VALUES; i++)
        hvt_msr_add(list, msr_values[i].index, poisoned ? POISON : msr_values[i].value);
    return list;
}

int hvt_get_msr(long vcpu, uint32_t index, uint64_t *value, const char *what)
{
    struct hvt_msr_list *list = hvt_msr_list();

    hvt_msr_add(list, index, POISON);
    if (!hvt_err(hv_get_msrs(vcpu, &list->header), 1, what))
        return 0;
    *value = list->entries[0].data;
    return 1;
}

/* GET_MSRS of every msr_values entry gives its value. */
static int all_read_back(long vcpu, const char *when)
{
    struct hvt_msr_list *got = all_values(1);
    char what[96];

    snprintf(what, sizeof(what), "GET_MSRS of %u MSRs %s", (unsigned)MSR_VALUES, when);
    if (!hvt_err(hv_get_msrs(vcpu, &got->header), MSR_VALUES, what))
        return 0;
    for (unsigned i = 0; i < MSR_VALUES; i++) {
        snprintf(what, sizeof(what), "%s %s", msr_values[i].name, when);
        if (!hvt_eq(got->entries[i].data, msr_values[i].value, what))
            return 0;
    }
    return 1;
}

static int tsc_near(uint64_t tsc, uint64_t set, const char *what)
{
    char message[96];

    snprintf(message, sizeof(message), "%s: expected 0x%lx or a little more, got 0x%lx",
             what, set, tsc);
    return hvt_true(tsc >= set && tsc - set < TSC_SLACK, message);
}

/* A VM with vcpu 0 and no memory (state calls need none). */
static long new_vcpu(void)
{
    long vm = hvt_keep(hv_create_vm(hvt_sys()));

    if (!hvt_ok(vm, "CREATE_VM"))
        return -1;
    return hvt_keep(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
}

static void set_msrs_get_msrs_round_trip(void)
{
    struct hvt_msr_list *tsc = hvt_msr_list();
    struct hv_sregs *sregs = page_alloc(sizeof(*sregs));
    uint64_t value;
    long vcpu = new_vcpu();

    if (!hvt_ok(vcpu, "CREATE_VCPU") ||
        !hvt_err(hv_set_msrs(vcpu, &all_values(0)->header), MSR_VALUES, "SET_MSRS") ||
        !all_read_back(vcpu, "after SET_MSRS"))
        return;
    hvt_msr_add(tsc, HV_MSR_TSC, BIG_TSC);
    if (!hvt_err(hv_set_msrs(vcpu, &tsc->header), 1, "SET_MSRS of the TSC") ||
        !hvt_get_msr(vcpu, HV_MSR_TSC, &value, "GET_MSRS of the TSC") ||
        !tsc_near(value, BIG_TSC, "TSC after SET_MSRS"))
        return;
    /* The same state through GET_SREGS, and back. */
    if (!hvt_err(hv_get_sregs(vcpu, sregs), 0, "GET_SREGS") ||
        !hvt_eq(sregs->efer, EFER_SCE | EFER_NXE, "GET_SREGS efer after SET_MSRS") ||
        !hvt_eq(sregs->fs.base, 0x00007fff12345000ull, "GET_SREGS fs.base after SET_MSRS") ||
        !hvt_eq(sregs->gs.base, 0xffff800000405000ull, "GET_SREGS gs.base after SET_MSRS"))
        return;
    sregs->fs.base = 0x5000;
    if (hvt_err(hv_set_sregs(vcpu, sregs), 0, "SET_SREGS with a new fs.base") &&
        hvt_get_msr(vcpu, HV_MSR_FS_BASE, &value, "GET_MSRS of FS_BASE"))
        hvt_eq(value, 0x5000, "FS_BASE after SET_SREGS");
}

/* 32-bit guest code for MSR access (SDM vol. 2 encodings). */
static uint32_t mov_ecx(struct hvt_code *code, uint32_t value)
{
    uint8_t insn[5] = { 0xb9 };

    memcpy(insn + 1, &value, 4);
    return hvt_bytes(code, insn, 5);
}

static uint32_t mov_edx(struct hvt_code *code, uint32_t value)
{
    uint8_t insn[5] = { 0xba };

    memcpy(insn + 1, &value, 4);
    return hvt_bytes(code, insn, 5);
}

/* mov [address], eax; mov [address + 4], edx */
static void store_edx_eax(struct hvt_code *code, uint32_t address)
{
    uint8_t insn[6] = { 0x89, 0x15 };
    uint32_t high = address + 4;

    hvt_store_eax(code, address);
    memcpy(insn + 2, &high, 4);
    hvt_bytes(code, insn, 6);
}

static uint32_t two_bytes(struct hvt_code *code, uint8_t a, uint8_t b)
{
    uint8_t insn[2] = { a, b };

    return hvt_bytes(code, insn, 2);
}

#define RDTSC(code) two_bytes(code, 0x0f, 0x31)
#define RDMSR(code) two_bytes(code, 0x0f, 0x32)
#define WRMSR(code) two_bytes(code, 0x0f, 0x30)

/* The guest stopped at HLT; a #GP on an MSR access would have shut it down
 * (IDT limit 0): then name the instruction by its address. */
static int guest_halted(struct vm_instance *vm, const uint32_t *insns, const char *what)
{
    char message[128];

    if (!hvt_run_past_slices(vm))
        return 0;
    if (vm->run->exit_reason == HV_EXIT_SHUTDOWN) {
        for (unsigned i = 0; i < MSR_VALUES; i++) {
            if (insns[i] == vm->run->exit_rip) {
                snprintf(message, sizeof(message), "%s: the guest faulted on %s",
                         what, msr_values[i].name);
                return hvt_true(0, message);
            }
        }
    }
    return hvt_exit_is(vm, HV_EXIT_HLT, what);
}

static void guest_rdmsr_reads_set_msrs_values(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    struct hvt_msr_list *tsc = hvt_msr_list();
    uint32_t rdmsr_at[MSR_VALUES], tsc_slot = HVT_DATA_GPA + 16 * MSR_VALUES;
    uint64_t read;
    char what[64];

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    for (unsigned i = 0; i < MSR_VALUES; i++) {
        mov_ecx(&code, msr_values[i].index);
        rdmsr_at[i] = RDMSR(&code);
        store_edx_eax(&code, HVT_DATA_GPA + 16 * i);
    }
    RDTSC(&code);
    store_edx_eax(&code, tsc_slot);
    hvt_hlt(&code);
    hvt_msr_add(tsc, HV_MSR_TSC, BIG_TSC);
    if (!hvt_err(hv_set_msrs(vm.vcpu, &all_values(0)->header), MSR_VALUES, "SET_MSRS") ||
        !hvt_err(hv_set_msrs(vm.vcpu, &tsc->header), 1, "SET_MSRS of the TSC") ||
        !guest_halted(&vm, rdmsr_at, "guest reading every MSR"))
        return;
    for (unsigned i = 0; i < MSR_VALUES; i++) {
        memcpy(&read, vm.ram + HVT_DATA_GPA + 16 * i, 8);
        snprintf(what, sizeof(what), "guest RDMSR of %s", msr_values[i].name);
        if (!hvt_eq(read, msr_values[i].value, what))
            return;
    }
    memcpy(&read, vm.ram + tsc_slot, 8);
    tsc_near(read, BIG_TSC, "guest RDTSC after SET_MSRS of the TSC");
}

static void get_msrs_reads_guest_wrmsr(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t wrmsr_at[MSR_VALUES];
    uint64_t tsc;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    for (unsigned i = 0; i < MSR_VALUES; i++) {
        mov_ecx(&code, msr_values[i].index);
        hvt_mov_eax_imm(&code, (uint32_t)msr_values[i].value);
        mov_edx(&code, (uint32_t)(msr_values[i].value >> 32));
        wrmsr_at[i] = WRMSR(&code);
    }
    mov_ecx(&code, HV_MSR_TSC);
    hvt_mov_eax_imm(&code, 0);
    mov_edx(&code, (uint32_t)(BIG_TSC >> 32));
    WRMSR(&code);
    hvt_hlt(&code);
    if (!guest_halted(&vm, wrmsr_at, "guest writing every MSR") ||
        !all_read_back(vm.vcpu, "after the guest's WRMSR") ||
        !hvt_get_msr(vm.vcpu, HV_MSR_TSC, &tsc, "GET_MSRS of the TSC"))
        return;
    tsc_near(tsc, BIG_TSC, "TSC after the guest's WRMSR");
}

/* A guest writes `msr` (EDX:EAX = high:0) and reads it back: it must read
 * 0, with neither access raising #GP. */
static void guest_msr_takes_write_reads_zero(uint32_t msr, uint32_t high, const char *name)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t access_at[MSR_VALUES] = { 0 };
    uint64_t read;
    char what[80];

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    mov_ecx(&code, msr);
    hvt_mov_eax_imm(&code, 0);
    mov_edx(&code, high);
    access_at[0] = WRMSR(&code);
    hvt_mov_eax_imm(&code, 0xdead);
    mov_edx(&code, 0xbeef);
    access_at[1] = RDMSR(&code);
    store_edx_eax(&code, HVT_DATA_GPA);
    hvt_hlt(&code);
    if (!hvt_run_past_slices(&vm))
        return;
    if (vm.run->exit_reason == HV_EXIT_SHUTDOWN) {
        snprintf(what, sizeof(what), "the guest faulted %s %s",
                 vm.run->exit_rip == access_at[0] ? "on WRMSR of" : "reading", name);
        hvt_true(0, what);
        return;
    }
    snprintf(what, sizeof(what), "guest writing and reading %s", name);
    if (!hvt_exit_is(&vm, HV_EXIT_HLT, what))
        return;
    memcpy(&read, vm.ram + HVT_DATA_GPA, 8);
    snprintf(what, sizeof(what), "guest RDMSR of %s after writing it", name);
    hvt_eq(read, 0, what);
}

/* AMD's NB_CFG (0xc001001f), which Linux's PCI code reads and sets
 * EnableCf8ExtCfg in on every AMD CPU it brings up, unchecked: it reads 0
 * and takes any write, as KVM answers it, rather than raising #GP. */
static void guest_nb_cfg_reads_zero_and_takes_writes(void)
{
    guest_msr_takes_write_reads_zero(0xc001001f, 1u << 14 /* bit 46: EnableCf8ExtCfg */,
                                     "NB_CFG");
}

/* Intel's IA32_BIOS_SIGN_ID (0x8b): Linux writes 0 to it on every Intel
 * CPU, unchecked, and reads the microcode revision back after a CPUID.
 * A vcpu has no microcode update: the write is taken, the revision is 0. */
static void guest_bios_sign_id_reads_zero_and_takes_writes(void)
{
    guest_msr_takes_write_reads_zero(0x8b, 0, "IA32_BIOS_SIGN_ID");
}

/* AMD's HWCR (0xc0010015), which Linux reads unchecked on every AMD CPU
 * of family 10h or later: it reads TscFreqSel (bit 24, the TSC counts at
 * the P0 frequency) and nothing else, takes a write of that same value,
 * and a write that would change it raises #GP: it is a constant. */
static void guest_hwcr_reads_tsc_freq_sel(void)
{
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t change_at;
    uint64_t read;

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    mov_ecx(&code, 0xc0010015);
    hvt_mov_eax_imm(&code, 0xdead);
    mov_edx(&code, 0xbeef);
    RDMSR(&code);
    store_edx_eax(&code, HVT_DATA_GPA);
    WRMSR(&code);               /* the value just read back */
    hvt_mov_eax_imm(&code, 0);
    change_at = WRMSR(&code);   /* TscFreqSel cleared: #GP, no IDT, shutdown */
    hvt_hlt(&code);
    if (!hvt_run_past_slices(&vm))
        return;
    memcpy(&read, vm.ram + HVT_DATA_GPA, 8);
    hvt_eq(read, 1ull << 24, "guest RDMSR of HWCR");
    if (hvt_exit_is(&vm, HV_EXIT_SHUTDOWN, "guest clearing HWCR's TscFreqSel"))
        hvt_eq(vm.run->exit_rip, change_at, "RIP of the guest's shutdown (its WRMSR clearing TscFreqSel)");
}

/* IA32_TSC_ADJUST (0x3b) is every vcpu's, kept in software, and the
 * supported CPUID shows it (CPUID.7.EBX[1]) on every host, as KVM's does:
 * the guest's WRMSR to it moves its TSC by the change and reads back, and
 * GET_MSRS reads the guest's value (SDM 3B 17.17.3). */
static void guest_tsc_adjust_moves_the_tsc(void)
{
    struct hv_cpuid *supported = hvt_supported_cpuid();
    struct hv_cpuid_entry *leaf7;
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t access_at[MSR_VALUES] = { 0 };
    uint64_t before, after, read, value;
    const uint64_t step = 1ull << 40;

    if (!supported)
        return;
    leaf7 = hvt_cpuid_find(supported, 7, 0);
    if (!hvt_true(leaf7 && (leaf7->ebx & (1u << 1)), "the supported CPUID shows TSC_ADJUST"))
        return;
    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, HVT_CODE_GPA) < 0)
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    RDTSC(&code);
    store_edx_eax(&code, HVT_DATA_GPA);
    mov_ecx(&code, 0x3b);
    hvt_mov_eax_imm(&code, 0);
    mov_edx(&code, (uint32_t)(step >> 32));
    access_at[0] = WRMSR(&code);
    RDTSC(&code);
    store_edx_eax(&code, HVT_DATA_GPA + 8);
    access_at[1] = RDMSR(&code);
    store_edx_eax(&code, HVT_DATA_GPA + 16);
    hvt_hlt(&code);
    if (!hvt_run_past_slices(&vm))
        return;
    if (vm.run->exit_reason == HV_EXIT_SHUTDOWN) {
        hvt_true(0, vm.run->exit_rip == access_at[0] ? "the guest faulted on WRMSR of TSC_ADJUST"
                                                     : "the guest faulted reading TSC_ADJUST");
        return;
    }
    if (!hvt_exit_is(&vm, HV_EXIT_HLT, "guest moving its TSC by TSC_ADJUST"))
        return;
    memcpy(&before, vm.ram + HVT_DATA_GPA, 8);
    memcpy(&after, vm.ram + HVT_DATA_GPA + 8, 8);
    memcpy(&read, vm.ram + HVT_DATA_GPA + 16, 8);
    tsc_near(after - before, step, "the guest's TSC across its WRMSR of TSC_ADJUST");
    hvt_eq(read, step, "guest RDMSR of TSC_ADJUST after writing it");
    if (hvt_get_msr(vm.vcpu, 0x3b, &value, "GET_MSRS of TSC_ADJUST"))
        hvt_eq(value, step, "GET_MSRS of TSC_ADJUST after the guest's WRMSR");
}

const struct hvtest_case hvtest_msrs_cases[] = {
    { "guest_nb_cfg_reads_zero_and_takes_writes", guest_nb_cfg_reads_zero_and_takes_writes },
    { "guest_hwcr_reads_tsc_freq_sel", guest_hwcr_reads_tsc_freq_sel },
    { "guest_bios_sign_id_reads_zero_and_takes_writes",
      guest_bios_sign_id_reads_zero_and_takes_writes },
    { "guest_tsc_adjust_moves_the_tsc", guest_tsc_adjust_moves_the_tsc },
    { "set_msrs_get_msrs_round_trip", set_msrs_get_msrs_round_trip },
    { "guest_rdmsr_reads_set_msrs_values", guest_rdmsr_reads_set_msrs_values },
    { "get_msrs_reads_guest_wrmsr", get_msrs_reads_guest_wrmsr },
    { NULL, NULL },
};
