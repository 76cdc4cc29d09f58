/*
 * vcpu state: the reset state CREATE_VCPU documents, SET_REGS/GET_REGS and
 * SET_SREGS/GET_SREGS round trips (32-bit protected mode and 64-bit long
 * mode), and the states SET_SREGS must refuse without changing anything.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_NW (1ull << 29)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static const char *const reg_names[18] = {
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9",
    "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
};

/* A VM with vcpu 0 and no memory (state calls need none). */
static long new_vcpu(void)
{
    long vm = hvt_keep(hv_create_vm(hvt_sys()));

    if (!hvt_ok(vm, "CREATE_VM"))
        return -1;
    return hvt_keep(hv_create_vcpu(vm, 0, page_alloc(HV_RUN_PAGE_SIZE)));
}

static void create_vcpu_starts_in_reset_state(void)
{
    struct hv_regs regs;
    struct hv_sregs sregs;
    long vcpu = new_vcpu();

    if (!hvt_ok(vcpu, "CREATE_VCPU") ||
        !hvt_err(hv_get_regs(vcpu, &regs), 0, "GET_REGS") ||
        !hvt_err(hv_get_sregs(vcpu, &sregs), 0, "GET_SREGS"))
        return;
    if (!hvt_eq(regs.rip, 0xfff0, "reset RIP") ||
        !hvt_eq(regs.rflags, 0x2, "reset RFLAGS") ||
        !hvt_eq(sregs.cs.selector, 0xf000, "reset CS selector") ||
        !hvt_eq(sregs.cs.base, 0xffff0000, "reset CS base") ||
        !hvt_eq(sregs.cr0, 0x60000010, "reset CR0"))
        return;
    /* Real mode: no protection, no paging, no long mode. */
    hvt_eq(sregs.efer & EFER_LMA, 0, "reset EFER.LMA");
}

/* 18 distinct values, none of them all-ones or zero. */
static void fill_regs(struct hv_regs *regs, uint64_t seed)
{
    uint64_t *r = (uint64_t *)regs;

    for (unsigned i = 0; i < 18; i++)
        r[i] = seed * (i + 1) ^ ((uint64_t)(i + 1) << 56);
}

static int regs_match(const struct hv_regs *got, const struct hv_regs *want,
                      const char *what)
{
    const uint64_t *g = (const uint64_t *)got, *w = (const uint64_t *)want;
    char name[64];

    for (unsigned i = 0; i < 18; i++) {
        snprintf(name, sizeof(name), "%s %s", what, reg_names[i]);
        if (!hvt_eq(g[i], w[i], name))
            return 0;
    }
    return 1;
}

static void set_regs_get_regs_round_trip(void)
{
    struct hv_regs set, got;
    long vcpu = new_vcpu();

    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    fill_regs(&set, 0x0123456789abcdefull);
    set.rip = 0x123456789aull;
    /* Arithmetic flags, IF and DF: all architecturally settable. */
    set.rflags = 0x8d7 | 0x200 | 0x400;
    if (!hvt_err(hv_set_regs(vcpu, &set), 0, "SET_REGS"))
        return;
    memset(&got, 0xa5, sizeof(got));
    if (!hvt_err(hv_get_regs(vcpu, &got), 0, "GET_REGS"))
        return;
    if (!regs_match(&got, &set, "GET_REGS after SET_REGS"))
        return;
    /* A second, different set replaces every field. */
    fill_regs(&set, 0xfedcba9876543210ull);
    set.rip = 0x4000;
    set.rflags = 0x2;
    if (!hvt_err(hv_set_regs(vcpu, &set), 0, "second SET_REGS") ||
        !hvt_err(hv_get_regs(vcpu, &got), 0, "second GET_REGS"))
        return;
    regs_match(&got, &set, "GET_REGS after the second SET_REGS");
}

static void set_regs_forces_rflags_bit1(void)
{
    struct hv_regs regs;
    long vcpu = new_vcpu();

    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    memset(&regs, 0, sizeof(regs));
    regs.rflags = 0;
    if (!hvt_err(hv_set_regs(vcpu, &regs), 0, "SET_REGS with RFLAGS 0") ||
        !hvt_err(hv_get_regs(vcpu, &regs), 0, "GET_REGS") ||
        !hvt_eq(regs.rflags, 0x2, "RFLAGS after SET_REGS with RFLAGS 0"))
        return;
    regs.rflags = 0x1;                /* CF only */
    if (!hvt_err(hv_set_regs(vcpu, &regs), 0, "SET_REGS with RFLAGS 1") ||
        !hvt_err(hv_get_regs(vcpu, &regs), 0, "GET_REGS"))
        return;
    hvt_eq(regs.rflags, 0x3, "RFLAGS after SET_REGS with RFLAGS 1");
}

