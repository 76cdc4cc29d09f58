// sources: guest-tools/vmm/pc/task_switch.c
/* Unit tests for the VMM's task switch (guest-tools/vmm/pc/task_switch.c)
 * against SDM vol. 3A 7.3: what each source (CALL, IRET, JMP, a task
 * gate with an error code) saves, loads and marks busy, in either TSS
 * format, the new task's descriptors read through its own CR3, its
 * segments checked, and the faults before and after the commit point. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/pc/task_switch.h"

#define MEMORY    0x10000u
#define PAGE      4096u
#define GDT       0x1000u
#define OLD_TSS   0x2000u
#define NEW_TSS   0x2100u
#define STACK_TOP 0x4000u
#define UNMAPPED_PAGE 0x9u     /* linear page with no translation */
#define NEW_CR3   0x7000u      /* under it the GDT's page is physical page 8 */

#define SEL_CODE  0x08
#define SEL_DATA  0x10
#define SEL_OLD   0x18
#define SEL_NEW   0x20
#define SEL_TSS16 0x28
#define SEL_DATA2 0x30         /* a data segment with base 0x120000 */
#define SEL_DATA16 0x38        /* a 16-bit data segment: a stack of SP */

static uint8_t memory[MEMORY];
static uint64_t current_cr3;
static unsigned paging_loads;
static bool paging_on;

static uint64_t physical(uint64_t linear)
{
    if (paging_on && current_cr3 == NEW_CR3 && linear / PAGE == GDT / PAGE)
        return 8 * PAGE + linear % PAGE;
    return linear;
}

static int memory_access(void *ctx, uint64_t linear, void *bytes, unsigned len, bool write,
                         uint32_t *pf_error)
{
    (void)ctx;
    if (linear / PAGE == UNMAPPED_PAGE || (linear + len - 1) / PAGE == UNMAPPED_PAGE) {
        *pf_error = write ? 2 : 0;
        return 0;
    }
    uint64_t phys = physical(linear);
    if (phys + len > MEMORY)
        return -1;
    if (write)
        memcpy(memory + phys, bytes, len);
    else
        memcpy(bytes, memory + phys, len);
    return 1;
}

static bool load_paging(void *ctx, const struct hv_sregs *sregs)
{
    (void)ctx;
    paging_loads++;
    current_cr3 = sregs->cr3;
    return true;
}

static const struct task_switch_ops ops = { memory_access, load_paging, NULL };

static uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(flags & 0xf) << 52 |
           (uint64_t)(base >> 24) << 56;
}

static void put_descriptor(uint32_t table, uint16_t selector, uint64_t d)
{
    memcpy(memory + table + (selector & ~7u), &d, 8);
}

static uint64_t gdt_entry(uint16_t selector)
{
    uint64_t d;
    memcpy(&d, memory + GDT + (selector & ~7u), 8);
    return d;
}

static uint32_t tss_word(uint32_t tss, unsigned offset)
{
    uint32_t v;
    memcpy(&v, memory + tss + offset, 4);
    return v;
}

static void put_tss_word(uint32_t tss, unsigned offset, uint32_t v)
{
    memcpy(memory + tss + offset, &v, 4);
}

static bool busy(uint16_t selector)
{
    return (gdt_entry(selector) >> 41) & 1;
}

static struct hv_segment flat(uint16_t selector, uint8_t type)
{
    return (struct hv_segment){ .limit = 0xffffffff, .selector = selector, .type = type,
                                .s = 1, .present = 1, .db = 1, .g = 1 };
}

static struct hv_regs regs;
static struct hv_sregs sregs;

/* The old task runs with TR = SEL_OLD (busy); the new TSS holds a flat
 * ring-0 task at 0x3000 with EAX..EDI 0x11..0x88. */
