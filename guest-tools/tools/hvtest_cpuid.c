/*
 * Guest CPUID as a child sees it (abi/README.md: GET_SUPPORTED_CPUID,
 * GET_CPUID, SET_CPUID): by default no MONITOR, VMX, SVM, OSXSAVE from its
 * own CR4, its slot as APIC ID; after SET_CPUID the VMM's values. The
 * calls' errors are in hvtest_cpuid_calls.c. Every check holds on either
 * backend and any host CPU, so that the PASS lines of QEMU/SVM and
 * Bochs/VMX match.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/page_alloc.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define LEAF1_ECX_MONITOR   (1u << 3)
#define LEAF1_ECX_VMX       (1u << 5)
#define LEAF1_ECX_X2APIC    (1u << 21)
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_ECX_XSAVE     (1u << 26)
#define LEAF1_ECX_OSXSAVE   (1u << 27)
#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define EXT1_ECX_SVM        (1u << 2)
#define CR4_OSXSAVE         (1ull << 18)
#define CR4_PKE             (1ull << 22)
#define LEAF7_ECX_PKU       (1u << 3)
#define LEAF7_ECX_OSPKE     (1u << 4)
#define SECOND_SLOT         3        /* a vcpu slot other than 0 */
#define TEST_APIC_ID        0x2a

enum { EAX, EBX, ECX, EDX };

/* ---- CPUID lists, shared with hvtest_cpuid_calls.c ------------------ */

struct hv_cpuid *hvt_cpuid_buffer(void)
{
    return page_alloc(HVT_CPUID_BUFFER_BYTES);
}

struct hv_cpuid *hvt_supported_cpuid(void)
{
    struct hv_cpuid *cpuid = hvt_cpuid_buffer();
    cpuid->count = HV_MAX_CPUID_ENTRIES;
    if (!hvt_err(hv_get_supported_cpuid(hvt_sys(), cpuid), 0, "GET_SUPPORTED_CPUID"))
        return NULL;
    return cpuid;
}

struct hv_cpuid_entry *hvt_cpuid_find(struct hv_cpuid *cpuid, uint32_t function,
                                      uint32_t index)
{
    for (uint32_t i = 0; i < cpuid->count; i++) {
        struct hv_cpuid_entry *e = &cpuid->entries[i];
        if (e->function == function &&
            (!(e->flags & HV_CPUID_FLAG_SIGNIFICANT_INDEX) || e->index == index))
            return e;
    }
    return NULL;
}

/* ---- a child's own view -------------------------------------------- */

/* RUN until an exit other than the end of a time slice. */
static int run_to_exit(struct vm_instance *vm)
{
    for (unsigned slices = 0; slices < 1000; slices++) {
        if (!hvt_run(vm))
            return 0;
        if (vm->run->exit_reason != HV_EXIT_INTR)
            return 1;
    }
    return hvt_true(0, "the guest ran 1000 time slices without an exit");
}

/* Has the vcpu (in hvt_guest_flat32 state) execute CPUID(leaf, subleaf)
 * at HVT_CODE_GPA and OUT the four registers to HVT_PORT_VALUE, then HLT;
 * returns them in regs. Only RIP is reset: the sregs stay as the test set
 * them. */
