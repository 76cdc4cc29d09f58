/*
 * The speculation controls (abi/README.md, GET_MSRS/SET_MSRS): SPEC_CTRL,
 * PRED_CMD and ARCH_CAPABILITIES exist for a guest exactly where the host
 * CPU's CPUID shows them (which is what the guest's CPUID shows), else
 * they give #GP and stop GET/SET_MSRS; SPEC_CTRL is each vcpu's own and
 * the control domain's own survives a child's RUN; a CPU issues an IBPB
 * when it moves between child VMs, never between vcpus of one VM.
 *
 * Each test checks whichever side the CPU is on, so that every backend
 * and CPU model prints the same PASS lines; the first prints an info line
 * saying which side that was (tests/system/vmx_tests.sh looks for it on a
 * CPU model that has the MSRs).
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define VECTOR_GP 13
#define RESERVED_SPEC_CTRL_BIT 0x80000000u

/* Host CPUID bits (Intel SDM vol. 2A CPUID leaf 7 EDX; AMD APM vol. 3
 * E.4.17, leaf 0x80000008 EBX). */
struct spec_features {
    uint64_t spec_ctrl_bits;
    int ibpb;
    int arch_capabilities;
};

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static void host_features(struct spec_features *f)
{
    uint32_t a, b, c, d, d7 = 0, b8 = 0;

    cpuid(0, &a, &b, &c, &d);
    if (a >= 7) {
        cpuid(7, &a, &b, &c, &d);
        d7 = d;
    }
    cpuid(0x80000000, &a, &b, &c, &d);
    if (a >= 0x80000008) {
        cpuid(0x80000008, &a, &b, &c, &d);
        b8 = b;
    }
    f->ibpb = (d7 >> 26 & 1) || (b8 >> 12 & 1);
    f->spec_ctrl_bits = ((d7 >> 26 & 1) || (b8 >> 14 & 1) ? 1u : 0) |   /* IBRS */
                        ((d7 >> 27 & 1) || (b8 >> 15 & 1) ? 2u : 0) |   /* STIBP */
                        ((d7 >> 31 & 1) || (b8 >> 24 & 1) ? 4u : 0);    /* SSBD */
    f->arch_capabilities = d7 >> 29 & 1;
}

/* SET_MSRS or GET_MSRS of one MSR: how many entries were processed. */
static long set_one(long vcpu, uint32_t index, uint64_t value)
{
    struct hvt_msr_list *list = hvt_msr_list();

    hvt_msr_add(list, index, value);
    return hv_set_msrs(vcpu, &list->header);
}

static long get_one(long vcpu, uint32_t index, uint64_t *value)
{
    struct hvt_msr_list *list = hvt_msr_list();
    long done;

    hvt_msr_add(list, index, 0);
    done = hv_get_msrs(vcpu, &list->header);
    *value = list->entries[0].data;
    return done;
}

/* A flat 32-bit guest whose #GP handler OUTs 13 to HVT_PORT_VECTOR. */
static int gp_catching_guest(struct vm_instance *vm)
{
    return hvt_guest_create(vm, "hvtest") == 0 && hvt_guest_flat32(vm, HVT_CODE_GPA) == 0 &&
           hvt_guest_catch_vector(vm, VECTOR_GP) == 0;
}

/* RUN ends in the #GP handler, and the fault was at `insn`: the EIP the
 * interrupt gate pushed above the error code (no privilege change). */
static int expect_gp(struct vm_instance *vm, uint32_t insn, const char *what)
{
    uint32_t handler_out = HVT_HANDLER_GPA + VECTOR_GP * 16 + 5, eip;

    if (!hvt_run_expect_out(vm, HVT_PORT_VECTOR, 4, VECTOR_GP, handler_out, what))
        return 0;
    memcpy(&eip, vm->ram + HVT_STACK_TOP - 12, 4);
    return hvt_eq(eip, insn, what);
}

static uint32_t rdmsr_at(struct hvt_code *code, uint32_t index)
{
    hvt64_mov_ecx_imm(code, index);
    return hvt64_insn(code, HVT64_RDMSR);
}