static int field_eq(const char *segment, const char *field, uint64_t got,
                    uint64_t want)
{
    char what[64];

    snprintf(what, sizeof(what), "%s.%s", segment, field);
    return hvt_eq(got, want, what);
}

/* A usable segment round-trips every field; an unusable one only says so. */
static int segment_match(const struct hv_segment *got, const struct hv_segment *want,
                         const char *name)
{
    if (want->unusable)
        return field_eq(name, "unusable", got->unusable, 1);
    return field_eq(name, "base", got->base, want->base) &&
           field_eq(name, "limit", got->limit, want->limit) &&
           field_eq(name, "selector", got->selector, want->selector) &&
           field_eq(name, "type", got->type, want->type) &&
           field_eq(name, "present", got->present, want->present) &&
           field_eq(name, "dpl", got->dpl, want->dpl) &&
           field_eq(name, "db", got->db, want->db) &&
           field_eq(name, "s", got->s, want->s) &&
           field_eq(name, "l", got->l, want->l) &&
           field_eq(name, "g", got->g, want->g) &&
           field_eq(name, "avl", got->avl, want->avl) &&
           field_eq(name, "unusable", got->unusable, 0);
}

static int sregs_match(const struct hv_sregs *got, const struct hv_sregs *want)
{
    return segment_match(&got->cs, &want->cs, "cs") &&
           segment_match(&got->ds, &want->ds, "ds") &&
           segment_match(&got->es, &want->es, "es") &&
           segment_match(&got->fs, &want->fs, "fs") &&
           segment_match(&got->gs, &want->gs, "gs") &&
           segment_match(&got->ss, &want->ss, "ss") &&
           segment_match(&got->tr, &want->tr, "tr") &&
           segment_match(&got->ldt, &want->ldt, "ldt") &&
           hvt_eq(got->gdt.base, want->gdt.base, "gdt.base") &&
           hvt_eq(got->gdt.limit, want->gdt.limit, "gdt.limit") &&
           hvt_eq(got->idt.base, want->idt.base, "idt.base") &&
           hvt_eq(got->idt.limit, want->idt.limit, "idt.limit") &&
           hvt_eq(got->cr0, want->cr0, "cr0") && hvt_eq(got->cr2, want->cr2, "cr2") &&
           hvt_eq(got->cr3, want->cr3, "cr3") && hvt_eq(got->cr4, want->cr4, "cr4") &&
           hvt_eq(got->cr8, want->cr8, "cr8") && hvt_eq(got->efer, want->efer, "efer");
}

static void sregs_round_trip(const struct hv_sregs *set)
{
    struct hv_sregs got;
    long vcpu = new_vcpu();

    if (!hvt_ok(vcpu, "CREATE_VCPU") ||
        !hvt_err(hv_set_sregs(vcpu, set), 0, "SET_SREGS"))
        return;
    memset(&got, 0xa5, sizeof(got));
    if (!hvt_err(hv_get_sregs(vcpu, &got), 0, "GET_SREGS"))
        return;
    sregs_match(&got, set);
}

/* Flat 32-bit protected mode with distinct bases, selectors and tables. */
static void protected_mode_sregs(struct hv_sregs *s)
{
    hvt_sregs_flat32(s);
    s->fs.selector = 0x18;
    s->fs.base = 0x7000;
    s->fs.avl = 1;
    s->gs.selector = 0x20;
    s->gs.base = 0x12345000;
    s->tr.selector = 0x28;
    s->tr.base = 0x3000;
    s->gdt.base = 0x1000;
    s->gdt.limit = 0x2f;
    s->idt.base = 0x2000;
    s->idt.limit = 0x7ff;
    s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
    s->cr2 = 0xdeadb000;
    s->cr3 = 0x9000;
    s->cr4 = CR4_PSE;
    s->cr8 = 5;
    s->efer = EFER_NXE;
}

static void set_sregs_round_trip_protected_mode(void)
{
    struct hv_sregs s;

    protected_mode_sregs(&s);
    sregs_round_trip(&s);
}