static int setup(void **state)
{
    (void)state;
    memset(memory, 0, sizeof(memory));
    paging_on = false;
    current_cr3 = 0;
    paging_loads = 0;
    put_descriptor(GDT, SEL_CODE, descriptor(0, 0xfffff, 0x9b, 0xc));
    put_descriptor(GDT, SEL_DATA, descriptor(0, 0xfffff, 0x92, 0xc)); /* not yet accessed */
    put_descriptor(GDT, SEL_OLD, descriptor(OLD_TSS, 103, 0x8b, 0));
    put_descriptor(GDT, SEL_NEW, descriptor(NEW_TSS, 103, 0x89, 0));
    put_descriptor(GDT, SEL_TSS16, descriptor(NEW_TSS, 43, 0x81, 0));
    put_descriptor(GDT, SEL_DATA2, descriptor(0x120000, 0xfff, 0x93, 0x4));
    put_descriptor(GDT, SEL_DATA16, descriptor(0, 0xffff, 0x93, 0));
    put_tss_word(NEW_TSS, 0, 0xbeef);                 /* link */
    put_tss_word(NEW_TSS, 28, NEW_CR3);
    put_tss_word(NEW_TSS, 32, 0x3000);                /* EIP */
    put_tss_word(NEW_TSS, 36, 0x46);                  /* EFLAGS: ZF PF, bit 1 */
    for (unsigned i = 0; i < 8; i++)
        put_tss_word(NEW_TSS, 40 + 4 * i, 0x11 * (i + 1));
    put_tss_word(NEW_TSS, 56, STACK_TOP);             /* ESP */
    put_tss_word(NEW_TSS, 72, SEL_DATA);              /* ES */
    put_tss_word(NEW_TSS, 76, SEL_CODE);
    put_tss_word(NEW_TSS, 80, SEL_DATA);
    put_tss_word(NEW_TSS, 84, SEL_DATA);
    put_tss_word(NEW_TSS, 88, 0);                     /* FS null */
    put_tss_word(NEW_TSS, 92, SEL_DATA);

    regs = (struct hv_regs){ .rax = 0xa, .rcx = 0xc, .rdx = 0xd, .rbx = 0xb, .rsp = 0x5000,
                             .rbp = 0xbb, .rsi = 0x51, .rdi = 0xd1, .rip = 0x1234,
                             .rflags = 0x202 | (1u << 14) };
    sregs = (struct hv_sregs){
        .cs = flat(SEL_CODE, 0xb), .ds = flat(SEL_DATA, 3), .es = flat(SEL_DATA, 3),
        .fs = flat(SEL_DATA, 3), .gs = flat(SEL_DATA, 3), .ss = flat(SEL_DATA, 3),
        .tr = { .base = OLD_TSS, .limit = 103, .selector = SEL_OLD, .type = 0xb,
                .present = 1 },
        .ldt = { .unusable = 1 },
        .gdt = { .base = GDT, .limit = 0x3f },
        .cr0 = 0x11,
    };
    return 0;
}

static enum task_switch_status run(uint16_t selector, uint8_t source, bool has_error,
                                   uint32_t error, struct task_switch_fault *fault)
{
    struct task_switch_request request = { .selector = selector, .source = source,
                                           .has_error_code = has_error, .error_code = error };
    return task_switch(&regs, &sregs, &request, &ops, fault);
}

