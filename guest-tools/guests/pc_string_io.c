/*
 * pc_string_io: INS and OUTS reaching pages the guest's own paging
 * refuses take #PF as on a CPU (SDM 3A 4.6, 4.7): the error code says
 * present and write, CR2 is the faulting byte, and a REP stops with the
 * elements before it done (EDI and ECX show them), so that the handler
 * can fix the page and the instruction go on. Under the hypervisor these
 * are string I/O exits that the VMM carries out (guest-tools/vmm/pc/
 * string_io.c), so the same lines on plain QEMU and there say that the
 * VMM honours the guest's page rights.
 *
 * Paging: 32-bit, no PAE, the first 4 MiB mapped 1:1 with 4 KiB pages
 * (the image, its stack and data at 1 MiB); of three pages of its own,
 * the second is read-only and the third not present.
 */
#include "guest-tools/guests/lib/check.h"
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/guest.h"
#include "guest-tools/guests/lib/interrupts.h"

#define PAGE        4096u
#define PTE_PRESENT 0x1u
#define PTE_WRITE   0x2u
#define CR0_WP      (1u << 16)
#define CR0_PG      (1u << 31)
#define VECTOR_PF   14
#define PORT        0x80          /* POST codes: reads are harmless */

static uint32_t page_directory[1024] __attribute__((aligned(PAGE)));
static uint32_t page_table[1024] __attribute__((aligned(PAGE)));
/* writable, read-only, not present */
static uint8_t pages[3][PAGE] __attribute__((aligned(PAGE)));

static volatile uint32_t resume_at, faults, fault_error, fault_cr2;

/* The #PF is expected: it is noted, and the code goes on after the
 * instruction (each test sets resume_at). */
static void page_fault(struct interrupt_frame *frame)
{
    uint32_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    faults++;
    fault_error = frame->error_code;
    fault_cr2 = cr2;
    frame->eip = resume_at;
}

static void paging_on(void)
{
    for (uint32_t i = 0; i < 1024; i++)
        page_table[i] = i * PAGE | PTE_PRESENT | PTE_WRITE;
    page_table[(uint32_t)pages[1] / PAGE] &= ~PTE_WRITE;
    page_table[(uint32_t)pages[2] / PAGE] = 0;
    page_directory[0] = (uint32_t)page_table | PTE_PRESENT | PTE_WRITE;
    __asm__ volatile("mov %0, %%cr3" : : "r"(page_directory) : "memory");
    write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

static void rep_insb(uint32_t *edi, uint32_t *ecx)
{
    __asm__ volatile("movl $1f, %[resume]\n\t"
                     "rep insb\n"
                     "1:"
                     : "+D"(*edi), "+c"(*ecx), [resume] "=m"(resume_at)
                     : "d"(PORT)
                     : "memory");
}

static void insb(uint32_t edi)
{
    __asm__ volatile("movl $1f, %[resume]\n\t"
                     "insb\n"
                     "1:"
                     : "+D"(edi), [resume] "=m"(resume_at)
                     : "d"(PORT)
                     : "memory");
}

static void outsb(uint32_t esi)
{
    __asm__ volatile("movl $1f, %[resume]\n\t"
                     "outsb\n"
                     "1:"
                     : "+S"(esi), [resume] "=m"(resume_at)
                     : "d"(PORT)
                     : "memory");
}

int guest_main(uint32_t magic, uint32_t multiboot_info)
{
    uint32_t read_only = (uint32_t)pages[1], absent = (uint32_t)pages[2];
    uint32_t edi = read_only - 1, ecx = 2;

    (void)magic;
    (void)multiboot_info;
    pc_start("pc_string_io: INS and OUTS into pages its paging refuses");
    interrupt_set_handler(VECTOR_PF, page_fault);
    paging_on();

    rep_insb(&edi, &ecx);
    check("string-io: rep insb into a read-only page faults (present, write)",
          faults == 1 && fault_error == 3);
    check("string-io: CR2 is the read-only page's first byte", fault_cr2 == read_only);
    check("string-io: the element before it is done (EDI, ECX)", edi == read_only && ecx == 1);

    insb(absent);
    check("string-io: insb into a page not present faults (write)",
          faults == 2 && fault_error == 2 && fault_cr2 == absent);
    outsb(absent + 5);
    check("string-io: outsb from a page not present faults (read)",
          faults == 3 && fault_error == 0 && fault_cr2 == absent + 5);

    write_cr0(read_cr0() & ~CR0_WP);
    insb(read_only + 7);
    check("string-io: with CR0.WP clear, insb into the read-only page is done", faults == 3);
    pc_finish();
}