/* 64-bit long mode: L code segment, PAE paging, LME and LMA, 64-bit bases. */
static void long_mode_sregs(struct hv_sregs *s)
{
    hvt_sregs_flat32(s);
    s->cs.l = 1;
    s->cs.db = 0;
    s->fs.base = 0xffff800000001000ull;
    s->gs.base = 0x00007fffdeadb000ull;
    s->tr.base = 0xffff800000003000ull;
    s->gdt.base = 0xffff800000002000ull;
    s->gdt.limit = 0x3f;
    s->idt.base = 0xffff800000004000ull;
    s->idt.limit = 0xfff;
    s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    s->cr2 = 0xffff800000badf00ull;
    s->cr3 = 0x5000;
    s->cr4 = CR4_PAE | CR4_PGE;
    s->cr8 = 0xf;
    s->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
}

static void set_sregs_round_trip_long_mode(void)
{
    struct hv_sregs s;

    long_mode_sregs(&s);
    sregs_round_trip(&s);
}

static void set_sregs_ignores_apic_base(void)
{
    struct hv_sregs s;

    protected_mode_sregs(&s);
    s.apic_base = 0xdead0000beefull;
    sregs_round_trip(&s);
}

/* Each state SET_SREGS must refuse, with what makes it invalid. */
struct bad_state {
    const char *what;
    int long_mode;              /* start from the long-mode state */
    uint64_t cr0_set, cr4_set, efer_set, cr4_clear, cr0_clear;
};

static const struct bad_state bad_states[] = {
    { "EFER reserved bit 2", 0, 0, 0, 1ull << 2, 0, 0 },
    { "EFER reserved bit 20", 0, 0, 0, 1ull << 20, 0, 0 },
    { "EFER reserved bit 63", 0, 0, 0, 1ull << 63, 0, 0 },
    { "EFER.LME with CR0.PG but no CR4.PAE", 1, 0, 0, 0, CR4_PAE, 0 },
    { "CR0.PG without CR0.PE", 0, CR0_PG, 0, 0, 0, CR0_PE },
    { "CR0.NW without CR0.CD (VMRUN refuses it)", 0, CR0_NW, 0, 0, 0, 0 },
    { "CR4 bit 31 (reserved)", 0, 0, 1ull << 31, 0, 0, 0 },
    { "CR4 bit 40 (reserved)", 0, 0, 1ull << 40, 0, 0, 0 },
    { "CR0 bit 32 (reserved)", 0, 1ull << 32, 0, 0, 0, 0 },
    { "CR0 bit 63 (reserved)", 0, 1ull << 63, 0, 0, 0, 0 },
};

static void set_sregs_rejects_invalid_states(void)
{
    struct hv_sregs good, bad, got;
    char what[96];
    long vcpu = new_vcpu();

    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    protected_mode_sregs(&good);
    if (!hvt_err(hv_set_sregs(vcpu, &good), 0, "SET_SREGS of a valid state"))
        return;
    for (unsigned i = 0; i < sizeof(bad_states) / sizeof(bad_states[0]); i++) {
        const struct bad_state *b = &bad_states[i];

        if (b->long_mode)
            long_mode_sregs(&bad);
        else
            protected_mode_sregs(&bad);
        bad.cr0 = (bad.cr0 | b->cr0_set) & ~b->cr0_clear;
        bad.cr4 = (bad.cr4 | b->cr4_set) & ~b->cr4_clear;
        bad.efer |= b->efer_set;
        snprintf(what, sizeof(what), "SET_SREGS with %s", b->what);
        if (!hvt_err(hv_set_sregs(vcpu, &bad), -HV_EINVAL, what))
            return;
        /* Refused means nothing changed. */
        snprintf(what, sizeof(what), "GET_SREGS after refused %s", b->what);
        if (!hvt_err(hv_get_sregs(vcpu, &got), 0, what) || !sregs_match(&got, &good))
            return;
    }
}

/* CR4 bits of features a current x86-64 CPU may lack: leaf, register
 * (0-3 for EAX..EDX) and bit of the feature, as the control domain sees
 * CPUID. (Bits of features every x86-64 CPU has are left out.) */
static const struct {
    const char *name;
    unsigned cr4_bit, leaf, reg, bit;
} cr4_features[] = {
    { "UMIP", 11, 7, 2, 2 }, { "LA57", 12, 7, 2, 16 }, { "VMXE", 13, 1, 2, 5 },
    { "SMXE", 14, 1, 2, 6 }, { "FSGSBASE", 16, 7, 1, 0 }, { "PCIDE", 17, 1, 2, 17 },
    { "OSXSAVE", 18, 1, 2, 26 }, { "SMEP", 20, 7, 1, 7 }, { "SMAP", 21, 7, 1, 20 },
    { "PKE", 22, 7, 2, 3 }, { "CET", 23, 7, 2, 7 }, { "PKS", 24, 7, 2, 31 },
};