static int guest_cpuid(struct vm_instance *vm, uint32_t leaf, uint32_t subleaf,
                       uint32_t regs[4])
{
    static const uint8_t mov_ecx[] = { 0xb9 }, cpuid[] = { 0x0f, 0xa2 },
                         from[3][2] = { { 0x89, 0xd8 }, { 0x89, 0xc8 }, { 0x89, 0xd0 } };
    struct hvt_code code;
    struct hv_regs r;

    hvt_code_start(&code, vm, HVT_CODE_GPA);
    hvt_mov_eax_imm(&code, leaf);
    hvt_bytes(&code, mov_ecx, 1);
    hvt_bytes(&code, (const uint8_t *)&subleaf, 4);
    hvt_bytes(&code, cpuid, 2);
    hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    for (unsigned i = 0; i < 3; i++) {
        hvt_bytes(&code, from[i], 2); /* mov eax, ebx / ecx / edx */
        hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    }
    hvt_hlt(&code);
    if (!hvt_ok(hv_get_regs(vm->vcpu, &r), "GET_REGS"))
        return 0;
    r.rip = HVT_CODE_GPA;
    if (!hvt_ok(hv_set_regs(vm->vcpu, &r), "SET_REGS"))
        return 0;
    for (unsigned i = 0; i < 4; i++) {
        const struct hv_run *run = vm->run;
        if (!run_to_exit(vm) || !hvt_exit_is(vm, HV_EXIT_IO, "the guest's OUT of a CPUID register"))
            return 0;
        if (run->io.port != HVT_PORT_VALUE || run->io.size != 4)
            return hvt_true(0, "the guest's OUT went to another port or size");
        memcpy(&regs[i], (const uint8_t *)run + run->io.data_offset, 4);
    }
    return run_to_exit(vm) && hvt_exit_is(vm, HV_EXIT_HLT, "after the CPUID probe");
}

/* A test VM whose vcpu 0 is in flat 32-bit state. */
static int cpuid_guest(struct vm_instance *vm)
{
    return hvt_guest_create(vm, "hvtest") == 0 && hvt_guest_flat32(vm, HVT_CODE_GPA) == 0;
}

/* Neither the supported table nor a default guest shows MONITOR, VMX or
 * SVM; the hypervisor bit is set. The local APIC (x2APIC, TSC-deadline) is
 * in the supported table but only a VM with HV_VM_LAPIC shows it. */
static void cpuid_hides_monitor_vmx_svm(void)
{
    struct hv_cpuid *cpuid = hvt_supported_cpuid();
    struct vm_instance vm;
    uint32_t leaf1[4], ext1[4];
    if (!cpuid)
        return;
    struct hv_cpuid_entry *s1 = hvt_cpuid_find(cpuid, 1, 0), *sx = hvt_cpuid_find(cpuid, 0x80000001, 0);
    if (!hvt_true(s1 != NULL, "the supported CPUID has leaf 1") ||
        !hvt_eq(s1->ecx & (LEAF1_ECX_MONITOR | LEAF1_ECX_VMX), 0,
                "supported leaf 1 ECX MONITOR/VMX") ||
        !hvt_eq(s1->ecx & LEAF1_ECX_X2APIC, LEAF1_ECX_X2APIC, "supported leaf 1 ECX x2APIC") ||
        !hvt_eq(sx ? sx->ecx & EXT1_ECX_SVM : 0, 0, "supported 0x80000001 ECX SVM") ||
        !cpuid_guest(&vm) || !guest_cpuid(&vm, 1, 0, leaf1) ||
        !guest_cpuid(&vm, 0x80000001, 0, ext1))
        return;
    if (hvt_eq(leaf1[ECX] & (LEAF1_ECX_MONITOR | LEAF1_ECX_VMX | LEAF1_ECX_X2APIC), 0,
               "guest leaf 1 ECX MONITOR/VMX/x2APIC") &&
        hvt_eq(leaf1[ECX] & LEAF1_ECX_HYPERVISOR, LEAF1_ECX_HYPERVISOR,
               "guest leaf 1 ECX hypervisor bit") &&
        hvt_eq(ext1[ECX] & EXT1_ECX_SVM, 0, "guest 0x80000001 ECX SVM"))
        hvt_eq(leaf1[ECX], s1->ecx & ~(LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE),
               "guest leaf 1 ECX (CR4.OSXSAVE clear, no APIC) vs supported");
    /* A LAPIC VM's HLT sleeps in the hypervisor: this guest ends in a loop. */
    struct vm_instance pc;
    if (!hvt_ok(vmm_create_with(&pc, hvt_sys(), "cpuid_lapic", HVT_GUEST_RAM_MIB, 1, HV_VM_LAPIC),
                "vmm_create_with HV_VM_LAPIC"))
        return;
    hvt_keep(pc.vcpu);
    hvt_keep(pc.vm);
    static const uint8_t probe[] = { 0xb8, 1, 0, 0, 0, 0x31, 0xc9, 0x0f, 0xa2, 0x89, 0xc8,
                                     0xe7, HVT_PORT_VALUE, 0xeb, 0xfe };
    if (hvt_guest_flat32(&pc, HVT_CODE_GPA))
        return;
    memcpy(pc.ram + HVT_CODE_GPA, probe, sizeof(probe));
    if (!run_to_exit(&pc) || !hvt_exit_is(&pc, HV_EXIT_IO, "the LAPIC guest's OUT of leaf 1 ECX"))
        return;
    memcpy(&leaf1[ECX], (const uint8_t *)pc.run + pc.run->io.data_offset, 4);
    hvt_eq(leaf1[ECX] & (LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE),
               LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE, "leaf 1 ECX of an HV_VM_LAPIC guest");
}

