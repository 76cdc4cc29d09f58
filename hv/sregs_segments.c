/* SET_SREGS' rules for the segment registers and descriptor tables
 * (hv/sregs_check.h): Intel SDM 3C 27.3.1.2 and 27.3.1.3 as they stand
 * with unrestricted guest, which is how both backends run guests (SVM
 * always; VMX needs it for real mode and unpaged states). VMRUN checks no
 * segment but CS.L/D in long mode (APM 15.5.1), so the SDM's rules are
 * the union, with one addition: Bochs' VMX still applies the CS RPL rule
 * of the SDM editions before unrestricted guest, which protected-mode
 * states satisfy whenever the CPU made them, so it is kept for them.
 *
 * A segment marked unusable (the ABI's null segment) is not checked,
 * except where VM entry checks it anyway: CS and TR must be usable, FS
 * and GS bases canonical, and SS's DPL is the CPL whatever SS holds. */
#include "hv/sregs_check.h"

#define EFER_LME (1ull << 8)

/* Descriptor types (SDM 3A 3.4.5.1, 3.5) as VM entry names them. */
#define TYPE_ACCESSED    0x1
#define TYPE_READABLE    0x2       /* code segments */
#define TYPE_CODE        0x8
#define TYPE_DATA_RW_ACCESSED      3
#define TYPE_DATA_RW_DOWN_ACCESSED 7
#define TYPE_CODE_CONFORMING       0x4
#define TYPE_LDT                   2
#define TYPE_TSS16_BUSY            3
#define TYPE_TSS32_BUSY            11

#define SELECTOR_TI  0x4           /* table indicator: the LDT */
#define SELECTOR_RPL 0x3

static bool usable(const struct hv_segment *s) { return !s->unusable; }

/* The ABI spreads the descriptor's fields over bytes; each must fit its
 * bits, as the VMCS and VMCB encodings would otherwise drop the rest. */
static bool fields_fit(const struct hv_segment *s)
{
    return s->type <= 15 && s->dpl <= 3 && s->s <= 1 && s->present <= 1 &&
           s->avl <= 1 && s->l <= 1 && s->db <= 1 && s->g <= 1;
}

/* The byte-granular limit must be one the descriptor could express: with
 * G set its low 12 bits all ones, without G at most 20 bits wide. */
static bool limit_fits_granularity(const struct hv_segment *s)
{
    return s->g ? (s->limit & 0xfff) == 0xfff : (s->limit >> 20) == 0;
}

/* What every usable code or data segment register needs: a code or data
 * descriptor (S), present, with a limit its G can express. `name` is the
 * register, for the message; static strings only, so one table each. */
static const char *segment_basics(const struct hv_segment *s, const char *const why[4])
{
    if (!fields_fit(s))
        return why[0];
    if (!s->s)
        return why[1];
    if (!s->present)
        return why[2];
    if (!limit_fits_granularity(s))
        return why[3];
    return NULL;
}

static const char *check_cs(const struct hv_sregs *r, bool ia32e)
{
    static const char *const why[4] = { "CS field out of range", "CS S clear",
                                        "CS not present", "CS limit and G disagree" };
    const struct hv_segment *cs = &r->cs;
    if (!usable(cs))
        return "CS unusable";
    const char *basic = segment_basics(cs, why);
    if (basic)
        return basic;
    /* Accessed code, or (unrestricted guest) accessed read/write data as
     * real mode leaves it. */
    bool code = cs->type == 9 || cs->type == 11 || cs->type == 13 || cs->type == 15;
    if (!code && cs->type != TYPE_DATA_RW_ACCESSED)
        return "CS type";
    if (cs->base >> 32)
        return "CS base above 4 GiB";
    if (cs->type == TYPE_DATA_RW_ACCESSED && cs->dpl != 0)
        return "CS DPL not 0 with a data type";
    bool conforming = cs->type & TYPE_CODE_CONFORMING;
    if (code && !conforming && cs->dpl != r->ss.dpl)
        return "CS DPL differs from SS DPL";
    if (code && conforming && cs->dpl > r->ss.dpl)
        return "CS DPL above SS DPL";
    /* The older rule (Bochs): the selector's RPL as the CPL it names. */
    unsigned rpl = cs->selector & SELECTOR_RPL;
    if ((r->cr0 & CR0_PE) && code && (conforming ? rpl < cs->dpl : rpl != cs->dpl))
        return "CS RPL does not match its DPL";
    if (ia32e && cs->l && cs->db)
        return "CS L and D both set in IA-32e mode";
    return NULL;
}

static const char *check_ss(const struct hv_sregs *r)
{
    static const char *const why[4] = { "SS field out of range", "SS S clear",
                                        "SS not present", "SS limit and G disagree" };
    const struct hv_segment *ss = &r->ss;
    /* SS.DPL is the CPL: real mode, and code still typed as data, run at 0. */
    if (ss->dpl > 3)
        return "SS field out of range";
    if ((!(r->cr0 & CR0_PE) || r->cs.type == TYPE_DATA_RW_ACCESSED) && ss->dpl != 0)
        return "SS DPL not 0 (real mode, or CS typed as data)";
    if (!usable(ss))
        return NULL;
    const char *basic = segment_basics(ss, why);
    if (basic)
        return basic;
    if (ss->type != TYPE_DATA_RW_ACCESSED && ss->type != TYPE_DATA_RW_DOWN_ACCESSED)
        return "SS type";
    if (ss->base >> 32)
        return "SS base above 4 GiB";
    return NULL;
}

