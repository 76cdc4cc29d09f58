#include "hv/percpu.h"

#include "boot/boot_layout.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/trap.h"
#include "hv/x86.h"

struct percpu *percpu_of[MAX_CPUS];
unsigned cpu_count;
bool percpu_ready;

#define GDT_CODE64 0x00af9a000000ffffull
#define GDT_DATA   0x00cf92000000ffffull

_Static_assert(sizeof(struct percpu) <= FRAME_SIZE, "percpu fits a page");

struct percpu *percpu_create(unsigned index, uint32_t apic_id)
{
    uint64_t block = pages_alloc_zeroed(1, 0);
    uint64_t stack = pages_alloc_zeroed(CPU_STACK_SIZE / FRAME_SIZE, 0);
    uint64_t ist = pages_alloc_zeroed(IST_COUNT, 0);
    if (block == FRAME_NONE || stack == FRAME_NONE || ist == FRAME_NONE) {
        if (block != FRAME_NONE)
            pages_free(block, 1);
        if (stack != FRAME_NONE)
            pages_free(stack, CPU_STACK_SIZE / FRAME_SIZE);
        if (ist != FRAME_NONE)
            pages_free(ist, IST_COUNT);
        return NULL;
    }
    struct percpu *cpu = phys_to_virt(block);
    cpu->self = cpu;
    cpu->index = index;
    cpu->owner_id = index + 1;
    cpu->apic_id = apic_id;
    cpu->stack_top = stack + CPU_STACK_SIZE;
    for (unsigned i = 0; i < IST_COUNT; i++) {
        cpu->ist_top[i] = ist + (i + 1) * FRAME_SIZE;
        cpu->tss.ist[i] = cpu->ist_top[i]; /* IST n is tss.ist[n-1] */
    }
    cpu->tss.iomap_base = sizeof(struct tss); /* no I/O bitmap */

    uint64_t tss = (uint64_t)(uintptr_t)&cpu->tss;
    uint64_t limit = sizeof(struct tss) - 1;
    cpu->gdt[1] = GDT_CODE64;
    cpu->gdt[2] = GDT_DATA;
    /* 64-bit TSS descriptor, type 9 (available), present: SDM 3A, 8.2.3. */
    cpu->gdt[3] = (limit & 0xffff) | (tss & 0xffffff) << 16 | 0x89ull << 40 |
                  (limit >> 16 & 0xf) << 48 | (tss >> 24 & 0xff) << 56;
    cpu->gdt[4] = tss >> 32;
    percpu_of[index] = cpu;
    return cpu;
}

void percpu_load(struct percpu *cpu)
{
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) gdtr = { sizeof(cpu->gdt) - 1,
                                       (uint64_t)(uintptr_t)cpu->gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "mov %2, %%ds\n\t"
                     "mov %2, %%es\n\t"
                     "mov %2, %%ss\n\t"
                     "ltr %w3"
                     :
                     : "m"(gdtr), "i"(GDT_KERNEL_CS), "r"(GDT_KERNEL_DS),
                       "r"(GDT_TSS)
                     : "rax", "memory");
    idt_load();
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)cpu);
}
