/*
 * A seeded sweep of SET_SREGS states: each valid base state (real mode,
 * 16-bit and flat 32-bit protected mode, 32-bit and PAE paging, 64-bit
 * kernel and user, compatibility mode) with up to three random changes to
 * segment fields, control registers, EFER and descriptor tables. Every
 * state SET_SREGS accepts must enter: RUN ends in anything but
 * HV_EXIT_FAIL_ENTRY (the guest halting, faulting to a shutdown, leaving
 * its memory are all fine), and the state the CPU saves afterwards is
 * accepted again. Which states are accepted does not depend on the
 * backend: the test prints a digest of the decisions as an info line,
 * which the system tests compare between the SVM and VMX runs.
 *
 * The guest's memory makes any state end quickly: code is a sea of HLT
 * (at CPL 0 an exit, elsewhere a #GP), page tables of every format map
 * the first 2 MiB, and an IDT only ever holds invalid gates (zeros or HLT
 * bytes), so that an exception in protected mode is a triple fault and in
 * real mode lands in the HLTs. The choices keep clear of the emulators'
 * defects (README, known limits): no state runs with EFER.LME set and
 * paging off (QEMU), and a real-mode CS typed as code has an RPL equal to
 * its DPL (Bochs applies the pre-unrestricted-guest CS rule there too).
 */
#include <stdbool.h>

#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/runtime/string.h"
#include "guest-tools/tools/hvtest.h"

#define SWEEP_SEED   0x5eed0013c0ffee11ul
#define SWEEP_STATES 3000u

/* Guest-physical layout (2 MiB of RAM). */
#define GDT_GPA      0x1000u          /* flat descriptors, hvt_guest_flat32's */
#define ZERO_GPA     0x2000u          /* a page of zeros: an IDT of null gates */
#define PD32_GPA     0x3000u          /* 32-bit paging: directory and table */
#define PT32_GPA     0x4000u
#define PDPT_PAE_GPA 0x5000u          /* PAE: pointers, then the directory */
#define PD_GPA       0x6000u          /* shared with 4-level paging */
#define PML4_GPA     0x7000u
#define PDPT64_GPA   0x8000u
#define STACK_TOP    0xf000u
#define SLED_GPA     0x10000u         /* HLT bytes to the end of RAM */
#define CODE_MAX     0xe0000u         /* RIP below; CS bases below 0x100000 */
#define NONCANONICAL 0x0000800000000000ull
#define HIGH_HALF    0xffff800000000000ull
#define PTE_PRESENT_RW_USER 0x7ull
#define PTE_LARGE   0x80ull
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define CR0_PE 1ull
#define CR0_PG (1ull << 31)

static uint64_t sweep_state;

static uint64_t next_random(void)
{
    /* xorshift64*: reproducible from the seed, on any backend. */
    sweep_state ^= sweep_state >> 12;
    sweep_state ^= sweep_state << 25;
    sweep_state ^= sweep_state >> 27;
    return sweep_state * 0x2545f4914f6cdd1dull;
}

static unsigned pick(unsigned n) { return (unsigned)(next_random() % n); }

static void put64(struct vm_instance *vm, uint32_t gpa, uint64_t v) { memcpy(vm->ram + gpa, &v, 8); }

/* The tables' upper levels, written again before each state: a walk sets
 * accessed bits in them, also a walk through a table of another format
 * (CR3 chosen at random), and a PDPTE with the accessed bit (5) set is
 * refused on VMX only (hv/sregs_check.h), which would make the decisions
 * depend on the backend. */
static void reset_tables(struct vm_instance *vm)
{
    put64(vm, PD32_GPA, PT32_GPA | PTE_PRESENT_RW_USER);
    put64(vm, PDPT_PAE_GPA, PD_GPA | 1);          /* PDPTEs: present bit only */
    put64(vm, PD_GPA, 0 | PTE_PRESENT_RW_USER | PTE_LARGE);
    put64(vm, PML4_GPA, PDPT64_GPA | PTE_PRESENT_RW_USER);
    put64(vm, PDPT64_GPA, PD_GPA | PTE_PRESENT_RW_USER);
}

