/*
 * The task switch of guest-tools/vmm/pc/task_switch.h, in the order of
 * SDM vol. 3A 7.3 (steps 5 to 13) and its table 7-1 for the checks on the
 * new task's segments.
 */
#include "guest-tools/vmm/pc/task_switch.h"

/* 32-bit TSS offsets (SDM 3A figure 7-2). */
#define TSS_LINK    0
#define TSS_CR3     28
#define TSS_EIP     32
#define TSS_EFLAGS  36
#define TSS_EAX     40
#define TSS_ES      72
#define TSS_LDT     96
#define TSS_SIZE    104

#define RFLAGS_FIXED 0x2u
#define RFLAGS_NT    (1u << 14)
#define RFLAGS_VM    (1u << 17)
#define CR0_TS       (1u << 3)
#define CR0_PG       (1u << 31)

#define DESC_TYPE_BUSY     0x2u  /* in a TSS descriptor's type */
#define DESC_TYPE_ACCESSED 0x1u
#define DESC_TYPE_CODE     0x8u
#define DESC_TYPE_CONFORMING 0x4u
#define DESC_TYPE_RW       0x2u  /* readable code, writable data */
#define SYSTEM_TYPE_LDT    0x2u
#define SYSTEM_TYPE_TSS32  0x9u  /* available; busy is 0xb */
#define SYSTEM_TYPE_TSS16  0x1u

#define VECTOR_TS 10
#define VECTOR_NP 11
#define VECTOR_SS 12
#define VECTOR_GP 13
#define VECTOR_PF 14

struct switch_state {
    struct hv_regs *regs;
    struct hv_sregs *sregs;
    const struct task_switch_ops *ops;
    struct task_switch_fault *fault;
    enum task_switch_status status;   /* of the access that failed */
};

static bool fail(struct switch_state *s, uint8_t vector, uint32_t error_code)
{
    s->fault->vector = vector;
    s->fault->has_error_code = true;
    s->fault->error_code = error_code;
    s->status = TASK_SWITCH_GUEST_FAULT;
    return false;
}

static bool access(struct switch_state *s, uint64_t linear, void *bytes, unsigned len,
                   bool write)
{
    uint32_t pf_error = 0;
    int done = s->ops->memory(s->ops->ctx, linear & 0xffffffffull, bytes, len, write,
                              &pf_error);
    if (done > 0)
        return true;
    if (done < 0) {
        s->status = TASK_SWITCH_FAULT;
        return false;
    }
    fail(s, VECTOR_PF, pf_error);
    s->fault->cr2 = linear & 0xffffffffull;
    return false;
}

/* The 8-byte descriptor `selector` names in the GDT or the LDT; a
 * selector beyond its table's limit (or into an unusable LDT) is
 * #TS(selector), as table 7-1 has it for every selector of a TSS. The
 * address of the descriptor at *where, for the busy and accessed bits. */
static bool read_descriptor(struct switch_state *s, uint16_t selector, uint64_t *descriptor,
                            uint64_t *where)
{
    uint64_t base, limit;
    if (selector & 4) {
        if (s->sregs->ldt.unusable || !s->sregs->ldt.present)
            return fail(s, VECTOR_TS, selector & 0xfffcu);
        base = s->sregs->ldt.base;
        limit = s->sregs->ldt.limit;
    } else {
        base = s->sregs->gdt.base;
        limit = s->sregs->gdt.limit;
    }
    if ((uint64_t)(selector | 7u) > limit)
        return fail(s, VECTOR_TS, selector & 0xfffcu);
    *where = base + (selector & ~7u);
    return access(s, *where, descriptor, 8, false);
}

static struct hv_segment segment_of(uint16_t selector, uint64_t d)
{
    uint32_t limit = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000);
    bool granular = (d >> 55) & 1;
    return (struct hv_segment){
        .base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000),
        .limit = granular ? limit << 12 | 0xfff : limit,
        .selector = selector,
        .type = (uint8_t)((d >> 40) & 0xf),
        .s = (uint8_t)((d >> 44) & 1),
        .dpl = (uint8_t)((d >> 45) & 3),
        .present = (uint8_t)((d >> 47) & 1),
        .avl = (uint8_t)((d >> 52) & 1),
        .l = (uint8_t)((d >> 53) & 1),
        .db = (uint8_t)((d >> 54) & 1),
        .g = granular,
    };
}