static void test_call(void **state)
{
    (void)state;
    struct task_switch_fault fault;
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_CALL, false, 0, &fault), TASK_SWITCH_DONE);
    /* the old task's dynamic fields */
    assert_int_equal(tss_word(OLD_TSS, 32), 0x1234);
    assert_int_equal(tss_word(OLD_TSS, 36), 0x202 | (1u << 14));   /* NT kept for CALL */
    assert_int_equal(tss_word(OLD_TSS, 40), 0xa);
    assert_int_equal(tss_word(OLD_TSS, 56), 0x5000);
    assert_int_equal(tss_word(OLD_TSS, 68), 0xd1);
    assert_int_equal(tss_word(OLD_TSS, 76), SEL_CODE);
    /* back link, busy bits */
    assert_int_equal(tss_word(NEW_TSS, 0) & 0xffff, SEL_OLD);
    assert_true(busy(SEL_OLD));
    assert_true(busy(SEL_NEW));
    /* the new task */
    assert_int_equal(regs.rip, 0x3000);
    assert_int_equal(regs.rflags, 0x46 | (1u << 14));
    assert_int_equal(regs.rax, 0x11);
    assert_int_equal(regs.rdi, 0x88);
    assert_int_equal(regs.rsp, STACK_TOP);
    assert_int_equal(sregs.tr.selector, SEL_NEW);
    assert_int_equal(sregs.tr.type, 0xb);
    assert_int_equal(sregs.tr.base, NEW_TSS);
    assert_true(sregs.cr0 & 8);                      /* TS */
    assert_int_equal(sregs.cr3, 0);                  /* no paging: CR3 not loaded */
    assert_int_equal(sregs.ds.selector, SEL_DATA);
    assert_int_equal(sregs.ds.type, 3);              /* accessed, in memory too */
    assert_true((gdt_entry(SEL_DATA) >> 40) & 1);
    assert_int_equal(sregs.ds.limit, 0xffffffff);
    assert_true(sregs.fs.unusable);
    assert_true(sregs.ldt.unusable);
}

static void test_iret_and_jmp(void **state)
{
    (void)state;
    struct task_switch_fault fault;
    put_descriptor(GDT, SEL_NEW, descriptor(NEW_TSS, 103, 0x8b, 0));  /* busy: a caller */
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_IRET, false, 0, &fault), TASK_SWITCH_DONE);
    assert_false(busy(SEL_OLD));
    assert_true(busy(SEL_NEW));
    assert_int_equal(tss_word(OLD_TSS, 36), 0x202);  /* NT cleared in the saved image */
    assert_int_equal(regs.rflags, 0x46);             /* and not set in the new task */
    assert_int_equal(tss_word(NEW_TSS, 0), 0xbeef);  /* no link written */

    setup(NULL);
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_JMP, false, 0, &fault), TASK_SWITCH_DONE);
    assert_false(busy(SEL_OLD));
    assert_true(busy(SEL_NEW));
    assert_int_equal(tss_word(OLD_TSS, 36), 0x202 | (1u << 14));
    assert_int_equal(regs.rflags, 0x46);
    assert_int_equal(tss_word(NEW_TSS, 0), 0xbeef);
}

static void test_gate_pushes_error_code(void **state)
{
    (void)state;
    struct task_switch_fault fault;
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_GATE, true, 0x30, &fault), TASK_SWITCH_DONE);
    assert_int_equal(regs.rsp, STACK_TOP - 4);
    assert_int_equal(tss_word(0, STACK_TOP - 4), 0x30);
    assert_int_equal(tss_word(NEW_TSS, 0) & 0xffff, SEL_OLD);
    assert_true(regs.rflags & (1u << 14));
}

/* With paging the new CR3 is loaded before the descriptors are read:
 * under it the GDT's page holds another DS. */
static void test_new_cr3_for_descriptors(void **state)
{
    (void)state;
    struct task_switch_fault fault;
    paging_on = true;
    sregs.cr0 |= 1u << 31;
    memcpy(memory + 8 * PAGE, memory + GDT, 0x38);
    put_tss_word(NEW_TSS, 84, SEL_DATA2);
    put_descriptor(8 * PAGE, SEL_DATA2, descriptor(0x340000, 0xfff, 0x93, 0x4));
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_JMP, false, 0, &fault), TASK_SWITCH_DONE);
    assert_int_equal(paging_loads, 1);
    assert_int_equal(sregs.cr3, NEW_CR3);
    assert_int_equal(sregs.ds.base, 0x340000);
    assert_int_equal(sregs.ds.limit, 0xfff);
}

