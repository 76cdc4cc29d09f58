/*
 * pc_task_switch: hardware task switches (SDM vol. 3A, 7.3) of a 32-bit
 * protected-mode guest, each way a task can be entered: a JMP to a TSS
 * and back, a CALL through a task gate in the GDT returned from with
 * IRET, INT n through a task gate in the IDT, an exception (#GP) whose
 * error code lands on the new task's stack, a device interrupt (a
 * self-IPI) and an NMI, each through a task gate, and a JMP to a 16-bit
 * TSS and back. Every switch is checked
 * as the SDM has it: the new task's registers from its TSS, the old
 * task's saved into its own with EIP where it resumes, the busy bits, the
 * back link and NT, CR0.TS; an NMI task keeps NMIs blocked until its
 * IRET. On VMX the CPU leaves each switch to the hypervisor, which leaves
 * it to the VMM (guest-tools/vmm/pc/task_switch.c); SVM CPUs switch
 * tasks themselves; plain QEMU is the reference.
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"
#include "guest-tools/guests/lib/lapic.h"
#include "guest-tools/guests/lib/timing.h"

/* GDT: the library's five entries, then these. */
#define SEL_TSS_MAIN 0x28
#define SEL_TSS_A    0x30
#define SEL_TSS_B    0x38
#define SEL_GATE_B   0x40   /* a task gate to TSS_B */
#define SEL_TSS_INT  0x48
#define SEL_TSS_GP   0x50
#define SEL_TSS_IRQ  0x58
#define SEL_TSS_NMI  0x60
#define SEL_TSS16    0x68   /* a 16-bit TSS */
#define SEL_CODE_LOW 0x70   /* 32-bit code based at the image: 16-bit IPs */
#define SEL_STACK16  0x78   /* 16-bit data: the 16-bit task's SS:SP */
#define GDT_ENTRIES  16
#define IMAGE_BASE   0x100000u

#define VECTOR_INT   0x41
#define VECTOR_IRQ   0x42
#define EFLAGS_NT    (1u << 14)
#define EFLAGS_IF    (1u << 9)
#define CR0_TS       (1u << 3)
#define DESC_BUSY    (2ull << 40)
#define LINK_UNSET   0xbeef
#define STACK_SIZE   4096
#define NMI_WAIT_MS  50

struct tss32 {
    uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
    uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt, iomap;
};
_Static_assert(sizeof(struct tss32) == 104, "32-bit TSS");

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(8)));
static struct tss32 tss_main, tss_a, tss_b, tss_int, tss_gp, tss_irq, tss_nmi;
static uint8_t stacks[7][STACK_SIZE] __attribute__((aligned(16)));

/* SDM 3A figure 7-11: link, SP0-SS2, IP, FLAGS, AX CX DX BX SP BP SI DI,
 * ES CS SS DS, LDT. */
struct tss16 {
    uint16_t link, sp0, ss0, sp1, ss1, sp2, ss2, ip, flags;
    uint16_t ax, cx, dx, bx, sp, bp, si, di, es, cs, ss, ds, ldt;
};
_Static_assert(sizeof(struct tss16) == 44, "16-bit TSS");
static struct tss16 tss_16;

/* What a task saw at its entry (the stubs below), and its doings. */
volatile uint32_t entry_eax, entry_eflags, entry_cr0, entry_esp;
static volatile uint32_t busy_seen, link_seen, saved_eip_seen, saved_eflags_seen, error_code_seen;
static volatile uint32_t nmi_entries, nmis_while_blocked;

static uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
           (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)flags << 52 |
           (uint64_t)(base >> 24) << 56;
}

static uint64_t tss_descriptor(const struct tss32 *tss)
{
    return segment_descriptor((uint32_t)(uintptr_t)tss, sizeof(*tss) - 1, 0x89, 0);
}

static uint64_t task_gate(uint16_t tss_selector)
{
    return (uint64_t)tss_selector << 16 | 0x85ull << 40;
}