/* Leaf 1 ECX bit 27 is the guest's CR4.OSXSAVE (where the CPU has XSAVE). */
static void cpuid_osxsave_follows_guest_cr4(void)
{
    struct hv_cpuid *cpuid = hvt_supported_cpuid();
    struct vm_instance vm;
    struct hv_sregs sregs;
    uint32_t before[4], after[4];
    if (!cpuid || !cpuid_guest(&vm) || !guest_cpuid(&vm, 1, 0, before) ||
        !hvt_eq(before[ECX] & LEAF1_ECX_OSXSAVE, 0, "OSXSAVE with CR4.OSXSAVE clear"))
        return;
    struct hv_cpuid_entry *s1 = hvt_cpuid_find(cpuid, 1, 0);
    if (!s1 || !(s1->ecx & LEAF1_ECX_XSAVE))
        return; /* no XSAVE: CR4.OSXSAVE cannot be set, nothing more to see */
    if (!hvt_ok(hv_get_sregs(vm.vcpu, &sregs), "GET_SREGS"))
        return;
    sregs.cr4 |= CR4_OSXSAVE;
    if (!hvt_err(hv_set_sregs(vm.vcpu, &sregs), 0, "SET_SREGS with CR4.OSXSAVE") ||
        !guest_cpuid(&vm, 1, 0, after) ||
        !hvt_eq(after[ECX], before[ECX] | LEAF1_ECX_OSXSAVE, "leaf 1 ECX with CR4.OSXSAVE set"))
        return;
    sregs.cr4 &= ~CR4_OSXSAVE;
    if (hvt_err(hv_set_sregs(vm.vcpu, &sregs), 0, "SET_SREGS without CR4.OSXSAVE") &&
        guest_cpuid(&vm, 1, 0, after))
        hvt_eq(after[ECX], before[ECX], "leaf 1 ECX after CR4.OSXSAVE is cleared again");
}

/* CR4.PKE exists exactly where PKU is offered (leaf 7 ECX bit 3), and
 * leaf 7 ECX bit 4 (OSPKE) is then the guest's CR4.PKE: SET_SREGS once
 * refused the bit although CPUID offered PKU, and a guest's MOV to CR4
 * (Linux's setup_pku) got #GP. */
