/*
 * Setting up the real-mode block and its IVT entry (realmode.h).
 */
#include "guest-tools/guests/lib/cpu.h"
#include "guest-tools/guests/lib/realmode.h"

extern const char realmode_blob[], realmode_blob_end[], rm_irq[], rm_deadline[],
    rm_irq_count[];
void realmode_call(void);

static uint32_t blob_offset(const char *label)
{
    return (uint32_t)(label - realmode_blob);
}

uint32_t realmode_count_irq0(uint8_t vector, uint64_t deadline)
{
    volatile uint8_t *block = (volatile uint8_t *)REALMODE_BASE;
    uint32_t size = (uint32_t)(realmode_blob_end - realmode_blob);
    /* IVT entry: offset in the low half, segment in the high half. */
    volatile uint32_t *ivt_entry = low_memory(vector * 4u);

    for (uint32_t i = 0; i < size; i++)
        block[i] = (uint8_t)realmode_blob[i];
    *(volatile uint64_t *)(block + blob_offset(rm_deadline)) = deadline;
    *(volatile uint32_t *)(block + blob_offset(rm_irq_count)) = 0;
    *ivt_entry = (uint32_t)(REALMODE_BASE >> 4) << 16 | blob_offset(rm_irq);
    realmode_call();
    return *(volatile uint32_t *)(block + blob_offset(rm_irq_count));
}