static int busy(uint16_t selector)
{
    return (gdt[selector >> 3] & DESC_BUSY) != 0;
}

static uint64_t *idt_entry(uint8_t vector)
{
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    return (uint64_t *)(uintptr_t)idtr.base + vector;
}

/* A task's entry: its EAX, EFLAGS, CR0 and ESP noted, then its body. A
 * body ends with the switch back and is resumed after it, if ever, where
 * the stub loops. */
#define TASK_ENTRY(name, body)                                               \
    void body(void);                                                          \
    extern const char name[];                                                 \
    __asm__(".text\n" #name ":\n\t"                                           \
            "movl %eax, entry_eax\n\t"                                        \
            "movl %esp, entry_esp\n\t"                                        \
            "pushfl\n\tpopl entry_eflags\n\t"                                 \
            "movl %cr0, %eax\n\tmovl %eax, entry_cr0\n\t"                     \
            "call " #body "\n"                                                \
            "1:\tjmp 1b\n")

static void tss_init(struct tss32 *tss, const char *entry, unsigned stack, uint32_t eax)
{
    *tss = (struct tss32){
        .link = LINK_UNSET,
        .eip = (uint32_t)(uintptr_t)entry,
        .eflags = 0x2,
        .eax = eax,
        .esp = (uint32_t)(uintptr_t)(stacks[stack] + STACK_SIZE),
        .es = GDT_DATA32, .cs = GDT_CODE32, .ss = GDT_DATA32,
        .ds = GDT_DATA32, .fs = GDT_DATA32, .gs = GDT_DATA32,
        .iomap = sizeof(struct tss32),
    };
}

static void clear_entry(void)
{
    entry_eax = entry_eflags = entry_cr0 = entry_esp = 0;
    busy_seen = link_seen = saved_eip_seen = saved_eflags_seen = error_code_seen = 0;
}

/* ---- JMP to a TSS and back ------------------------------------------------ */

TASK_ENTRY(task_a_entry, task_a_body);
void task_a_body(void)
{
    busy_seen = (uint32_t)(busy(SEL_TSS_MAIN) | busy(SEL_TSS_A) << 1);
    link_seen = tss_a.link;
    __asm__ volatile("movl $0x5a5a0077, %%eax\n\t"
                     "ljmp %0, $0" : : "i"(SEL_TSS_MAIN) : "eax", "memory");
}

static void check_jmp(void)
{
    uint32_t resume, esi;

    tss_init(&tss_a, task_a_entry, 0, 0x5a5a0001);
    clear_entry();
    __asm__ volatile("movl $0x600dcafe, %%esi\n\t"
                     "movl $1f, %0\n\t"
                     "ljmp %2, $0\n"
                     "1:\tmovl %%esi, %1"
                     : "=&r"(resume), "=r"(esi) : "i"(SEL_TSS_A) : "esi", "memory");
    check("jmp: the new task starts at its TSS's EIP with its EAX", entry_eax == 0x5a5a0001);
    check("jmp: the new task's NT clear and no back link written",
          !(entry_eflags & EFLAGS_NT) && link_seen == LINK_UNSET);
    check("jmp: CR0.TS set by the switch", (entry_cr0 & CR0_TS) != 0);
    CHECK_VALUES("jmp: the old task's TSS free, the new one busy", busy_seen == 2,
                 { "busy", busy_seen });
    check("jmp back: the old task resumes after its JMP with its registers",
          tss_main.eip == resume && esi == 0x600dcafe);
    check("jmp back: the task left saved its EAX and EIP in its TSS",
          tss_a.eax == 0x5a5a0077 && tss_a.eip > (uint32_t)(uintptr_t)task_a_entry);
    check("jmp back: busy bits swapped again, CR0.TS set again",
          busy(SEL_TSS_MAIN) && !busy(SEL_TSS_A) && (read_cr0() & CR0_TS));
    __asm__ volatile("clts");
}

