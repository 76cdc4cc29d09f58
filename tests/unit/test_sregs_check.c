// sources: hv/sregs_check.c hv/sregs_segments.c
/* Unit tests for hv/sregs_check.c and hv/sregs_segments.c: the states
 * SET_SREGS refuses on both backends before any hardware sees them. One
 * table of states built from a handful of base states (real mode as after
 * RESET, flat 32-bit, PAE, 64-bit kernel and user, compatibility mode,
 * 16-bit protected mode) with a few fields changed, each with the rule it
 * must break (NULL: it must pass). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/sregs_check.h"

/* The table leaves unused changes and the CPU out: zero means none. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)
#define CR4_PCIDE (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_CET (1ull << 23)

/* A CPU with PAE, PSE, PGE, OSFXSR, OSXSAVE... but no UMIP, PCIDE or LA57;
 * and one that has PCIDE and CET too. */
static const struct cpu_limits limits = { .cr4_allowed = 0x67ffull | CR4_OSXSAVE,
                                          .physical_bits = 40, .linear_bits = 48 };
static const struct cpu_limits limits_pcid = {
    .cr4_allowed = 0x67ffull | CR4_OSXSAVE | CR4_PCIDE | CR4_CET,
    .physical_bits = 40, .linear_bits = 48 };
static const struct cpu_limits limits_la57 = {
    .cr4_allowed = 0x7fffull | CR4_OSXSAVE, .physical_bits = 52, .linear_bits = 57 };

enum base { REAL, FLAT32, PAE32, LONG64, USER64, COMPAT, PROT16 };

static void segment(struct hv_segment *s, uint16_t selector, uint8_t type, uint8_t dpl,
                    bool big)
{
    *s = (struct hv_segment){ .selector = selector, .type = type, .s = 1, .present = 1,
                              .dpl = dpl, .limit = big ? 0xffffffffu : 0xffff,
                              .g = big, .db = big };
}

static struct hv_sregs make(enum base base)
{
    struct hv_sregs r;
    memset(&r, 0, sizeof(r));
    bool big = base != REAL && base != PROT16;
    unsigned cpl = base == USER64 ? 3 : 0;
    segment(&r.cs, (uint16_t)(0x08 | cpl), 0xb, (uint8_t)cpl, big);
    segment(&r.ss, (uint16_t)(0x10 | cpl), 0x3, (uint8_t)cpl, big);
    segment(&r.ds, (uint16_t)(0x10 | cpl), 0x3, (uint8_t)cpl, big);
    r.es = r.fs = r.gs = r.ds;
    r.tr = (struct hv_segment){ .selector = 0x18, .type = 11, .present = 1, .limit = 0x67 };
    r.ldt = (struct hv_segment){ .unusable = 1 };
    r.gdt.limit = 0x1f;
    r.idt.limit = 0x7ff;
    switch (base) {
    case REAL: /* the state after RESET */
        r.cs.selector = 0xf000;
        r.cs.base = 0xffff0000;
        r.ss.selector = r.ds.selector = 0;
        r.es = r.fs = r.gs = r.ds = r.ss;
        r.ldt = (struct hv_segment){ .type = 2, .present = 1, .limit = 0xffff };
        r.tr.limit = 0xffff;
        r.tr.selector = 0;
        r.gdt.limit = r.idt.limit = 0xffff;
        r.cr0 = 0x60000010;
        break;
    case PROT16:
    case FLAT32:
        r.cr0 = 0x11;
        break;
    case PAE32:
        r.cr0 = 0x80000011;
        r.cr4 = CR4_PAE;
        r.cr3 = 0x3000;
        break;
    case COMPAT:
    case LONG64:
    case USER64:
        r.cr0 = 0x80010033;
        r.cr4 = CR4_PAE;
        r.cr3 = 0x1000;
        r.efer = EFER_LME | EFER_LMA | EFER_NXE;
        if (base != COMPAT) {
            r.cs.l = 1;
            r.cs.db = 0;
        }
        break;
    }
    return r;
}

/* One change to a base state: a field of a segment register, or a
 * register of its own. */
enum field {
    END, CR0, CR3, CR4, CR8, EFER, GDT_BASE, IDT_BASE,
    TYPE, S, DPL, P, L, DB, G, LIMIT, BASE, SELECTOR, UNUSABLE,
};
enum seg { CS, SS, DS, ES, FS, GS, TR, LDT, NSEG };

struct change {
    enum field field;
    enum seg seg;
    uint64_t value;
};