/* The sled, the null IDT and identity maps of the first 2 MiB in every
 * paging format (32-bit, PAE, 4-level), user-accessible. */
static void build_memory(struct vm_instance *vm)
{
    memset(vm->ram, 0xf4, 0x1000);                /* real-mode vectors F4F4:F4F4 */
    memset(vm->ram + ZERO_GPA, 0, STACK_TOP - ZERO_GPA);
    memset(vm->ram + SLED_GPA, 0xf4, vm->ram_size - SLED_GPA);
    for (uint32_t i = 0; i < 512; i++) {
        uint32_t pte = i * 4096 | PTE_PRESENT_RW_USER;
        memcpy(vm->ram + PT32_GPA + i * 4, &pte, 4);
    }
    reset_tables(vm);
}

enum base { REAL, PROT16, FLAT32, PAGED32, PAE32, LONG64, USER64, COMPAT, BASES };

static void base_state(struct hv_sregs *s, enum base base)
{
    hvt_sregs_flat32(s);
    s->idt.base = ZERO_GPA;
    s->idt.limit = 0x7ff;
    unsigned cpl = base == USER64 ? 3 : 0;
    struct hv_segment *data[5] = { &s->ds, &s->es, &s->fs, &s->gs, &s->ss };
    for (int i = 0; i < 5; i++) {
        data[i]->dpl = (uint8_t)cpl;
        data[i]->selector |= (uint16_t)cpl;
    }
    s->cs.dpl = (uint8_t)cpl;
    s->cs.selector |= (uint16_t)cpl;
    if (base == REAL || base == PROT16) {
        struct hv_segment *all[6] = { &s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss };
        for (int i = 0; i < 6; i++) {
            all[i]->limit = 0xffff;
            all[i]->g = all[i]->db = 0;
        }
        /* A code base in the sled: 16-bit IPs land in it. */
        s->cs.base = base == REAL ? 0xf0000 : SLED_GPA;
        if (base == REAL) {
            s->cr0 = 0x60000010;
            s->cs.selector = 0xf000;
        }
    }
    if (base == PAGED32 || base == PAE32)
        s->cr0 |= CR0_PG;
    if (base == PAGED32)
        s->cr3 = PD32_GPA;
    if (base == PAE32) {
        s->cr4 = 1ull << 5;
        s->cr3 = PDPT_PAE_GPA;
    }
    if (base == LONG64 || base == USER64 || base == COMPAT) {
        s->cr0 |= CR0_PG | (1ull << 16);
        s->cr4 = 1ull << 5;
        s->cr3 = PML4_GPA;
        s->efer = EFER_LME | EFER_LMA;
        s->cs.l = base != COMPAT;
        s->cs.db = base == COMPAT;
    }
}

/* One random change. Values come from small pools around the edges the
 * rules care about; CR4 bits are those both emulators' CPUs have (QEMU's
 * EPYC lacks VME and PVI, both lack PCID, UMIP and LA57), CR3 values are
 * valid or beyond every physical width, so that the decisions do not
 * depend on the CPU model. */