/* DS, ES, FS and GS: data, or readable code, and accessed. */
static const char *check_data(const struct hv_segment *s, const char *const why[6],
                              bool base_32bit, unsigned linear_bits)
{
    /* FS and GS bases are MSRs in 64-bit mode: canonical even when unusable. */
    if (!base_32bit && !address_canonical(s->base, linear_bits))
        return why[5];
    if (!usable(s))
        return NULL;
    const char *basic = segment_basics(s, why);
    if (basic)
        return basic;
    if (!(s->type & TYPE_ACCESSED) || ((s->type & TYPE_CODE) && !(s->type & TYPE_READABLE)))
        return why[4];
    if (base_32bit && (s->base >> 32))
        return why[5];
    return NULL;
}

static const char *check_data_segments(const struct hv_sregs *r, unsigned linear_bits)
{
    static const char *const ds[6] = { "DS field out of range", "DS S clear", "DS not present",
                                       "DS limit and G disagree", "DS type", "DS base" };
    static const char *const es[6] = { "ES field out of range", "ES S clear", "ES not present",
                                       "ES limit and G disagree", "ES type", "ES base" };
    static const char *const fs[6] = { "FS field out of range", "FS S clear", "FS not present",
                                       "FS limit and G disagree", "FS type", "FS base" };
    static const char *const gs[6] = { "GS field out of range", "GS S clear", "GS not present",
                                       "GS limit and G disagree", "GS type", "GS base" };
    const char *why = check_data(&r->ds, ds, true, linear_bits);
    why = why ? why : check_data(&r->es, es, true, linear_bits);
    why = why ? why : check_data(&r->fs, fs, false, linear_bits);
    return why ? why : check_data(&r->gs, gs, false, linear_bits);
}

/* TR: a busy TSS of a type the mode can use (16-bit ones not in IA-32e
 * mode), a system descriptor, present. */
static const char *check_tr(const struct hv_segment *tr, bool ia32e, unsigned linear_bits)
{
    if (!usable(tr))
        return "TR unusable";
    if (!fields_fit(tr))
        return "TR field out of range";
    if (tr->selector & SELECTOR_TI)
        return "TR selector in the LDT";
    if (!address_canonical(tr->base, linear_bits))
        return "TR base not canonical";
    if (tr->s)
        return "TR S set";
    if (!tr->present)
        return "TR not present";
    if (tr->type != TYPE_TSS32_BUSY && (ia32e || tr->type != TYPE_TSS16_BUSY))
        return "TR type";
    if (!limit_fits_granularity(tr))
        return "TR limit and G disagree";
    return NULL;
}

static const char *check_ldtr(const struct hv_segment *ldt, unsigned linear_bits)
{
    if (!usable(ldt))
        return NULL;
    if (!fields_fit(ldt))
        return "LDTR field out of range";
    if (ldt->selector & SELECTOR_TI)
        return "LDTR selector in the LDT";
    if (!address_canonical(ldt->base, linear_bits))
        return "LDTR base not canonical";
    if (ldt->s)
        return "LDTR S set";
    if (!ldt->present)
        return "LDTR not present";
    if (ldt->type != TYPE_LDT)
        return "LDTR type";
    if (!limit_fits_granularity(ldt))
        return "LDTR limit and G disagree";
    return NULL;
}

const char *sregs_segments_refusal(const struct hv_sregs *r, const struct cpu_limits *limits)
{
    bool ia32e = (r->efer & EFER_LME) && (r->cr0 & CR0_PG);
    unsigned bits = limits->linear_bits;
    /* SS first: its DPL is the CPL the CS rules compare with. */
    const char *why = check_ss(r);
    why = why ? why : check_cs(r, ia32e);
    why = why ? why : check_data_segments(r, bits);
    why = why ? why : check_tr(&r->tr, ia32e, bits);
    why = why ? why : check_ldtr(&r->ldt, bits);
    if (why)
        return why;
    /* The ABI's limits are 16 bits wide already; the bases are linear. */
    if (!address_canonical(r->gdt.base, bits))
        return "GDTR base not canonical";
    if (!address_canonical(r->idt.base, bits))
        return "IDTR base not canonical";
    return NULL;
}

const char *sregs_restricted_refusal(const struct hv_sregs *r)
{
    unsigned cs_rpl = r->cs.selector & SELECTOR_RPL;
    unsigned ss_rpl = r->ss.selector & SELECTOR_RPL;
    if (r->cs.type == TYPE_DATA_RW_ACCESSED)
        return "CS type";
    if (ss_rpl != cs_rpl)
        return "SS RPL differs from CS RPL";
    if (r->ss.dpl != ss_rpl)
        return "SS DPL differs from its RPL";
    const struct hv_segment *data[4] = { &r->ds, &r->es, &r->fs, &r->gs };
    for (int i = 0; i < 4; i++) {
        const struct hv_segment *s = data[i];
        /* Data and non-conforming code: the selector may not claim more
         * privilege than the descriptor grants. */
        if (usable(s) && s->type <= 11 && s->dpl < (s->selector & SELECTOR_RPL))
            return "data segment DPL below its RPL";
    }
    return NULL;
}