struct state_case {
    const char *name;
    enum base base;
    struct change changes[3];
    const char *refusal;           /* the rule it breaks; NULL: passes */
    const struct cpu_limits *cpu;  /* NULL: `limits` */
};

static struct hv_segment *seg_of(struct hv_sregs *r, enum seg seg)
{
    struct hv_segment *all[NSEG] = { &r->cs, &r->ss, &r->ds, &r->es,
                                     &r->fs, &r->gs, &r->tr, &r->ldt };
    return all[seg];
}

static void apply(struct hv_sregs *r, const struct change *c)
{
    struct hv_segment *s = seg_of(r, c->seg);
    uint8_t v8 = (uint8_t)c->value;
    switch (c->field) {
    case END: break;
    case CR0: r->cr0 = c->value; break;
    case CR3: r->cr3 = c->value; break;
    case CR4: r->cr4 = c->value; break;
    case CR8: r->cr8 = c->value; break;
    case EFER: r->efer = c->value; break;
    case GDT_BASE: r->gdt.base = c->value; break;
    case IDT_BASE: r->idt.base = c->value; break;
    case TYPE: s->type = v8; break;
    case S: s->s = v8; break;
    case DPL: s->dpl = v8; break;
    case P: s->present = v8; break;
    case L: s->l = v8; break;
    case DB: s->db = v8; break;
    case G: s->g = v8; break;
    case LIMIT: s->limit = (uint32_t)c->value; break;
    case BASE: s->base = c->value; break;
    case SELECTOR: s->selector = (uint16_t)c->value; break;
    case UNUSABLE: s->unusable = v8; break;
    }
}

#define NONCANONICAL 0x0000800000000000ull
#define CANONICAL_HIGH 0xffff800000000000ull
#define LA57_ONLY 0x00ff800000000000ull    /* canonical with 57 bits only */

