// sources: guest-tools/vmm/pc/task_switch.c
/* The VMM's task switch (guest-tools/vmm/pc/task_switch.c) on a guest's
 * garbage: descriptor tables, TSSs and registers from the input, in a
 * small memory with an unmapped page and a page beyond RAM. It must touch
 * only what the callbacks hand it, and end in what the CPU could give:
 * the switch done with TR the new TSS, CR0.TS set and the busy bits as
 * the source wants them, or a fault among #TS, #NP, #SS, #GP and #PF. */
#include "tests/fuzz/fuzz_input.h"

#include "guest-tools/vmm/pc/task_switch.h"

#define MEMORY 0x4000u
#define PAGE 0x1000u
#define UNMAPPED_PAGE 2u    /* not present */
#define BEYOND_RAM 0x3000u  /* linear page 3 maps past the memory */

static uint8_t *memory;     /* MEMORY - PAGE bytes: the last page is no RAM */
static bool paging_loaded;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int access(void *ctx, uint64_t linear, void *bytes, unsigned len, bool write,
                  uint32_t *pf_error)
{
    (void)ctx;
    fuzz_check(len > 0 && len <= 104);
    for (unsigned i = 0; i < len; i++) {
        uint64_t at = (linear + i) & 0xffffffffull;
        if (at / PAGE == UNMAPPED_PAGE) {
            *pf_error = write ? 2 : 0;
            return 0;
        }
        if (at >= BEYOND_RAM)
            return -1;
        if (write)
            memory[at] = ((uint8_t *)bytes)[i];
        else
            ((uint8_t *)bytes)[i] = memory[at];
    }
    return 1;
}

static bool load_paging(void *ctx, const struct hv_sregs *sregs)
{
    (void)ctx;
    fuzz_check(sregs->cr0 & 8);       /* TS, at the commit point */
    paging_loaded = true;
    return true;
}

static uint16_t gdt_busy_bit(uint64_t gdt_base, uint16_t selector)
{
    uint64_t at = gdt_base + (selector & ~7u) + 5;
    return at < BEYOND_RAM && at / PAGE != UNMAPPED_PAGE ? (memory[at] >> 1) & 1 : 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = fuzz_input(data, size);
    struct task_switch_ops ops = { access, load_paging, NULL };
    struct task_switch_fault fault;
    struct hv_regs regs;
    struct hv_sregs sregs;

    memory = calloc(1, BEYOND_RAM);
    paging_loaded = false;
    struct task_switch_request request = {
        .selector = (uint16_t)fuzz_take(&in, 2),
        .source = (uint8_t)(fuzz_take(&in, 1) & 3),
        .has_error_code = fuzz_take(&in, 1) & 1,
        .error_code = (uint32_t)fuzz_take(&in, 4),
    };
    memset(&regs, 0, sizeof(regs));
    memset(&sregs, 0, sizeof(sregs));
    regs.rip = fuzz_take(&in, 4);
    regs.rflags = fuzz_take(&in, 4);
    regs.rsp = fuzz_take(&in, 4);
    sregs.gdt.base = fuzz_take(&in, 2) % MEMORY;
    sregs.gdt.limit = (uint16_t)fuzz_take(&in, 2);
    sregs.ldt.base = fuzz_take(&in, 2) % MEMORY;
    sregs.ldt.limit = (uint32_t)fuzz_take(&in, 2);
    sregs.ldt.present = fuzz_take(&in, 1) & 1;
    sregs.ldt.unusable = !sregs.ldt.present;
    sregs.tr.base = fuzz_take(&in, 2) % MEMORY;
    sregs.tr.selector = (uint16_t)fuzz_take(&in, 2);
    sregs.tr.type = (uint8_t)(fuzz_take(&in, 1) & 0xf);
    sregs.cr0 = fuzz_take(&in, 4);
    sregs.ss.db = fuzz_take(&in, 1) & 1;
    /* the rest of the input: the memory, from its start */
    size_t n = size - in.at < BEYOND_RAM ? size - in.at : BEYOND_RAM;
    memcpy(memory, data + in.at, n);

    uint64_t gdt = sregs.gdt.base;
    enum task_switch_status status = task_switch(&regs, &sregs, &request, &ops, &fault);
    switch (status) {
    case TASK_SWITCH_DONE:
        fuzz_check(sregs.tr.selector == request.selector &&
                   (sregs.tr.type == 0xb || sregs.tr.type == 0x3));
        fuzz_check((sregs.cr0 & 8) && paging_loaded);
        fuzz_check(regs.rip <= 0xffffffffull && (regs.rflags & 2));
        /* The new TSS's busy bit is the switch's last write to the GDT
         * but for an error code pushed, which a stack on the GDT may put
         * there, and an IRET leaves it as it found it (set, unless the
         * back link named the current TSS, whose bit the IRET clears).
         * The old one's is cleared before the old TSS is written, which
         * garbage may lay over the GDT: not checked. */
        if (!request.has_error_code && request.source != HV_TASK_SWITCH_IRET)
            fuzz_check(gdt_busy_bit(gdt, request.selector) != 0);
        break;
    case TASK_SWITCH_GUEST_FAULT:
        fuzz_check(fault.vector >= 10 && fault.vector <= 14);
        fuzz_check(fault.in_new_task == paging_loaded);
        break;
    case TASK_SWITCH_FAULT:
        break;
    default:
        fuzz_check(0);
    }
    free(memory);
    return 0;
}