static uint32_t cpuid_reg(uint32_t leaf, unsigned reg)
{
    uint32_t r[4];

    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(0));
    return r[reg];
}

/* "CR4 bits the CPU lacks": each bit whose CPUID feature is absent must be
 * refused, leaving CR4 as it was. Names every bit that was not. */
static void set_sregs_rejects_cr4_bits_cpu_lacks(void)
{
    uint32_t max_leaf = cpuid_reg(0, 0);
    struct hv_sregs good, bad, got;
    char accepted[160] = "";
    unsigned used = 0, lacking = 0;
    long vcpu = new_vcpu(), rc;

    protected_mode_sregs(&good);
    if (!hvt_ok(vcpu, "CREATE_VCPU") ||
        !hvt_err(hv_set_sregs(vcpu, &good), 0, "SET_SREGS of a valid state"))
        return;
    for (unsigned i = 0; i < sizeof(cr4_features) / sizeof(cr4_features[0]); i++) {
        unsigned leaf = cr4_features[i].leaf;

        if (leaf <= max_leaf &&
            (cpuid_reg(leaf, cr4_features[i].reg) >> cr4_features[i].bit) & 1)
            continue;                  /* the CPU has it */
        lacking++;
        bad = good;
        bad.cr4 |= 1ull << cr4_features[i].cr4_bit;
        rc = hv_set_sregs(vcpu, &bad);
        if (rc == -HV_EINVAL)
            continue;
        used += (unsigned)snprintf(accepted + used, sizeof(accepted) - used, " %s (%s)",
                                   cr4_features[i].name, hv_strerror(rc));
        if (used >= sizeof(accepted))
            used = sizeof(accepted) - 1;
        /* Put the valid state back for the next bit. */
        if (!hvt_err(hv_set_sregs(vcpu, &good), 0, "SET_SREGS of the valid state"))
            return;
    }
    if (accepted[0] != '\0') {
        hvt_fail("SET_SREGS with CR4 bits whose CPUID feature is absent: expected "
                 "HV_EINVAL, got:%s", accepted);
        return;
    }
    if (hvt_err(hv_get_sregs(vcpu, &got), 0, "GET_SREGS") &&
        hvt_eq(got.cr4, good.cr4, "CR4 after the refused SET_SREGS"))
        hvt_true(lacking > 0, "CPUID reports every CR4 feature: nothing to check");
}

/* Every defined RFLAGS bit but VM can be set and read back; VM (bit 17)
 * is cleared, as abi/README.md says: no virtual-8086 mode. */
static void set_regs_round_trips_defined_rflags(void)
{
    /* CF PF AF ZF SF TF IF DF OF IOPL NT RF AC VIF VIP ID, and bit 1. */
    static const uint64_t defined = 0x3d7fd7;
    struct hv_regs regs;
    long vcpu = new_vcpu();

    if (!hvt_ok(vcpu, "CREATE_VCPU"))
        return;
    memset(&regs, 0, sizeof(regs));
    regs.rflags = defined | (1u << 17);
    if (hvt_err(hv_set_regs(vcpu, &regs), 0, "SET_REGS with every defined flag") &&
        hvt_err(hv_get_regs(vcpu, &regs), 0, "GET_REGS"))
        hvt_eq(regs.rflags, defined, "RFLAGS with every defined flag set");
}

const struct hvtest_case hvtest_state_cases[] = {
    { "create_vcpu_starts_in_reset_state", create_vcpu_starts_in_reset_state },
    { "set_regs_get_regs_round_trip", set_regs_get_regs_round_trip },
    { "set_regs_forces_rflags_bit1", set_regs_forces_rflags_bit1 },
    { "set_sregs_round_trip_protected_mode", set_sregs_round_trip_protected_mode },
    { "set_sregs_round_trip_long_mode", set_sregs_round_trip_long_mode },
    { "set_sregs_ignores_apic_base", set_sregs_ignores_apic_base },
    { "set_sregs_rejects_invalid_states", set_sregs_rejects_invalid_states },
    { "set_sregs_rejects_cr4_bits_cpu_lacks", set_sregs_rejects_cr4_bits_cpu_lacks },
    { "set_regs_round_trips_defined_rflags", set_regs_round_trips_defined_rflags },
    { NULL, NULL },
};