static const struct state_case cases[] = {
    /* ---- states that must enter ---- */
    { "real mode after RESET", REAL, { { END } }, NULL },
    { "flat 32-bit", FLAT32, { { END } }, NULL },
    { "PAE paging", PAE32, { { END } }, NULL },
    { "64-bit kernel", LONG64, { { END } }, NULL },
    { "64-bit user", USER64, { { END } }, NULL },
    { "compatibility mode", COMPAT, { { END } }, NULL },
    { "16-bit protected mode", PROT16, { { END } }, NULL },
    { "real-mode CS typed as data", REAL, { { TYPE, CS, 3 } }, NULL },
    { "real-mode CS selector with low bits", REAL, { { SELECTOR, CS, 0x07c3 } }, NULL },
    { "null data segments in 64-bit mode", LONG64,
      { { UNUSABLE, DS, 1 }, { UNUSABLE, ES, 1 }, { UNUSABLE, SS, 1 } }, NULL },
    { "unusable FS ignores its other fields", FLAT32,
      { { UNUSABLE, FS, 1 }, { TYPE, FS, 0 }, { S, FS, 0 } }, NULL },
    { "unusable LDTR ignores its fields", FLAT32, { { TYPE, LDT, 0xff } }, NULL },
    { "usable LDTR", FLAT32,
      { { UNUSABLE, LDT, 0 }, { TYPE, LDT, 2 }, { P, LDT, 1 } }, NULL },
    { "expand-down stack", FLAT32, { { TYPE, SS, 7 } }, NULL },
    { "readable code in DS", FLAT32, { { TYPE, DS, 0xb } }, NULL },
    { "conforming CS below SS DPL", USER64,
      { { TYPE, CS, 0xf }, { DPL, CS, 0 } }, NULL },
    { "16-bit busy TSS outside IA-32e mode", FLAT32, { { TYPE, TR, 3 } }, NULL },
    { "TR limit in pages", FLAT32, { { G, TR, 1 }, { LIMIT, TR, 0xfffff } }, NULL },
    { "CS.L outside IA-32e mode", FLAT32, { { L, CS, 1 } }, NULL },
    { "LME with paging off", FLAT32, { { EFER, 0, EFER_LME } }, NULL },
    { "LMA given without LME is recomputed", FLAT32, { { EFER, 0, EFER_LMA } }, NULL },
    { "PCIDE in IA-32e mode", LONG64, { { CR4, 0, CR4_PAE | CR4_PCIDE } }, NULL,
      &limits_pcid },
    { "canonical high FS base", LONG64, { { BASE, FS, CANONICAL_HIGH } }, NULL },
    { "57-bit GS base on a CPU with LA57", LONG64, { { BASE, GS, LA57_ONLY } }, NULL,
      &limits_la57 },
    { "CR8 15", LONG64, { { CR8, 0, 15 } }, NULL },
    { "CR3 just below the physical width", LONG64, { { CR3, 0, (1ull << 40) - 4096 } }, NULL },
    { "OSXSAVE present", LONG64, { { CR4, 0, CR4_PAE | CR4_OSXSAVE } }, NULL },

    /* ---- control registers and EFER ---- */
    { "EFER.SVME is ours", LONG64, { { EFER, 0, EFER_LME | EFER_SVME } }, "EFER reserved bits" },
    { "EFER bit 20", LONG64, { { EFER, 0, EFER_LME | 1ull << 20 } }, "EFER reserved bits" },
    { "CR0 bit 7", FLAT32, { { CR0, 0, 0x91 } }, "CR0 reserved bits" },
    { "CR0 bit 40", FLAT32, { { CR0, 0, 0x11 | 1ull << 40 } }, "CR0 reserved bits" },
    { "PG without PE", LONG64, { { CR0, 0, 0x80010032 } }, "CR0.PG without CR0.PE" },
    { "NW without CD", FLAT32, { { CR0, 0, 0x20000011 } }, "CR0.NW without CR0.CD" },
    { "PCIDE on a CPU without it", LONG64, { { CR4, 0, CR4_PAE | CR4_PCIDE } },
      "CR4 bit the CPU lacks" },
    { "UMIP on a CPU without it", FLAT32, { { CR4, 0, 1ull << 11 } }, "CR4 bit the CPU lacks" },
    { "IA-32e mode without PAE", LONG64, { { CR4, 0, 0 } }, "IA-32e mode without CR4.PAE" },
    { "PCIDE in 32-bit paging", PAE32, { { CR4, 0, CR4_PAE | CR4_PCIDE } },
      "CR4.PCIDE outside IA-32e mode", &limits_pcid },
    { "PCIDE without paging", FLAT32, { { CR4, 0, CR4_PCIDE } },
      "CR4.PCIDE outside IA-32e mode", &limits_pcid },
    { "CET without WP", FLAT32, { { CR4, 0, CR4_CET } }, "CR4.CET without CR0.WP", &limits_pcid },
    { "CR3 at the physical width", LONG64, { { CR3, 0, 1ull << 40 } },
      "CR3 beyond the physical address width" },
    { "CR3 above 4 GiB outside IA-32e mode", PAE32, { { CR3, 0, 1ull << 32 } },
      "CR3 beyond the physical address width" },
    { "CR8 16", LONG64, { { CR8, 0, 16 } }, "CR8 above 15" },

    /* ---- CS ---- */
    { "CS unusable", FLAT32, { { UNUSABLE, CS, 1 } }, "CS unusable" },
    { "CS type out of range", FLAT32, { { TYPE, CS, 16 } }, "CS field out of range" },
    { "CS G of 2", FLAT32, { { G, CS, 2 } }, "CS field out of range" },
    { "CS a system descriptor", FLAT32, { { S, CS, 0 } }, "CS S clear" },
    { "CS not present", FLAT32, { { P, CS, 0 } }, "CS not present" },
    { "CS limit in pages without G", FLAT32, { { G, CS, 0 } }, "CS limit and G disagree" },
    { "CS G with a limit not ending in fff", PROT16, { { G, CS, 1 }, { LIMIT, CS, 0xfff0 } },
      "CS limit and G disagree" },
    { "CS not accessed", FLAT32, { { TYPE, CS, 0xa } }, "CS type" },
    { "CS writable data but not accessed", REAL, { { TYPE, CS, 2 } }, "CS type" },
    { "CS expand-down data", REAL, { { TYPE, CS, 7 } }, "CS type" },
    { "CS base above 4 GiB", LONG64, { { BASE, CS, 1ull << 32 } }, "CS base above 4 GiB" },
    { "CS as data at DPL 3", FLAT32,
      { { TYPE, CS, 3 }, { DPL, CS, 3 } }, "CS DPL not 0 with a data type" },
    { "non-conforming CS DPL above SS DPL", FLAT32,
      { { DPL, CS, 3 }, { SELECTOR, CS, 0x0b } }, "CS DPL differs from SS DPL" },
    { "conforming CS DPL above SS DPL", FLAT32,
      { { TYPE, CS, 0xf }, { DPL, CS, 2 }, { SELECTOR, CS, 0x0a } }, "CS DPL above SS DPL" },
    { "CS RPL 3 at DPL 0 in protected mode", FLAT32, { { SELECTOR, CS, 0x0b } },
      "CS RPL does not match its DPL" },
    { "conforming CS RPL below DPL", USER64,
      { { TYPE, CS, 0xf }, { SELECTOR, CS, 0x08 } }, "CS RPL does not match its DPL" },
    { "64-bit CS with D", LONG64, { { DB, CS, 1 } }, "CS L and D both set in IA-32e mode" },

    /* ---- SS ---- */
    { "SS DPL out of range while unusable", LONG64,
      { { UNUSABLE, SS, 1 }, { DPL, SS, 4 } }, "SS field out of range" },
    { "real mode at SS DPL 3", REAL, { { DPL, SS, 3 } }, "SS DPL not 0" },
    { "CS typed as data with SS DPL 3", FLAT32,
      { { TYPE, CS, 3 }, { DPL, SS, 3 } }, "SS DPL not 0" },
    { "SS code", FLAT32, { { TYPE, SS, 0xb } }, "SS type" },
    { "SS read-only", FLAT32, { { TYPE, SS, 1 } }, "SS type" },
    { "SS not accessed", FLAT32, { { TYPE, SS, 2 } }, "SS type" },
    { "SS system descriptor", FLAT32, { { S, SS, 0 } }, "SS S clear" },
    { "SS not present", FLAT32, { { P, SS, 0 } }, "SS not present" },
    { "SS limit and G", FLAT32, { { LIMIT, SS, 0xfff00000 } }, "SS limit and G disagree" },
    { "SS base above 4 GiB", LONG64, { { BASE, SS, 1ull << 33 } }, "SS base above 4 GiB" },

    /* ---- DS, ES, FS, GS ---- */
    { "GS a system descriptor", FLAT32, { { S, GS, 0 } }, "GS S clear" },
    { "DS not accessed", FLAT32, { { TYPE, DS, 2 } }, "DS type" },
    { "ES execute-only code", FLAT32, { { TYPE, ES, 9 } }, "ES type" },
    { "FS not present", FLAT32, { { P, FS, 0 } }, "FS not present" },
    { "GS limit and G", PROT16, { { LIMIT, GS, 0x100000 } }, "GS limit and G disagree" },
    { "DS base above 4 GiB", LONG64, { { BASE, DS, 1ull << 32 } }, "DS base" },
    { "FS base not canonical", LONG64, { { BASE, FS, NONCANONICAL } }, "FS base" },
    { "unusable GS base not canonical", LONG64,
      { { UNUSABLE, GS, 1 }, { BASE, GS, NONCANONICAL } }, "GS base" },
    { "57-bit GS base on a 48-bit CPU", LONG64, { { BASE, GS, LA57_ONLY } }, "GS base" },
    { "ES DPL out of range", FLAT32, { { DPL, ES, 4 } }, "ES field out of range" },

    /* ---- TR ---- */
    { "TR unusable", FLAT32, { { UNUSABLE, TR, 1 } }, "TR unusable" },
    { "TR a code or data descriptor", FLAT32, { { S, TR, 1 } }, "TR S set" },
    { "TR not present", FLAT32, { { P, TR, 0 } }, "TR not present" },
    { "TR available TSS", FLAT32, { { TYPE, TR, 9 } }, "TR type" },
    { "TR an LDT", FLAT32, { { TYPE, TR, 2 } }, "TR type" },
    { "16-bit TSS in IA-32e mode", LONG64, { { TYPE, TR, 3 } }, "TR type" },
    { "16-bit TSS in compatibility mode", COMPAT, { { TYPE, TR, 3 } }, "TR type" },
    { "TR selector in the LDT", FLAT32, { { SELECTOR, TR, 0x1c } }, "TR selector in the LDT" },
    { "TR base not canonical", LONG64, { { BASE, TR, NONCANONICAL } }, "TR base not canonical" },
    { "TR limit and G", FLAT32, { { G, TR, 1 } }, "TR limit and G disagree" },

    /* ---- LDTR, GDTR, IDTR ---- */
    { "LDTR a TSS", REAL, { { TYPE, LDT, 11 } }, "LDTR type" },
    { "LDTR S set", REAL, { { S, LDT, 1 } }, "LDTR S set" },
    { "LDTR not present", REAL, { { P, LDT, 0 } }, "LDTR not present" },
    { "LDTR selector in the LDT", REAL, { { SELECTOR, LDT, 4 } }, "LDTR selector in the LDT" },
    { "LDTR base not canonical", REAL, { { BASE, LDT, NONCANONICAL } },
      "LDTR base not canonical" },
    { "LDTR limit and G", REAL, { { G, LDT, 1 }, { LIMIT, LDT, 0x1000 } },
      "LDTR limit and G disagree" },
    { "GDTR base not canonical", LONG64, { { GDT_BASE, 0, NONCANONICAL } },
      "GDTR base not canonical" },
    { "IDTR base not canonical", LONG64, { { IDT_BASE, 0, NONCANONICAL } },
      "IDTR base not canonical" },
};

