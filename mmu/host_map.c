#include "mmu/host_map.h"

#include "hv/console.h"
#include "hv/memory.h"
#include "hv/msr.h"
#include "hv/x86.h"
#include "mmu/page_table.h"

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[],
    __data_start[], __bss_end[];

/* Page-table pages must be below 4 GiB: APs load CR3 in 32-bit mode. */
static uint64_t alloc_table_low(void *ctx)
{
    (void)ctx;
    uint64_t phys = pages_alloc_zeroed(1, 4ull << 30);
    return phys == FRAME_NONE ? 0 : phys;
}

static void *identity(uint64_t phys, void *ctx)
{
    (void)ctx;
    return phys_to_virt(phys);
}

static bool overlaps_usable(const struct boot_info *boot, uint64_t base,
                            uint64_t end)
{
    for (unsigned i = 0; i < boot->memory_count; i++) {
        const struct memory_range *r = &boot->memory[i];
        if (r->type == MEMORY_USABLE && r->base < end && base < r->base + r->length)
            return true;
    }
    return false;
}

uint64_t host_map_build(const struct boot_info *boot, uint64_t trampoline_page)
{
    struct page_table pt = {
        .table_flags = PTE_WRITE,
        .alloc_table = alloc_table_low,
        .to_pointer = identity,
    };
    bool nx = cpuid_edx(0x80000001) & (1u << 20);
    uint64_t no_exec = nx ? PTE_NX : 0;
    if (nx)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);

    uint64_t text = (uint64_t)(uintptr_t)__text_start;
    uint64_t rodata = (uint64_t)(uintptr_t)__rodata_start;
    uint64_t data = (uint64_t)(uintptr_t)__data_start;
    uint64_t end = (uint64_t)(uintptr_t)__bss_end;
    int err = page_table_init(&pt);
    err = err ?: page_table_map(&pt, text, text, rodata - text, 0, PAGE_4K);
    err = err ?: page_table_map(&pt, rodata, rodata, data - rodata, no_exec, PAGE_4K);
    err = err ?: page_table_map(&pt, data, data, end - data, PTE_WRITE | no_exec, PAGE_4K);
    err = err ?: page_table_map(&pt, trampoline_page, trampoline_page, FRAME_SIZE,
                                PTE_WRITE, PAGE_4K);

    /* Everything else, in 2 MiB pages: RAM write-back, holes and device
     * ranges uncached (the local APIC among them). */
    uint64_t top = 4ull << 30;
    for (unsigned i = 0; i < boot->memory_count; i++) {
        uint64_t e = boot->memory[i].base + boot->memory[i].length;
        if (e > top)
            top = e;
    }
    top = (top + (1ull << 30) - 1) & ~((1ull << 30) - 1);
    for (uint64_t base = 0; base < top && !err; base += 2ull << 20) {
        uint64_t cache = overlaps_usable(boot, base, base + (2ull << 20))
                             ? 0 : PTE_PCD | PTE_PWT;
        err = page_table_map(&pt, base, base, 2ull << 20,
                             PTE_WRITE | no_exec | cache, PAGE_2M);
    }
    if (err)
        return 0;
    write_cr3(pt.root);
    return pt.root;
}
