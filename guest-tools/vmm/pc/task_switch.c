/*
 * The task switch of guest-tools/vmm/pc/task_switch.h, in the order of
 * SDM vol. 3A 7.3 (steps 5 to 13) and its table 7-1 for the checks on the
 * new task's segments.
 */
#include "guest-tools/vmm/pc/task_switch.h"

#define TSS_LINK    0
#define TSS_CR3     28   /* 32-bit TSSs only */
#define TSS_MAX     104

/* Where a TSS keeps a task's dynamic fields: EIP, EFLAGS and the general
 * registers, each `width` bytes (EFLAGS right after EIP, the registers in
 * the order EAX ECX EDX EBX ESP EBP ESI EDI), the segment selectors
 * (ES CS SS DS, then FS GS in a 32-bit TSS) in `width`-byte slots, the
 * LDT selector; and its smallest limit. SDM 3A figures 7-2 and 7-11. */
struct tss_format {
    unsigned width, eip, gprs, segments, segment_count, ldt, limit;
};
static const struct tss_format TSS32 = { 4, 32, 40, 72, 6, 96, 103 };
static const struct tss_format TSS16 = { 2, 14, 18, 34, 4, 42, 43 };

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

static bool linear_access(struct switch_state *s, uint64_t linear, void *bytes, unsigned len,
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
    return linear_access(s, *where, descriptor, 8, false);
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
    if (!linear_access(s, where + 5, &access_byte, 1, false))
        return false;
    access_byte = set ? access_byte | bit : access_byte & (uint8_t)~bit;
    return linear_access(s, where + 5, &access_byte, 1, true);
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

/* `width` (2 or 4) little-endian bytes. */
static uint32_t field_at(const uint8_t *tss, unsigned offset, unsigned width)
{
    uint32_t value = 0;
    for (unsigned i = 0; i < width; i++)
        value |= (uint32_t)tss[offset + i] << (8 * i);
    return value;
}

static void put_field(uint8_t *bytes, uint32_t value, unsigned width)
{
    for (unsigned i = 0; i < width; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
}

static const struct tss_format *format_of(uint8_t tss_type)
{
    return (tss_type & ~DESC_TYPE_BUSY) == SYSTEM_TYPE_TSS16 ? &TSS16 : &TSS32;
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

    /* Into the old TSS in its own format: a 16-bit one keeps the low
     * halves. */
    const struct tss_format *f = format_of(sregs->tr.type);
    uint8_t dynamic[10 * 4];
    uint32_t eflags = (uint32_t)regs->rflags;
    if (request->source == HV_TASK_SWITCH_IRET)
        eflags &= ~RFLAGS_NT;
    put_field(dynamic, (uint32_t)regs->rip, f->width);
    put_field(dynamic + f->width, eflags, f->width);
    for (unsigned i = 0; i < 8; i++)
        put_field(dynamic + (2 + i) * f->width, (uint32_t)*gpr_in_tss_order(regs, i), f->width);
    if (!linear_access(s, sregs->tr.base + f->eip, dynamic, 10 * f->width, true))
        return false;
    for (unsigned i = 0; i < f->segment_count; i++) {
        uint8_t bytes[2];
        put_field(bytes, segment_in_tss_order(sregs, i)->selector, 2);
        if (!linear_access(s, sregs->tr.base + f->segments + f->width * i, bytes, 2, true))
            return false;
    }

    if (request->source == HV_TASK_SWITCH_CALL || request->source == HV_TASK_SWITCH_GATE) {
        uint8_t link[2];
        put_field(link, old_selector, 2);
        if (!linear_access(s, new_base + TSS_LINK, link, 2, true))
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
    if ((sregs->cr0 & CR0_PG) && format_of(new_tr.type) == &TSS32)
        sregs->cr3 = field_at(tss, TSS_CR3, 4);
    if (!s->ops->load_paging(s->ops->ctx, sregs)) {
        s->status = TASK_SWITCH_FAULT;
        return false;
    }

    /* A 16-bit TSS fills the low halves: EIP's and EFLAGS' upper ones
     * cleared, the general registers' set (as Bochs does; the SDM leaves
     * them undefined), FS and GS null. */
    const struct tss_format *f = format_of(new_tr.type);
    uint32_t upper = f == &TSS16 ? 0xffff0000u : 0;
    uint32_t eflags = field_at(tss, f->eip + f->width, f->width) | RFLAGS_FIXED;
    if (request->source == HV_TASK_SWITCH_CALL || request->source == HV_TASK_SWITCH_GATE)
        eflags |= RFLAGS_NT;
    regs->rflags = eflags;
    regs->rip = field_at(tss, f->eip, f->width);
    for (unsigned i = 0; i < 8; i++)
        *gpr_in_tss_order(regs, i) = upper | field_at(tss, f->gprs + f->width * i, f->width);

    uint16_t selectors[6] = { 0 };
    for (unsigned i = 0; i < f->segment_count; i++)
        selectors[i] = (uint16_t)field_at(tss, f->segments + f->width * i, 2);
    uint16_t ldt = (uint16_t)field_at(tss, f->ldt, 2);
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
        /* Pushed as the new TSS's task pushes it (4 bytes from a 32-bit
         * TSS, 2 from a 16-bit one), on a stack whose pointer is ESP or
         * SP as the new SS says. */
        uint32_t esp = (uint32_t)regs->rsp, pushed = esp - f->width, offset = pushed;
        if (!sregs->ss.db) {
            offset = pushed & 0xffffu;
            pushed = (esp & 0xffff0000u) | offset;
        }
        uint8_t bytes[4];
        put_field(bytes, request->error_code, f->width);
        if (!linear_access(s, sregs->ss.base + offset, bytes, f->width, true))
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
    uint8_t tss[TSS_MAX];

    /* The CPU checked the descriptor (in the GDT, a TSS): checked again,
     * as another vcpu may have changed it since. */
    if (request->selector & 4) {
        fail(&s, VECTOR_TS, request->selector & 0xfffcu);
        return s.status;
    }
    if (!read_descriptor(&s, request->selector, &d, &descriptor_at))
        return s.status;
    struct hv_segment new_tr = segment_of(request->selector, d);
    /* SDM 3A 7.3 steps 3 and 4: a TSS, busy for IRET and free otherwise,
     * present, no smaller than its format. */
    bool busy_wanted = request->source == HV_TASK_SWITCH_IRET;
    uint8_t available = new_tr.type & ~DESC_TYPE_BUSY;
    if (new_tr.s || (available != SYSTEM_TYPE_TSS32 && available != SYSTEM_TYPE_TSS16) ||
        ((new_tr.type & DESC_TYPE_BUSY) != 0) != busy_wanted) {
        fail(&s, busy_wanted ? VECTOR_TS : VECTOR_GP, request->selector & 0xfffcu);
        return s.status;
    }
    const struct tss_format *f = format_of(new_tr.type);
    if (!new_tr.present || new_tr.limit < f->limit) {
        fail(&s, new_tr.present ? VECTOR_TS : VECTOR_NP, request->selector & 0xfffcu);
        return s.status;
    }
    if (!linear_access(&s, new_tr.base, tss, f->limit + 1, false))
        return s.status;
    if (!leave_old_task(&s, request, descriptor_at, new_tr.base))
        return s.status;
    fault->in_new_task = true;   /* the commit point: faults are the new task's */
    if (!enter_new_task(&s, request, tss, new_tr))
        return s.status;
    return TASK_SWITCH_DONE;
}
