#include "mmu/dirty_log.h"

int dirty_log_mark(uint64_t *bitmap, uint64_t page)
{
    uint64_t bit = 1ull << (page % 64);
    return (__atomic_fetch_or(&bitmap[page / 64], bit, __ATOMIC_SEQ_CST) & bit) != 0;
}

uint64_t dirty_log_take_word(uint64_t *bitmap, uint64_t word)
{
    return __atomic_exchange_n(&bitmap[word], 0, __ATOMIC_SEQ_CST);
}