static void test_faults(void **state)
{
    (void)state;
    struct task_switch_fault fault;
    /* a busy TSS for JMP: #GP, before the commit point, nothing written */
    put_descriptor(GDT, SEL_NEW, descriptor(NEW_TSS, 103, 0x8b, 0));
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_JMP, false, 0, &fault),
                     TASK_SWITCH_GUEST_FAULT);
    assert_int_equal(fault.vector, 13);
    assert_int_equal(fault.error_code, SEL_NEW);
    assert_false(fault.in_new_task);
    assert_int_equal(tss_word(OLD_TSS, 32), 0);
    assert_int_equal(regs.rip, 0x1234);

    /* not present: #NP */
    setup(NULL);
    put_descriptor(GDT, SEL_NEW, descriptor(NEW_TSS, 103, 0x09, 0));
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_CALL, false, 0, &fault),
                     TASK_SWITCH_GUEST_FAULT);
    assert_int_equal(fault.vector, 11);

    /* the new TSS on an unmapped page: #PF with CR2 */
    setup(NULL);
    put_descriptor(GDT, SEL_NEW, descriptor(UNMAPPED_PAGE * PAGE, 103, 0x89, 0));
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_CALL, false, 0, &fault),
                     TASK_SWITCH_GUEST_FAULT);
    assert_int_equal(fault.vector, 14);
    assert_int_equal(fault.cr2, UNMAPPED_PAGE * PAGE);
    assert_false(fault.in_new_task);

    /* a data segment as the new CS: #TS(selector) in the new task */
    setup(NULL);
    put_tss_word(NEW_TSS, 76, SEL_DATA);
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_CALL, false, 0, &fault),
                     TASK_SWITCH_GUEST_FAULT);
    assert_int_equal(fault.vector, 10);
    assert_int_equal(fault.error_code, SEL_DATA);
    assert_true(fault.in_new_task);
    assert_int_equal(sregs.tr.selector, SEL_NEW);
    assert_int_equal(regs.rip, 0x3000);

    /* SS with an RPL other than the new CPL: #TS */
    setup(NULL);
    put_tss_word(NEW_TSS, 80, SEL_DATA | 3);
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_CALL, false, 0, &fault),
                     TASK_SWITCH_GUEST_FAULT);
    assert_int_equal(fault.vector, 10);
    assert_int_equal(fault.error_code, SEL_DATA);

    /* a data segment not present: #NP */
    setup(NULL);
    put_descriptor(GDT, SEL_DATA2, descriptor(0x120000, 0xfff, 0x13, 0x4));
    put_tss_word(NEW_TSS, 92, SEL_DATA2);
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_CALL, false, 0, &fault),
                     TASK_SWITCH_GUEST_FAULT);
    assert_int_equal(fault.vector, 11);
    assert_int_equal(fault.error_code, SEL_DATA2);
}

/* A 16-bit TSS (SDM 3A 7.6): the low halves from it, EIP's upper half
 * clear and the registers' set, FS and GS null, no CR3; the old task
 * saved into one likewise, and an exception's error code pushed as 2
 * bytes. */