static void test_state_table(void **state)
{
    (void)state;
    unsigned failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct state_case *c = &cases[i];
        struct hv_sregs r = make(c->base);
        for (int k = 0; k < 3 && c->changes[k].field != END; k++)
            apply(&r, &c->changes[k]);
        const struct cpu_limits *cpu = c->cpu ? c->cpu : &limits;
        const char *got = sregs_refusal(&r, cpu);
        bool ok = c->refusal ? got && strncmp(got, c->refusal, strlen(c->refusal)) == 0
                             : got == NULL;
        if (!ok) {
            print_error("%s: expected %s, got %s\n", c->name,
                        c->refusal ? c->refusal : "no refusal", got ? got : "no refusal");
            failures++;
        }
        assert_int_equal(sregs_check(&r, cpu), c->refusal ? -HV_EINVAL : 0);
    }
    assert_int_equal(failures, 0);
}

static void test_pdptes(void **state)
{
    (void)state;
    uint64_t p[4] = { 0x1001, 0x2001, 0, 0x3001 };
    assert_true(pae_pdptes_valid(p, 40, PAE_PDPTE_RESERVED_VMX));
    p[2] = 0x6;                     /* not present: its bits do not matter */
    assert_true(pae_pdptes_valid(p, 40, PAE_PDPTE_RESERVED_VMX));
    static const uint64_t reserved[] = { 1ull << 1, 1ull << 2, 1ull << 5, 1ull << 8,
                                         1ull << 63, 1ull << 40 };
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        p[1] = 0x2001 | reserved[i];
        assert_false(pae_pdptes_valid(p, 40, PAE_PDPTE_RESERVED_VMX));
    }
    p[1] = 0x2001 | 1ull << 40;     /* inside a 52-bit width */
    assert_true(pae_pdptes_valid(p, 52, PAE_PDPTE_RESERVED_VMX));
    p[1] = 0x2001 | 1ull << 3 | 1ull << 4 | 1ull << 9; /* PWT, PCD, AVL */
    assert_true(pae_pdptes_valid(p, 40, PAE_PDPTE_RESERVED_VMX));
    /* AMD's: the accessed bit (5) is the CPU's own, bits 2:1 reserved. */
    p[1] = 0x2001 | 1ull << 5;
    assert_true(pae_pdptes_valid(p, 40, PAE_PDPTE_RESERVED_SVM));
    p[1] = 0x2001 | 1ull << 1;
    assert_false(pae_pdptes_valid(p, 40, PAE_PDPTE_RESERVED_SVM));
    p[1] = 0x2001 | 1ull << 63;
    assert_false(pae_pdptes_valid(p, 40, PAE_PDPTE_RESERVED_SVM));
}