/* WRMSR of EBX (zero-extended) to `index`. */
static uint32_t wrmsr_ebx_at(struct hvt_code *code, uint32_t index)
{
    hvt64_mov_ecx_imm(code, index);
    hvt64_insn(code, HVT64_MOV_EAX_EBX);
    hvt64_insn(code, HVT64_XOR_EDX_EDX);
    return hvt64_insn(code, HVT64_WRMSR);
}

/* ---- SPEC_CTRL -------------------------------------------------------- */

struct spec_vm {
    struct vm_instance vm;
    const char *name;
    uint64_t initial, written;
    uint32_t first_read, first_out, second_out, reserved_write;
};

/* RDMSR and OUT; WRMSR of EBX; RDMSR and OUT; WRMSR of a reserved bit. */
static int spec_ctrl_guest(struct spec_vm *g)
{
    struct hvt_code code;

    if (!gp_catching_guest(&g->vm))
        return 0;
    hvt_code_start(&code, &g->vm, HVT_CODE_GPA);
    g->first_read = rdmsr_at(&code, HV_MSR_SPEC_CTRL);
    g->first_out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    wrmsr_ebx_at(&code, HV_MSR_SPEC_CTRL);
    rdmsr_at(&code, HV_MSR_SPEC_CTRL);
    g->second_out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_mov_eax_imm(&code, RESERVED_SPEC_CTRL_BIT);
    hvt64_mov_ecx_imm(&code, HV_MSR_SPEC_CTRL);
    hvt64_insn(&code, HVT64_XOR_EDX_EDX);
    g->reserved_write = hvt64_insn(&code, HVT64_WRMSR);
    hvt_hlt(&code);
    return hvt_set_rbx(&g->vm, g->written);
}

static void spec_ctrl_absent(struct spec_vm *g)
{
    uint64_t value;

    if (hvt_err(set_one(g->vm.vcpu, HV_MSR_SPEC_CTRL, 0), 0,
                "SET_MSRS of SPEC_CTRL on a CPU without it") &&
        hvt_err(get_one(g->vm.vcpu, HV_MSR_SPEC_CTRL, &value), 0,
                "GET_MSRS of SPEC_CTRL on a CPU without it"))
        expect_gp(&g->vm, g->first_read, "the guest's RDMSR of SPEC_CTRL on a CPU without it");
}