static void cpuid_pku_offered_means_cr4_pke_settable(void)
{
    struct hv_cpuid *cpuid = hvt_supported_cpuid();
    struct vm_instance vm;
    struct hv_sregs sregs;
    uint32_t leaf7[4];
    if (!cpuid || !cpuid_guest(&vm) || !hvt_ok(hv_get_sregs(vm.vcpu, &sregs), "GET_SREGS"))
        return;
    struct hv_cpuid_entry *s7 = hvt_cpuid_find(cpuid, 7, 0);
    bool pku = s7 && (s7->ecx & LEAF7_ECX_PKU);
    sregs.cr4 |= CR4_PKE;
    long rc = hv_set_sregs(vm.vcpu, &sregs);
    ctl_printf("hvtest: info PKU %s, SET_SREGS with CR4.PKE: %ld\n", pku ? "offered" : "not offered", rc);
    if (!hvt_err(rc, pku ? 0 : -HV_EINVAL, "SET_SREGS with CR4.PKE") || !pku ||
        !guest_cpuid(&vm, 7, 0, leaf7))
        return;
    hvt_eq(leaf7[ECX] & LEAF7_ECX_OSPKE, LEAF7_ECX_OSPKE, "leaf 7 ECX OSPKE with CR4.PKE set");
}

/* One vcpu's APIC IDs by default: its slot in leaf 1, 0xB and 0x8000001E
 * (each where the supported table has the leaf), and in GET_CPUID. */
static int apic_ids_are(struct vm_instance *vm, struct hv_cpuid *supported, uint32_t slot)
{
    uint32_t regs[4];
    struct hv_cpuid *own = hvt_cpuid_buffer();
    if (!guest_cpuid(vm, 1, 0, regs) || !hvt_eq(regs[EBX] >> 24, slot, "leaf 1 EBX[31:24]"))
        return 0;
    if (hvt_cpuid_find(supported, 0xb, 0) &&
        (!guest_cpuid(vm, 0xb, 0, regs) || !hvt_eq(regs[EDX], slot, "leaf 0xB EDX") ||
         !guest_cpuid(vm, 0xb, 1, regs) || !hvt_eq(regs[EDX], slot, "leaf 0xB.1 EDX")))
        return 0;
    if (hvt_cpuid_find(supported, 0x8000001e, 0) &&
        (!guest_cpuid(vm, 0x8000001e, 0, regs) || !hvt_eq(regs[EAX], slot, "0x8000001E EAX")))
        return 0;
    own->count = HV_MAX_CPUID_ENTRIES;
    if (!hvt_err(hv_get_cpuid(vm->vcpu, own), 0, "GET_CPUID of a default vcpu") ||
        !hvt_eq(own->count, supported->count, "GET_CPUID count of a default vcpu"))
        return 0;
    struct hv_cpuid_entry *e = hvt_cpuid_find(own, 1, 0);
    return hvt_true(e != NULL, "GET_CPUID has leaf 1") &&
           hvt_eq(e->ebx >> 24, slot, "GET_CPUID leaf 1 EBX[31:24]");
}

static void cpuid_apic_id_is_vcpu_slot(void)
{
    struct hv_cpuid *supported = hvt_supported_cpuid();
    struct vm_instance vm, second;
    if (!supported || !cpuid_guest(&vm))
        return;
    second = vm; /* the same RAM, another vcpu and run page */
    second.run = page_alloc(HV_RUN_PAGE_SIZE);
    second.vcpu = hvt_keep(hv_create_vcpu(vm.vm, SECOND_SLOT, second.run));
    if (!hvt_ok(second.vcpu, "CREATE_VCPU of a second slot") ||
        hvt_guest_flat32(&second, HVT_CODE_GPA) < 0)
        return;
    if (apic_ids_are(&vm, supported, 0))
        apic_ids_are(&second, supported, SECOND_SLOT);
}

/* The VMM's table: the supported one with a vendor of its own, APIC ID
 * TEST_APIC_ID, one feature less and no leaf 7. Returns its entry count. */
static uint32_t vmm_table(const struct hv_cpuid *supported, struct hv_cpuid *out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < supported->count; i++) {
        struct hv_cpuid_entry e = supported->entries[i];
        if (e.function == 7)
            continue;
        if (e.function == 0) {
            memcpy(&e.ebx, "Micr", 4);
            memcpy(&e.edx, "oGue", 4);
            memcpy(&e.ecx, "stVM", 4);
        } else if (e.function == 1) {
            e.ebx = (e.ebx & 0x00ffffff) | TEST_APIC_ID << 24;
            e.ecx &= ~LEAF1_ECX_HYPERVISOR;
        } else if (e.function == 0xb || e.function == 0x1f) {
            e.edx = TEST_APIC_ID;
        }
        out->entries[n++] = e;
    }
    out->count = n;
    return n;
}