static void test_pae_paging_mode(void **state)
{
    (void)state;
    struct hv_sregs r = make(PAE32);
    assert_true(sregs_pae_paging(&r));
    r = make(LONG64);
    assert_false(sregs_pae_paging(&r));
    r = make(FLAT32);
    r.cr4 = CR4_PAE;                /* PAE without paging: no PDPTEs */
    assert_false(sregs_pae_paging(&r));
}

static void test_restricted_rules(void **state)
{
    (void)state;
    struct hv_sregs r = make(USER64);
    assert_null(sregs_restricted_refusal(&r));
    r.cs.type = 3;
    assert_string_equal(sregs_restricted_refusal(&r), "CS type");
    r = make(USER64);
    r.ss.selector = 0x10;
    assert_string_equal(sregs_restricted_refusal(&r), "SS RPL differs from CS RPL");
    r = make(USER64);
    r.ss.dpl = 0;
    assert_string_equal(sregs_restricted_refusal(&r), "SS DPL differs from its RPL");
    r = make(FLAT32);
    r.ds.selector = 0x13;
    assert_string_equal(sregs_restricted_refusal(&r), "data segment DPL below its RPL");
    r.ds.type = 0xf;                /* conforming code: no such rule */
    assert_null(sregs_restricted_refusal(&r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_table),
        cmocka_unit_test(test_pdptes),
        cmocka_unit_test(test_pae_paging_mode),
        cmocka_unit_test(test_restricted_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