static void vcpu_msr_spec_ctrl_per_vcpu(void)
{
    struct spec_features f;
    struct spec_vm vms[2] = { { .name = "VM A" }, { .name = "VM B" } };
    uint64_t ctl_before = 0, ctl_own, value;
    char what[96];

    host_features(&f);
    ctl_printf("hvtest: info speculation controls: SPEC_CTRL bits 0x%lx, IBPB %s, "
               "ARCH_CAPABILITIES %s\n", f.spec_ctrl_bits, f.ibpb ? "yes" : "no",
               f.arch_capabilities ? "yes" : "no");
    vms[0].initial = vms[1].written = f.spec_ctrl_bits;
    if (!spec_ctrl_guest(&vms[0]) || !spec_ctrl_guest(&vms[1]))
        return;
    if (!f.spec_ctrl_bits) {
        spec_ctrl_absent(&vms[0]);
        return;
    }
    for (unsigned v = 0; v < 2; v++) {
        snprintf(what, sizeof(what), "SET_MSRS of %s's SPEC_CTRL", vms[v].name);
        if (!hvt_err(set_one(vms[v].vm.vcpu, HV_MSR_SPEC_CTRL, vms[v].initial), 1, what))
            return;
    }
    if (!hvt_err(set_one(vms[0].vm.vcpu, HV_MSR_SPEC_CTRL, 1ull << 63), 0,
                 "SET_MSRS of SPEC_CTRL with reserved bit 63") ||
        !hvt_err(get_one(vms[0].vm.vcpu, HV_MSR_SPEC_CTRL, &value), 1, "GET_MSRS of SPEC_CTRL") ||
        !hvt_eq(value, vms[0].initial, "SPEC_CTRL after the refused SET_MSRS"))
        return;
    /* The control domain's own value: its lowest bit, whatever the
     * children do meanwhile. */
    ctl_before = hvt_ctl_rdmsr(HV_MSR_SPEC_CTRL);
    ctl_own = f.spec_ctrl_bits & -f.spec_ctrl_bits;
    hvt_ctl_wrmsr(HV_MSR_SPEC_CTRL, ctl_own);
    for (unsigned v = 0; v < 2; v++) {
        snprintf(what, sizeof(what), "%s's RDMSR of SPEC_CTRL (SET_MSRS's value)", vms[v].name);
        if (!hvt_run_expect_out(&vms[v].vm, HVT_PORT_VALUE, 4, (uint32_t)vms[v].initial,
                                vms[v].first_out, what))
            goto out;
    }
    for (unsigned v = 0; v < 2; v++) {
        snprintf(what, sizeof(what), "%s's RDMSR of SPEC_CTRL after its WRMSR", vms[v].name);
        if (!hvt_run_expect_out(&vms[v].vm, HVT_PORT_VALUE, 4, (uint32_t)vms[v].written,
                                vms[v].second_out, what))
            goto out;
    }
    for (unsigned v = 0; v < 2; v++) {
        snprintf(what, sizeof(what), "%s's WRMSR of a reserved SPEC_CTRL bit", vms[v].name);
        if (!expect_gp(&vms[v].vm, vms[v].reserved_write, what))
            goto out;
        snprintf(what, sizeof(what), "GET_MSRS of %s's SPEC_CTRL after its WRMSR", vms[v].name);
        if (!hvt_err(get_one(vms[v].vm.vcpu, HV_MSR_SPEC_CTRL, &value), 1, what) ||
            !hvt_eq(value, vms[v].written, what))
            goto out;
    }
    hvt_eq(hvt_ctl_rdmsr(HV_MSR_SPEC_CTRL), ctl_own,
           "the control domain's own SPEC_CTRL after the children ran");
out:
    hvt_ctl_wrmsr(HV_MSR_SPEC_CTRL, ctl_before);
}

/* ---- PRED_CMD --------------------------------------------------------- */

static void vcpu_msr_pred_cmd_write_only(void)
{
    struct spec_features f;
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t write, after, read;
    uint64_t value;

    host_features(&f);
    if (!gp_catching_guest(&vm))
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    write = wrmsr_ebx_at(&code, HV_MSR_PRED_CMD);
    hvt_mov_eax_imm(&code, 0x1b9b);
    after = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    read = rdmsr_at(&code, HV_MSR_PRED_CMD);
    hvt_hlt(&code);
    if (!hvt_set_rbx(&vm, 1) ||
        !hvt_err(get_one(vm.vcpu, HV_MSR_PRED_CMD, &value), 0,
                 "GET_MSRS of PRED_CMD (write-only)") ||
        !hvt_err(set_one(vm.vcpu, HV_MSR_PRED_CMD, 2), 0, "SET_MSRS of PRED_CMD bit 1 (reserved)"))
        return;
    if (!f.ibpb) {
        if (hvt_err(set_one(vm.vcpu, HV_MSR_PRED_CMD, 1), 0,
                    "SET_MSRS of PRED_CMD on a CPU without IBPB"))
            expect_gp(&vm, write, "the guest's WRMSR of PRED_CMD on a CPU without IBPB");
        return;
    }
    if (hvt_err(set_one(vm.vcpu, HV_MSR_PRED_CMD, 1), 1, "SET_MSRS of PRED_CMD = IBPB") &&
        hvt_err(set_one(vm.vcpu, HV_MSR_PRED_CMD, 0), 1, "SET_MSRS of PRED_CMD = 0") &&
        hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, 0x1b9b, after,
                           "the guest past its WRMSR of PRED_CMD = IBPB"))
        expect_gp(&vm, read, "the guest's RDMSR of PRED_CMD (write-only)");
}

/* ---- ARCH_CAPABILITIES ------------------------------------------------ */