/* ---- CALL through a task gate, IRET back ---------------------------------- */

TASK_ENTRY(task_b_entry, task_b_body);
void task_b_body(void)
{
    busy_seen = (uint32_t)(busy(SEL_TSS_MAIN) | busy(SEL_TSS_B) << 1);
    link_seen = tss_b.link;
    __asm__ volatile("iret" : : : "memory");
}

static void check_call(void)
{
    uint32_t resume;

    tss_init(&tss_b, task_b_entry, 1, 0x5a5a0002);
    clear_entry();
    __asm__ volatile("movl $1f, %0\n\t"
                     "lcall %1, $0\n"
                     "1:"
                     : "=&r"(resume) : "i"(SEL_GATE_B) : "memory");
    check("call gate: the new task runs with NT set and its back link to the caller",
          entry_eax == 0x5a5a0002 && (entry_eflags & EFLAGS_NT) && link_seen == SEL_TSS_MAIN);
    CHECK_VALUES("call gate: both tasks busy", busy_seen == 3, { "busy", busy_seen });
    check("iret: back after the CALL, the called task free, the caller busy",
          tss_main.eip == resume && !busy(SEL_TSS_B) && busy(SEL_TSS_MAIN));
    check("iret: NT clear in the image saved of the task that returned, and in the caller",
          !(tss_b.eflags & EFLAGS_NT) && !(read_eflags() & EFLAGS_NT));
    __asm__ volatile("clts");
}

/* ---- INT n through a task gate -------------------------------------------- */

TASK_ENTRY(task_int_entry, task_int_body);
void task_int_body(void)
{
    link_seen = tss_int.link;
    saved_eip_seen = tss_main.eip;
    __asm__ volatile("iret" : : : "memory");
}

static void check_int(void)
{
    uint32_t resume;

    tss_init(&tss_int, task_int_entry, 2, 0x5a5a0003);
    *idt_entry(VECTOR_INT) = task_gate(SEL_TSS_INT);
    clear_entry();
    __asm__ volatile("movl $1f, %0\n\t"
                     "int %1\n"
                     "1:"
                     : "=&r"(resume) : "i"(VECTOR_INT) : "memory");
    check("int n: a task gate in the IDT switches, NT set, back link to the caller",
          entry_eax == 0x5a5a0003 && (entry_eflags & EFLAGS_NT) && link_seen == SEL_TSS_MAIN);
    check("int n: the caller saved with EIP after the INT", saved_eip_seen == resume);
    __asm__ volatile("clts");
}

/* ---- an exception with an error code -------------------------------------- */

TASK_ENTRY(task_gp_entry, task_gp_body);
void task_gp_body(void)
{
    error_code_seen = *(volatile uint32_t *)(uintptr_t)entry_esp;
    saved_eip_seen = tss_main.eip;
    link_seen = tss_gp.link;
    tss_main.eip += 2;              /* past the faulting MOV to DS (8e d8) */
    __asm__ volatile("iret" : : : "memory");
}

static void check_exception(void)
{
    uint64_t *gate = idt_entry(VECTOR_GP), kept = *gate;
    uint32_t faulting;
    uint16_t ds;

    tss_init(&tss_gp, task_gp_entry, 3, 0x5a5a0004);
    *gate = task_gate(SEL_TSS_GP);
    clear_entry();
    __asm__ volatile("movl $1f, %0\n\t"
                     "movw %2, %%ax\n"
                     "1:\tmovw %%ax, %%ds\n\t"
                     "movw %%ds, %1"
                     : "=&r"(faulting), "=r"(ds) : "i"(SEL_TSS_A) : "eax", "memory");
    *gate = kept;
    check("exception: #GP through a task gate, its error code on the new task's stack",
          entry_eax == 0x5a5a0004 && error_code_seen == SEL_TSS_A &&
              entry_esp == (uint32_t)(uintptr_t)(stacks[3] + STACK_SIZE) - 4);
    check("exception: the faulting task saved with EIP at the fault, back link to it",
          saved_eip_seen == faulting && link_seen == SEL_TSS_MAIN && ds == GDT_DATA32);
    __asm__ volatile("clts");
}