static void mutate(struct hv_sregs *s)
{
    static const uint32_t limits[] = { 0, 0x67, 0xffff, 0xfffff, 0x100fff, 0xffffffff, 0x1000 };
    static const uint64_t bases[] = { 0, 0x10000, 0xf0000, 1ull << 32, NONCANONICAL, HIGH_HALF };
    static const unsigned cr0_bits[] = { 0, 1, 2, 3, 5, 7, 16, 18, 29, 30, 31 };
    static const unsigned cr4_bits[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 18, 20, 21 };
    static const unsigned efer_bits[] = { 0, 1, 8, 10, 11 };
    static const uint64_t cr3s[] = { PD32_GPA, PDPT_PAE_GPA, PML4_GPA, PDPT_PAE_GPA + 0x20,
                                     1ull << 52, 0x100000000ull };
    static const uint64_t table_bases[] = { ZERO_GPA, SLED_GPA + 0x4000, GDT_GPA, 0x40000000,
                                            NONCANONICAL, HIGH_HALF };
    struct hv_segment *segs[8] = { &s->cs, &s->ss, &s->ds, &s->es, &s->fs, &s->gs,
                                   &s->tr, &s->ldt };
    unsigned what = pick(20);
    if (what < 11) {
        struct hv_segment *g = segs[pick(8)];
        switch (what) {
        case 0: g->type = (uint8_t)pick(17); break;
        case 1: g->s ^= 1; break;
        case 2: g->dpl = (uint8_t)pick(4); break;
        case 3: g->present ^= 1; break;
        case 4: g->l ^= 1; break;
        case 5: g->db ^= 1; break;
        case 6: g->g ^= 1; break;
        case 7: g->limit = limits[pick(7)]; break;
        case 8: g->base = bases[pick(6)]; break;
        case 9: g->selector = (uint16_t)next_random(); break;
        default: g->unusable ^= 1; break;
        }
        return;
    }
    switch (what) {
    case 11: case 12: s->cr0 ^= 1ull << cr0_bits[pick(11)]; break;
    case 13: case 14: s->cr4 ^= 1ull << cr4_bits[pick(13)]; break;
    case 15: s->efer ^= 1ull << efer_bits[pick(5)]; break;
    case 16: s->cr3 = cr3s[pick(6)]; break;
    case 17: s->cr8 = pick(17); break;
    case 18: s->gdt.base = table_bases[pick(6)]; s->gdt.limit = (uint16_t)next_random(); break;
    default: s->idt.base = table_bases[pick(6)]; s->idt.limit = (uint16_t)next_random(); break;
    }
}

/* Bochs' VMX refuses a real-mode CS typed as code whose RPL is not its
 * DPL (the rule of the SDM before unrestricted guest); hardware with
 * unrestricted guest takes it. A harness workaround, not the
 * hypervisor's: such states are left out. */
static void avoid_emulator_defects(struct hv_sregs *s)
{
    if (!(s->cr0 & CR0_PE) && (s->cs.type & 8))
        s->cs.selector = (uint16_t)((s->cs.selector & ~3u) | (s->cs.dpl & 3));
}

struct sweep_counts {
    unsigned accepted, entered, refused;
    uint64_t digest;
};

/* A RIP whose linear address is in the sled: any 16-bit IP above a CS
 * base in it, else an address in it (64-bit mode ignores the base). */
static uint64_t sled_rip(const struct hv_sregs *s)
{
    bool mode64 = (s->efer & EFER_LME) && (s->cr0 & CR0_PG) && s->cs.l;
    if (!mode64 && s->cs.base >= SLED_GPA)
        return next_random() & 0xffff;
    return SLED_GPA + (next_random() % (CODE_MAX - SLED_GPA));
}

/* The first field where the state saved after RUN differs from the one
 * set, for a failure message. */
static const char *first_difference(const struct hv_sregs *a, const struct hv_sregs *b,
                                    char *buf, unsigned size)
{
    static const char *const names[8] = { "cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt" };
    const struct hv_segment *sa = &a->cs, *sb = &b->cs;
    for (int i = 0; i < 8; i++, sa++, sb++) {
        if (memcmp(sa, sb, sizeof(*sa)) != 0) {
            snprintf(buf, size, "%s: sel 0x%x base 0x%lx limit 0x%x type %u s %u dpl %u "
                     "p %u l %u db %u g %u unusable %u", names[i], sb->selector, sb->base,
                     sb->limit, sb->type, sb->s, sb->dpl, sb->present, sb->l, sb->db, sb->g,
                     sb->unusable);
            return buf;
        }
    }
    snprintf(buf, size, "cr0 0x%lx cr3 0x%lx cr4 0x%lx efer 0x%lx gdt 0x%lx idt 0x%lx",
             b->cr0, b->cr3, b->cr4, b->efer, b->gdt.base, b->idt.base);
    return buf;
}