/* Sets or clears `bit` of the type in the descriptor at `where` (the
 * busy bit of a TSS's, the accessed bit of a segment's). */
static bool update_type(struct switch_state *s, uint64_t where, uint8_t bit, bool set)
{
    uint8_t access_byte;
    if (!access(s, where + 5, &access_byte, 1, false))
        return false;
    access_byte = set ? access_byte | bit : access_byte & (uint8_t)~bit;
    return access(s, where + 5, &access_byte, 1, true);
}

static struct hv_segment null_segment(uint16_t selector)
{
    return (struct hv_segment){ .selector = selector, .unusable = 1 };
}

enum segment_role { ROLE_CODE, ROLE_STACK, ROLE_DATA };

/* One of the new task's segment registers, with the checks of table 7-1
 * at privilege level `cpl` (the new CS's RPL). */
static bool load_segment(struct switch_state *s, struct hv_segment *segment, uint16_t selector,
                         enum segment_role role, unsigned cpl)
{
    unsigned rpl = selector & 3u;
    uint16_t error = selector & 0xfffcu;
    uint64_t d, where;
    if (!(selector & 0xfffcu)) {
        if (role != ROLE_DATA)
            return fail(s, VECTOR_TS, 0);
        *segment = null_segment(selector);
        return true;
    }
    if (!read_descriptor(s, selector, &d, &where))
        return false;
    struct hv_segment loaded = segment_of(selector, d);
    bool code = loaded.type & DESC_TYPE_CODE;
    bool conforming = code && (loaded.type & DESC_TYPE_CONFORMING);
    if (!loaded.s)
        return fail(s, VECTOR_TS, error);
    switch (role) {
    case ROLE_CODE:
        if (!code || (conforming ? loaded.dpl > rpl : loaded.dpl != rpl))
            return fail(s, VECTOR_TS, error);
        break;
    case ROLE_STACK:
        if (code || !(loaded.type & DESC_TYPE_RW) || rpl != cpl || loaded.dpl != cpl)
            return fail(s, VECTOR_TS, error);
        break;
    case ROLE_DATA:
        if (code && !(loaded.type & DESC_TYPE_RW))
            return fail(s, VECTOR_TS, error);
        if (!conforming && (loaded.dpl < cpl || loaded.dpl < rpl))
            return fail(s, VECTOR_TS, error);
        break;
    }
    if (!loaded.present)
        return fail(s, role == ROLE_STACK ? VECTOR_SS : VECTOR_NP, error);
    if (!(loaded.type & DESC_TYPE_ACCESSED)) {
        if (!update_type(s, where, DESC_TYPE_ACCESSED, true))
            return false;
        loaded.type |= DESC_TYPE_ACCESSED;
    }
    *segment = loaded;
    return true;
}

static struct hv_segment v86_segment(uint16_t selector)
{
    return (struct hv_segment){ .base = (uint64_t)selector << 4, .limit = 0xffff,
                                .selector = selector, .type = 3, .s = 1, .dpl = 3,
                                .present = 1 };
}

static uint32_t word_at(const uint8_t *tss, unsigned offset)
{
    return (uint32_t)tss[offset] | (uint32_t)tss[offset + 1] << 8 |
           (uint32_t)tss[offset + 2] << 16 | (uint32_t)tss[offset + 3] << 24;
}