static void vcpu_msr_arch_capabilities_constant(void)
{
    struct spec_features f;
    struct vm_instance vm;
    struct hvt_code code;
    uint32_t read, low, high, write;
    uint64_t value;

    host_features(&f);
    if (!gp_catching_guest(&vm))
        return;
    hvt_code_start(&code, &vm, HVT_CODE_GPA);
    read = rdmsr_at(&code, HV_MSR_ARCH_CAPABILITIES);
    low = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt64_insn(&code, HVT64_MOV_EAX_EDX);
    high = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    write = wrmsr_ebx_at(&code, HV_MSR_ARCH_CAPABILITIES);
    hvt_hlt(&code);
    if (!f.arch_capabilities) {
        if (hvt_err(get_one(vm.vcpu, HV_MSR_ARCH_CAPABILITIES, &value), 0,
                    "GET_MSRS of ARCH_CAPABILITIES on a CPU without it"))
            expect_gp(&vm, read, "the guest's RDMSR of ARCH_CAPABILITIES on a CPU without it");
        return;
    }
    if (!hvt_err(get_one(vm.vcpu, HV_MSR_ARCH_CAPABILITIES, &value), 1,
                 "GET_MSRS of ARCH_CAPABILITIES") ||
        !hvt_err(set_one(vm.vcpu, HV_MSR_ARCH_CAPABILITIES, value), 0,
                 "SET_MSRS of ARCH_CAPABILITIES (read-only)") ||
        !hvt_eq(hvt_ctl_rdmsr(HV_MSR_ARCH_CAPABILITIES), value,
                "the control domain's RDMSR of ARCH_CAPABILITIES (the same constant)") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, (uint32_t)value, low,
                            "the guest's RDMSR of ARCH_CAPABILITIES, low half") ||
        !hvt_run_expect_out(&vm, HVT_PORT_VALUE, 4, (uint32_t)(value >> 32), high,
                            "the guest's RDMSR of ARCH_CAPABILITIES, high half"))
        return;
    expect_gp(&vm, write, "the guest's WRMSR of ARCH_CAPABILITIES (read-only)");
}

/* ---- IBPB between VMs ------------------------------------------------- */

/* A guest that OUTs in a loop: each RUN enters it once. */
static int out_loop_guest(struct vm_instance *vm, uint32_t *out)
{
    struct hvt_code code;
    uint8_t jmp_back[2] = { 0xeb, 0 };

    if (!gp_catching_guest(vm))
        return 0;
    hvt_code_start(&code, vm, HVT_CODE_GPA);
    *out = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    jmp_back[1] = (uint8_t)(HVT_CODE_GPA - (code.at + 2));
    hvt_bytes(&code, jmp_back, 2);
    return 1;
}

static void vcpu_msr_ibpb_between_vms_only(void)
{
    static const unsigned order[] = { 0, 0, 1, 1, 0 }; /* A, A, B, B, A */
    struct spec_features f;
    struct vm_instance vms[2];
    uint32_t out[2];
    struct hv_stats before, after;
    char what[64];

    host_features(&f);
    if (!out_loop_guest(&vms[0], &out[0]) || !out_loop_guest(&vms[1], &out[1]) ||
        !hvt_stats(&before))
        return;
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        snprintf(what, sizeof(what), "RUN %u (VM %c)", i + 1, 'A' + order[i]);
        if (!hvt_run_expect_out(&vms[order[i]], HVT_PORT_VALUE, 4, 0, out[order[i]], what))
            return;
    }
    if (!hvt_stats(&after))
        return;
    /* This CPU last ran another test's VM: A, then B, then A again. */
    hvt_eq(after.ibpb_switches - before.ibpb_switches, f.ibpb ? 3 : 0,
           "GET_STATS ibpb_switches over RUNs of VMs A, A, B, B, A on one CPU");
}

const struct hvtest_case hvtest_speculation_cases[] = {
    { "vcpu_msr_spec_ctrl_per_vcpu", vcpu_msr_spec_ctrl_per_vcpu },
    { "vcpu_msr_pred_cmd_write_only", vcpu_msr_pred_cmd_write_only },
    { "vcpu_msr_arch_capabilities_constant", vcpu_msr_arch_capabilities_constant },
    { "vcpu_msr_ibpb_between_vms_only", vcpu_msr_ibpb_between_vms_only },
    { NULL, NULL },
};