/* Runs one accepted state once; 0 (the test failed) on a failed entry. */
static int run_accepted(struct vm_instance *vm, const struct hv_sregs *s, unsigned n)
{
    struct hv_regs regs;
    struct hv_sregs saved;

    memset(&regs, 0, sizeof(regs));
    regs.rip = sled_rip(s);
    regs.rsp = STACK_TOP;
    regs.rflags = 0x2;
    if (!hvt_ok(hv_set_regs(vm->vcpu, &regs), "SET_REGS") || !hvt_run(vm))
        return 0;
    uint32_t exit = vm->run->exit_reason;
    if (exit == HV_EXIT_FAIL_ENTRY) {
        hvt_fail("state %u entered with HV_EXIT_FAIL_ENTRY (reason 0x%lx): cr0 0x%lx "
                 "cr4 0x%lx efer 0x%lx cs %u/%u/%u sel 0x%x ss %u/%u tr %u/%u", n,
                 vm->run->fail_entry.hardware_entry_failure_reason, s->cr0, s->cr4, s->efer,
                 s->cs.type, s->cs.dpl, s->cs.l, s->cs.selector, s->ss.type, s->ss.dpl,
                 s->tr.type, s->tr.s);
        return 0;
    }
    if (exit == HV_EXIT_SHUTDOWN)
        return 1;                        /* the state a triple fault left is undefined */
    /* What the CPU saved is a state it can enter again. */
    if (!hvt_ok(hv_get_sregs(vm->vcpu, &saved), "GET_SREGS after RUN"))
        return 0;
    long rc = hv_set_sregs(vm->vcpu, &saved);
    if (rc != 0) {
        char diff[160];
        hvt_fail("state %u: SET_SREGS of the state saved after exit %s refused (%ld); "
                 "first change: %s", n, hvt_exit_name(exit), rc,
                 first_difference(s, &saved, diff, sizeof(diff)));
        return 0;
    }
    return 1;
}

static void sregs_sweep_accepted_states_enter(void)
{
    struct vm_instance vm;
    struct hv_sregs s;
    struct sweep_counts c = { 0, 0, 0, 0xcbf29ce484222325ull };

    if (hvt_guest_create(&vm, "hvtest") < 0 || hvt_guest_flat32(&vm, SLED_GPA) < 0)
        return;
    build_memory(&vm);
    sweep_state = SWEEP_SEED;
    for (unsigned n = 0; n < SWEEP_STATES; n++) {
        base_state(&s, (enum base)pick(BASES));
        for (unsigned k = pick(4); k > 0; k--)
            mutate(&s);
        avoid_emulator_defects(&s);
        reset_tables(&vm);
        long rc = hv_set_sregs(vm.vcpu, &s);
        if (rc != 0 && rc != -HV_EINVAL) {
            hvt_fail("state %u: SET_SREGS expected success or HV_EINVAL, got %ld", n, rc);
            return;
        }
        c.digest = (c.digest ^ (rc == 0)) * 0x100000001b3ull;  /* FNV-1a of the decisions */
        if (rc != 0) {
            c.refused++;
            continue;
        }
        c.accepted++;
        /* QEMU's SVM loses the control domain after a child exits with
         * LME set and paging off: such states are only set, not run. */
        if ((s.efer & EFER_LME) && !(s.cr0 & CR0_PG))
            continue;
        c.entered++;
        if (!run_accepted(&vm, &s, n))
            return;
    }
    ctl_printf("hvtest: info sregs sweep: seed 0x%lx, %u states, %u accepted (%u run), "
               "%u refused, decisions digest 0x%lx\n", SWEEP_SEED, SWEEP_STATES, c.accepted,
               c.entered, c.refused, c.digest);
    /* A generator gone wrong would test nothing. */
    hvt_true(c.entered >= SWEEP_STATES / 10 && c.refused >= SWEEP_STATES / 10,
             "the sweep both ran and refused at least a tenth of its states");
}

const struct hvtest_case hvtest_sregs_sweep_cases[] = {
    { "sregs_sweep_accepted_states_enter", sregs_sweep_accepted_states_enter },
    { NULL, NULL },
};