static void test_sixteen_bit_tss(void **state)
{
    (void)state;
    struct task_switch_fault fault;
    const uint32_t tss16 = 0x2200;
    uint16_t words[22] = { 0 };
    words[7] = 0x3456;                       /* IP */
    words[8] = 0x0046;                       /* FLAGS */
    for (unsigned i = 0; i < 8; i++)
        words[9 + i] = (uint16_t)(0x101 * (i + 1));
    words[13] = 0x3800;                      /* SP */
    words[17] = SEL_DATA;                    /* ES */
    words[18] = SEL_CODE;
    words[19] = SEL_DATA;
    words[20] = SEL_DATA;
    memcpy(memory + tss16, words, sizeof(words));
    put_descriptor(GDT, SEL_TSS16, descriptor(tss16, 43, 0x81, 0));
    sregs.fs = flat(SEL_DATA, 3);
    regs.rax = 0x12345678;
    regs.rflags = 0x202;
    assert_int_equal(run(SEL_TSS16, HV_TASK_SWITCH_CALL, false, 0, &fault), TASK_SWITCH_DONE);
    assert_int_equal(regs.rip, 0x3456);
    assert_int_equal(regs.rflags, 0x46 | (1u << 14));
    assert_int_equal(regs.rax, 0xffff0101);
    assert_int_equal(regs.rsp, 0xffff3800);
    assert_true(sregs.fs.unusable && sregs.gs.unusable);
    assert_int_equal(sregs.tr.type, 0x3);
    assert_int_equal(sregs.cr3, 0);
    assert_true(busy(SEL_TSS16));

    /* and from it, back to a 32-bit one with an error code: 2 bytes
     * saved per field into the 16-bit TSS, 4 pushed for the 32-bit task */
    regs.rax = 0xabcd1234;
    regs.rip = 0x3460;
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_GATE, true, 0x1c, &fault), TASK_SWITCH_DONE);
    memcpy(words, memory + tss16, sizeof(words));
    assert_int_equal(words[7], 0x3460);
    assert_int_equal(words[9], 0x1234);
    assert_int_equal(words[18], SEL_CODE);
    assert_int_equal(tss_word(NEW_TSS, 0) & 0xffff, SEL_TSS16);
    assert_int_equal(regs.rsp, STACK_TOP - 4);
    assert_int_equal(tss_word(0, STACK_TOP - 4), 0x1c);
}

/* A 16-bit TSS's task takes an exception's error code as 2 bytes, on
 * its 16-bit stack (SP below the upper half the load set). */
static void test_sixteen_bit_error_code(void **state)
{
    (void)state;
    struct task_switch_fault fault;
    const uint32_t tss16 = 0x2200;
    uint16_t words[22] = { 0 };
    words[13] = 0x3800;
    words[17] = words[20] = SEL_DATA;
    words[18] = SEL_CODE;
    words[19] = SEL_DATA16;
    memcpy(memory + tss16, words, sizeof(words));
    put_descriptor(GDT, SEL_TSS16, descriptor(tss16, 43, 0x81, 0));
    memset(memory + 0x37fc, 0xee, 4);
    assert_int_equal(run(SEL_TSS16, HV_TASK_SWITCH_GATE, true, 0x5a5a, &fault),
                     TASK_SWITCH_DONE);
    assert_int_equal(regs.rsp, 0xffff37fe);
    assert_int_equal(memory[0x37fe] | memory[0x37ff] << 8, 0x5a5a);
    assert_int_equal(memory[0x37fd], 0xee);          /* nothing below the 2 bytes */
}

static void test_v86_task(void **state)
{
    (void)state;
    struct task_switch_fault fault;
    put_tss_word(NEW_TSS, 36, 0x2 | (1u << 17));      /* VM */
    put_tss_word(NEW_TSS, 84, 0x1234);
    assert_int_equal(run(SEL_NEW, HV_TASK_SWITCH_JMP, false, 0, &fault), TASK_SWITCH_DONE);
    assert_int_equal(sregs.ds.base, 0x12340);
    assert_int_equal(sregs.ds.limit, 0xffff);
    assert_int_equal(sregs.ds.dpl, 3);
    assert_int_equal(sregs.cs.base, SEL_CODE << 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_call, setup),
        cmocka_unit_test_setup(test_iret_and_jmp, setup),
        cmocka_unit_test_setup(test_gate_pushes_error_code, setup),
        cmocka_unit_test_setup(test_new_cr3_for_descriptors, setup),
        cmocka_unit_test_setup(test_faults, setup),
        cmocka_unit_test_setup(test_sixteen_bit_tss, setup),
        cmocka_unit_test_setup(test_sixteen_bit_error_code, setup),
        cmocka_unit_test_setup(test_v86_task, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
