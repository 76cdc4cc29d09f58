/* Dirty-page bitmaps of memory slots logged with HV_MEM_LOG_DIRTY: one bit
 * per 4 KiB page of the slot, bit (n % 64) of word n / 64 for page n, the
 * layout GET_DIRTY_LOG copies out (KVM's). Host-testable: no allocation
 * here, the caller supplies the words.
 *
 * Concurrency: a bit is set by the CPU of the vcpu whose write faulted, and
 * a word is taken (read and cleared) by GET_DIRTY_LOG on another CPU; both
 * are single locked operations, so no set bit is lost between the two. */
#ifndef MMU_DIRTY_LOG_H
#define MMU_DIRTY_LOG_H

#include <stdint.h>

#define DIRTY_LOG_PAGE_SIZE 4096ull

/* Bytes of the bitmap of a slot of `size` bytes: whole 64-bit words. */
static inline uint64_t dirty_log_bytes(uint64_t size)
{
    uint64_t pages = size / DIRTY_LOG_PAGE_SIZE;
    return (pages + 63) / 64 * 8;
}

/* Sets the bit of page `page`. Returns whether it was already set. */
int dirty_log_mark(uint64_t *bitmap, uint64_t page);

/* Returns word `word` of the bitmap and clears it. */
uint64_t dirty_log_take_word(uint64_t *bitmap, uint64_t word);

#endif