static void put_word(uint8_t *bytes, uint32_t value)
{
    for (unsigned i = 0; i < 4; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
}

/* The registers in the TSS's order from EAX on (SDM 3A figure 7-2). */
static uint64_t *gpr_in_tss_order(struct hv_regs *regs, unsigned i)
{
    uint64_t *order[8] = { &regs->rax, &regs->rcx, &regs->rdx, &regs->rbx,
                           &regs->rsp, &regs->rbp, &regs->rsi, &regs->rdi };
    return order[i];
}

static struct hv_segment *segment_in_tss_order(struct hv_sregs *sregs, unsigned i)
{
    struct hv_segment *order[6] = { &sregs->es, &sregs->cs, &sregs->ss,
                                    &sregs->ds, &sregs->fs, &sregs->gs };
    return order[i];
}

/* Steps 6 to 10 of SDM 3A 7.3, up to the commit point: the old task
 * saved, the busy bits and the back link. */
static bool leave_old_task(struct switch_state *s, const struct task_switch_request *request,
                           uint64_t new_descriptor_at, uint64_t new_base)
{
    struct hv_regs *regs = s->regs;
    struct hv_sregs *sregs = s->sregs;
    uint16_t old_selector = sregs->tr.selector;   /* in the GDT, as LTR has it */
    uint64_t old_descriptor, old_descriptor_at;
    if ((request->source == HV_TASK_SWITCH_JMP || request->source == HV_TASK_SWITCH_IRET) &&
        (!read_descriptor(s, old_selector & ~4u, &old_descriptor, &old_descriptor_at) ||
         !update_type(s, old_descriptor_at, DESC_TYPE_BUSY, false)))
        return false;

    uint8_t dynamic[TSS_ES - TSS_EIP];
    uint32_t eflags = (uint32_t)regs->rflags;
    if (request->source == HV_TASK_SWITCH_IRET)
        eflags &= ~RFLAGS_NT;
    put_word(dynamic, (uint32_t)regs->rip);
    put_word(dynamic + 4, eflags);
    for (unsigned i = 0; i < 8; i++)
        put_word(dynamic + 8 + 4 * i, (uint32_t)*gpr_in_tss_order(regs, i));
    if (!access(s, sregs->tr.base + TSS_EIP, dynamic, sizeof(dynamic), true))
        return false;
    for (unsigned i = 0; i < 6; i++) {
        uint16_t selector = segment_in_tss_order(sregs, i)->selector;
        uint8_t bytes[2] = { (uint8_t)selector, (uint8_t)(selector >> 8) };
        if (!access(s, sregs->tr.base + TSS_ES + 4 * i, bytes, 2, true))
            return false;
    }

    if (request->source == HV_TASK_SWITCH_CALL || request->source == HV_TASK_SWITCH_GATE) {
        uint8_t link[2] = { (uint8_t)old_selector, (uint8_t)(old_selector >> 8) };
        if (!access(s, new_base + TSS_LINK, link, 2, true))
            return false;
    }
    if (request->source != HV_TASK_SWITCH_IRET &&
        !update_type(s, new_descriptor_at, DESC_TYPE_BUSY, true))
        return false;
    return true;
}

/* Steps 11 to 13: the new task's state, then its descriptors. */
static bool enter_new_task(struct switch_state *s, const struct task_switch_request *request,
                           const uint8_t *tss, struct hv_segment new_tr)
{
    struct hv_regs *regs = s->regs;
    struct hv_sregs *sregs = s->sregs;
    new_tr.type |= DESC_TYPE_BUSY;
    sregs->tr = new_tr;
    sregs->cr0 |= CR0_TS;
    if (sregs->cr0 & CR0_PG)
        sregs->cr3 = word_at(tss, TSS_CR3);
    if (!s->ops->load_paging(s->ops->ctx, sregs)) {
        s->status = TASK_SWITCH_FAULT;
        return false;
    }

    uint32_t eflags = word_at(tss, TSS_EFLAGS) | RFLAGS_FIXED;
    if (request->source == HV_TASK_SWITCH_CALL || request->source == HV_TASK_SWITCH_GATE)
        eflags |= RFLAGS_NT;
    regs->rflags = eflags;
    regs->rip = word_at(tss, TSS_EIP);
    for (unsigned i = 0; i < 8; i++)
        *gpr_in_tss_order(regs, i) = word_at(tss, TSS_EAX + 4 * i);

    uint16_t selectors[6];
    for (unsigned i = 0; i < 6; i++)
        selectors[i] = (uint16_t)word_at(tss, TSS_ES + 4 * i);
    uint16_t ldt = (uint16_t)word_at(tss, TSS_LDT);
    if (!(ldt & 0xfffcu)) {
        sregs->ldt = null_segment(ldt);
    } else {
        uint64_t d, where;
        if (ldt & 4)
            return fail(s, VECTOR_TS, ldt & 0xfffcu);
        if (!read_descriptor(s, ldt, &d, &where))
            return false;
        struct hv_segment loaded = segment_of(ldt, d);
        if (loaded.s || loaded.type != SYSTEM_TYPE_LDT || !loaded.present)
            return fail(s, VECTOR_TS, ldt & 0xfffcu);
        sregs->ldt = loaded;
    }

    if (eflags & RFLAGS_VM) {
        for (unsigned i = 0; i < 6; i++)
            *segment_in_tss_order(sregs, i) = v86_segment(selectors[i]);
    } else {
        /* CS first: its RPL is the new task's privilege level. */
        static const unsigned order[6] = { 1, 2, 0, 3, 4, 5 };   /* CS SS ES DS FS GS */
        unsigned cpl = selectors[1] & 3u;
        for (unsigned k = 0; k < 6; k++) {
            unsigned i = order[k];
            enum segment_role role = i == 1 ? ROLE_CODE : i == 2 ? ROLE_STACK : ROLE_DATA;
            if (!load_segment(s, segment_in_tss_order(sregs, i), selectors[i], role, cpl))
                return false;
        }
    }

    if (request->has_error_code) {
        /* Pushed as a 32-bit TSS's task pushes it: 4 bytes, on a stack
         * whose pointer is ESP or SP as the new SS says. */
        uint32_t esp = (uint32_t)regs->rsp, pushed = esp - 4, offset = pushed;
        if (!sregs->ss.db) {
            offset = pushed & 0xffffu;
            pushed = (esp & 0xffff0000u) | offset;
        }
        uint8_t bytes[4];
        put_word(bytes, request->error_code);
        if (!access(s, sregs->ss.base + offset, bytes, 4, true))
            return false;
        regs->rsp = pushed;
    }
    return true;
}

enum task_switch_status task_switch(struct hv_regs *regs, struct hv_sregs *sregs,
                                    const struct task_switch_request *request,
                                    const struct task_switch_ops *ops,
                                    struct task_switch_fault *fault)
{
    struct switch_state s = { .regs = regs, .sregs = sregs, .ops = ops, .fault = fault };
    *fault = (struct task_switch_fault){ 0 };
    uint64_t d, descriptor_at;
    uint8_t tss[TSS_SIZE];

    if ((sregs->tr.type & ~DESC_TYPE_BUSY) == SYSTEM_TYPE_TSS16)
        return TASK_SWITCH_UNSUPPORTED;
    /* The CPU checked the descriptor (in the GDT, a TSS): checked again,
     * as another vcpu may have changed it since. */
    if (request->selector & 4) {
        fail(&s, VECTOR_TS, request->selector & 0xfffcu);
        return s.status;
    }
    if (!read_descriptor(&s, request->selector, &d, &descriptor_at))
        return s.status;
    struct hv_segment new_tr = segment_of(request->selector, d);
    if (!new_tr.s && (new_tr.type & ~DESC_TYPE_BUSY) == SYSTEM_TYPE_TSS16)
        return TASK_SWITCH_UNSUPPORTED;
    /* SDM 3A 7.3 steps 3 and 4: a TSS, busy for IRET and free otherwise,
     * present, at least 104 bytes. */
    bool busy_wanted = request->source == HV_TASK_SWITCH_IRET;
    if (new_tr.s || (new_tr.type & ~DESC_TYPE_BUSY) != SYSTEM_TYPE_TSS32 ||
        ((new_tr.type & DESC_TYPE_BUSY) != 0) != busy_wanted) {
        fail(&s, busy_wanted ? VECTOR_TS : VECTOR_GP, request->selector & 0xfffcu);
        return s.status;
    }
    if (!new_tr.present || new_tr.limit < TSS_SIZE - 1) {
        fail(&s, new_tr.present ? VECTOR_TS : VECTOR_NP, request->selector & 0xfffcu);
        return s.status;
    }
    if (!access(&s, new_tr.base, tss, sizeof(tss), false))
        return s.status;
    if (!leave_old_task(&s, request, descriptor_at, new_tr.base))
        return s.status;
    fault->in_new_task = true;   /* the commit point: faults are the new task's */
    if (!enter_new_task(&s, request, tss, new_tr))
        return s.status;
    return TASK_SWITCH_DONE;
}