/* ---- a device interrupt and an NMI through task gates ---------------------- */

TASK_ENTRY(task_irq_entry, task_irq_body);
void task_irq_body(void)
{
    link_seen = tss_irq.link;
    saved_eflags_seen = tss_main.eflags;
    lapic_eoi();
    __asm__ volatile("iret" : : : "memory");
}

/* Entered once per NMI: the first sends itself another, which must wait
 * for this task's IRET. The body loops, as the IRET leaves its EIP after
 * the IRET. */
TASK_ENTRY(task_nmi_entry, task_nmi_body);
void task_nmi_body(void)
{
    for (;;) {
        uint32_t entries = ++nmi_entries;
        if (entries == 1) {
            lapic_send_ipi(lapic_id(), ICR_NMI);
            delay_us(2000);
            nmis_while_blocked = nmi_entries - 1;
        }
        link_seen = tss_nmi.link;
        __asm__ volatile("iret" : : : "memory");
    }
}

static void check_interrupts(void)
{
    uint64_t *irq_gate = idt_entry(VECTOR_IRQ), *nmi_gate = idt_entry(VECTOR_NMI);
    uint64_t kept_nmi = *nmi_gate;

    lapic_init();
    tss_init(&tss_irq, task_irq_entry, 4, 0x5a5a0005);
    *irq_gate = task_gate(SEL_TSS_IRQ);
    clear_entry();
    irq_disable();
    lapic_send_ipi(0, ICR_SELF | ICR_FIXED | VECTOR_IRQ);
    irq_enable();
    delay_us(2000);
    irq_disable();
    check("interrupt: a self-IPI through a task gate, back link to the interrupted task",
          entry_eax == 0x5a5a0005 && (entry_eflags & EFLAGS_NT) && link_seen == SEL_TSS_MAIN);
    check("interrupt: the interrupted task saved with interrupts on, ISR clear after",
          (saved_eflags_seen & EFLAGS_IF) && !lapic_vector_bit(LAPIC_ISR, VECTOR_IRQ));
    __asm__ volatile("clts");

    tss_init(&tss_nmi, task_nmi_entry, 5, 0x5a5a0006);
    *nmi_gate = task_gate(SEL_TSS_NMI);
    clear_entry();
    nmi_entries = 0;
    nmis_while_blocked = ~0u;
    lapic_send_ipi(lapic_id(), ICR_NMI);
    for (uint64_t end = rdtsc() + ms_to_tsc(NMI_WAIT_MS); nmi_entries < 2 && rdtsc() < end;)
        cpu_relax();
    *nmi_gate = kept_nmi;
    check("nmi: an NMI through a task gate, back link to the interrupted task",
          entry_eax == 0x5a5a0006 && link_seen == SEL_TSS_MAIN);
    CHECK_VALUES("nmi: the NMI task blocks NMIs until its IRET, then takes the next",
                 nmis_while_blocked == 0 && nmi_entries == 2,
                 { "while blocked", nmis_while_blocked }, { "entries", nmi_entries });
    __asm__ volatile("clts");
}

/* ---- a 16-bit TSS ----------------------------------------------------------- */

/* The 16-bit task runs 32-bit code (the TSS's format is not the code's)
 * based at the image, so that its IP fits 16 bits, on a 16-bit stack:
 * loaded from a 16-bit TSS the registers' upper halves are not the
 * task's (the SDM leaves them undefined), SP alone is. Assembly only, as
 * its SS is not its DS. */