static void set_cpuid_guest_sees_vmm_values(void)
{
    struct hv_cpuid *supported = hvt_supported_cpuid(), *table = hvt_cpuid_buffer(), *back = hvt_cpuid_buffer();
    struct vm_instance vm;
    uint32_t regs[4], leaf1[4];
    if (!supported || !cpuid_guest(&vm))
        return;
    uint32_t n = vmm_table(supported, table);
    if (!hvt_err(hv_set_cpuid(vm.vcpu, table), 0, "SET_CPUID of the VMM's table") ||
        !guest_cpuid(&vm, 0, 0, regs) || !hvt_true(memcmp(&regs[EBX], "Micr", 4) == 0 &&
                                                   memcmp(&regs[EDX], "oGue", 4) == 0 &&
                                                   memcmp(&regs[ECX], "stVM", 4) == 0,
                                                   "guest leaf 0 vendor is the VMM's") ||
        !guest_cpuid(&vm, 1, 0, leaf1) ||
        !hvt_eq(leaf1[EBX] >> 24, TEST_APIC_ID, "guest leaf 1 APIC ID") ||
        /* the VMM's bits, less the local APIC this VM has not */
        !hvt_eq(leaf1[ECX], hvt_cpuid_find(table, 1, 0)->ecx &
                                ~(LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE),
                "guest leaf 1 ECX") ||
        !guest_cpuid(&vm, 7, 0, regs) ||
        !hvt_eq(regs[EAX] | regs[EBX] | regs[ECX] | regs[EDX], 0, "guest leaf 7 without an entry"))
        return;
    if (hvt_cpuid_find(table, 0xb, 0) &&
        (!guest_cpuid(&vm, 0xb, 0, regs) || !hvt_eq(regs[EDX], TEST_APIC_ID, "guest leaf 0xB EDX")))
        return;
    /* the hypervisor's leaves stay, whatever the table */
    if (!guest_cpuid(&vm, HV_CPUID_SIGNATURE, 0, regs) ||
        !hvt_eq(regs[EBX], HV_SIGNATURE_EBX, "guest 0x40000000 EBX with the VMM's table"))
        return;
    back->count = HV_MAX_CPUID_ENTRIES;
    if (!hvt_err(hv_get_cpuid(vm.vcpu, back), 0, "GET_CPUID after SET_CPUID") ||
        !hvt_eq(back->count, n, "GET_CPUID count"))
        return;
    struct hv_cpuid_entry *e = hvt_cpuid_find(back, 1, 0);
    if (hvt_true(e != NULL, "GET_CPUID has leaf 1") &&
        hvt_eq(e->ebx >> 24, TEST_APIC_ID, "GET_CPUID leaf 1 APIC ID"))
        hvt_true(hvt_cpuid_find(back, 7, 0) == NULL, "GET_CPUID shows no leaf 7");
}

const struct hvtest_case hvtest_cpuid_cases[] = {
    { "cpuid_hides_monitor_vmx_svm", cpuid_hides_monitor_vmx_svm },
    { "cpuid_osxsave_follows_guest_cr4", cpuid_osxsave_follows_guest_cr4 },
    { "cpuid_pku_offered_means_cr4_pke_settable", cpuid_pku_offered_means_cr4_pke_settable },
    { "cpuid_apic_id_is_vcpu_slot", cpuid_apic_id_is_vcpu_slot },
    { "set_cpuid_guest_sees_vmm_values", set_cpuid_guest_sees_vmm_values },
    { NULL, NULL },
};
