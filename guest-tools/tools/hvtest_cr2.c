/*
 * CR2 is each vcpu's own (abi/README.md, GET_SREGS): a page fault's
 * address, or a value the guest or the VMM wrote, is what that guest reads
 * from CR2 next, whatever other VMs did on the CPU meanwhile. SVM keeps
 * CR2 in the VMCB; VMX neither saves nor loads it, so the hypervisor does.
 *
 * Every test runs on control-domain vcpu 0, so the two VMs take turns on
 * one physical CPU.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/tools/hvtest.h"

struct cr2_vm {
    struct vm_instance vm;
    const char *name;
    uint32_t base;                 /* the VMM's values: base + round */
    uint32_t expect;               /* what the guest reads from CR2 next */
    uint32_t out_read, out_written;
};

/* loop: mov eax, cr2; OUT (what it found); inc eax; mov cr2, eax;
 *       mov eax, cr2; OUT (what it wrote); jmp loop. */
static int cr2_guest(struct cr2_vm *g)
{
    static const uint8_t mov_eax_cr2[] = { 0x0f, 0x20, 0xd0 };
    static const uint8_t inc_eax_mov_cr2_eax[] = { 0x40, 0x0f, 0x22, 0xd0 };
    struct hvt_code code;

    if (hvt_guest_create(&g->vm, "hvtest") < 0 || hvt_guest_flat32(&g->vm, HVT_CODE_GPA) < 0)
        return 0;
    hvt_code_start(&code, &g->vm, HVT_CODE_GPA);
    uint32_t loop = hvt_bytes(&code, mov_eax_cr2, sizeof(mov_eax_cr2));
    g->out_read = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    hvt_bytes(&code, inc_eax_mov_cr2_eax, sizeof(inc_eax_mov_cr2_eax));
    hvt_bytes(&code, mov_eax_cr2, sizeof(mov_eax_cr2));
    g->out_written = hvt_out_imm(&code, HVT_PORT_VALUE, 4);
    uint8_t jmp[2] = { 0xeb, (uint8_t)(loop - (code.at + 2)) };
    hvt_bytes(&code, jmp, sizeof(jmp));
    return 1;
}

static int set_cr2(struct cr2_vm *g, uint64_t value)
{
    struct hv_sregs sregs;

    if (!hvt_ok(hv_get_sregs(g->vm.vcpu, &sregs), "GET_SREGS"))
        return 0;
    sregs.cr2 = value;
    return hvt_ok(hv_set_sregs(g->vm.vcpu, &sregs), "SET_SREGS with a new CR2");
}

static int cr2_is(struct cr2_vm *g, uint64_t want, const char *what)
{
    struct hv_sregs sregs;

    return hvt_ok(hv_get_sregs(g->vm.vcpu, &sregs), "GET_SREGS") &&
           hvt_eq(sregs.cr2, want, what);
}

/* Rounds of both VMs by turns: on even rounds the VMM sets each one's CR2
 * first, on odd ones each guest must find what it wrote itself in the
 * round before, after the other VM wrote its own. */
static void cr2_kept_per_vcpu_with_two_vms_on_one_cpu(void)
{
    struct cr2_vm vms[2] = {
        { .name = "VM A", .base = 0x0a000000 },
        { .name = "VM B", .base = 0x0b000000 },
    };
    char what[96];

    if (!cr2_guest(&vms[0]) || !cr2_guest(&vms[1]))
        return;
    for (unsigned round = 0; round < 6; round++) {
        for (unsigned v = 0; v < 2 && round % 2 == 0; v++) {
            vms[v].expect = vms[v].base + round * 0x100;
            if (!set_cr2(&vms[v], vms[v].expect))
                return;
        }
        for (unsigned v = 0; v < 2; v++) {
            snprintf(what, sizeof(what), "%s's CR2 as round %u starts (%s)", vms[v].name,
                     round, round % 2 ? "its own write" : "SET_SREGS");
            if (!hvt_run_expect_out(&vms[v].vm, HVT_PORT_VALUE, 4, vms[v].expect,
                                    vms[v].out_read, what))
                return;
        }
        for (unsigned v = 0; v < 2; v++) {
            vms[v].expect++;
            snprintf(what, sizeof(what), "%s's CR2 after its MOV to CR2 in round %u",
                     vms[v].name, round);
            if (!hvt_run_expect_out(&vms[v].vm, HVT_PORT_VALUE, 4, vms[v].expect,
                                    vms[v].out_written, what))
                return;
            snprintf(what, sizeof(what), "GET_SREGS of %s's CR2 in round %u", vms[v].name,
                     round);
            if (!cr2_is(&vms[v], vms[v].expect, what))
                return;
        }
    }
}

const struct hvtest_case hvtest_cr2_cases[] = {
    { "vcpu_cr2_kept_per_vcpu_with_two_vms_on_one_cpu", cr2_kept_per_vcpu_with_two_vms_on_one_cpu },
    { NULL, NULL },
};