volatile uint16_t entry16_ax, entry16_fs, entry16_sp;
extern const char task16_entry[], task16_resume[];
__asm__(".text\n"
        "task16_entry:\n\t"
        "movw %ax, entry16_ax\n\t"
        "movw %fs, entry16_fs\n\t"
        "movw %sp, entry16_sp\n\t"
        "movw $0x5a77, %ax\n\t"
        "ljmp $0x28, $0\n"
        "task16_resume:\n\t"
        "jmp task16_resume\n");
_Static_assert(SEL_TSS_MAIN == 0x28, "task16_entry's JMP");

static void check_tss16(void)
{
    uint32_t resume, ip = (uint32_t)(uintptr_t)task16_entry - IMAGE_BASE;

    tss_16 = (struct tss16){
        .link = LINK_UNSET, .ip = (uint16_t)ip, .flags = 0x2, .ax = 0x5a10, .bx = 0x5a11,
        .sp = STACK_SIZE, .es = GDT_DATA32, .cs = SEL_CODE_LOW, .ss = SEL_STACK16,
        .ds = GDT_DATA32,
    };
    gdt[SEL_STACK16 >> 3] = segment_descriptor((uint32_t)(uintptr_t)stacks[6], 0xffff, 0x93, 0);
    entry16_ax = entry16_fs = entry16_sp = 0xdead;
    __asm__ volatile("movl $1f, %0\n\t"
                     "ljmp %1, $0\n"
                     "1:"
                     : "=&r"(resume) : "i"(SEL_TSS16) : "memory");
    check("16-bit TSS: the task starts at its IP with AX and SP from it, FS null",
          ip <= 0xffff && entry16_ax == 0x5a10 && entry16_sp == STACK_SIZE && entry16_fs == 0);
    check("16-bit TSS: back, its IP and AX saved in 16 bits, the old task resumed",
          tss_16.ip == (uint16_t)((uint32_t)(uintptr_t)task16_resume - IMAGE_BASE) &&
              tss_16.ax == 0x5a77 && tss_16.bx == 0x5a11 && tss_main.eip == resume);
    check("16-bit TSS: free again, the old task busy", !busy(SEL_TSS16) && busy(SEL_TSS_MAIN));
    __asm__ volatile("clts");
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_task_switch: task switches by JMP, CALL, IRET, INT n, an exception, "
             "an interrupt and an NMI, and to a 16-bit TSS");
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    for (unsigned i = 0; i < 5; i++)
        gdt[i] = ((const uint64_t *)(uintptr_t)gdtr.base)[i];
    gdt[SEL_TSS_MAIN >> 3] = tss_descriptor(&tss_main);
    gdt[SEL_TSS_A >> 3] = tss_descriptor(&tss_a);
    gdt[SEL_TSS_B >> 3] = tss_descriptor(&tss_b);
    gdt[SEL_GATE_B >> 3] = task_gate(SEL_TSS_B);
    gdt[SEL_TSS_INT >> 3] = tss_descriptor(&tss_int);
    gdt[SEL_TSS_GP >> 3] = tss_descriptor(&tss_gp);
    gdt[SEL_TSS_IRQ >> 3] = tss_descriptor(&tss_irq);
    gdt[SEL_TSS_NMI >> 3] = tss_descriptor(&tss_nmi);
    gdt[SEL_TSS16 >> 3] = segment_descriptor((uint32_t)(uintptr_t)&tss_16, sizeof(tss_16) - 1,
                                             0x81, 0);
    gdt[SEL_CODE_LOW >> 3] = segment_descriptor(IMAGE_BASE, 0xffff, 0x9a, 0x4);
    gdtr.limit = sizeof(gdt) - 1;
    gdtr.base = (uint32_t)(uintptr_t)gdt;
    tss_main.iomap = sizeof(struct tss32);
    __asm__ volatile("lgdt %0\n\t"
                     "ltr %w1" : : "m"(gdtr), "r"(SEL_TSS_MAIN) : "memory");

    check_jmp();
    check_call();
    check_int();
    check_exception();
    check_interrupts();
    check_tss16();
    pc_finish();
}
