/* Ticket spinlock: CPUs acquire in the order they arrived, so no CPU starves
 * under contention (a test-and-set lock would let one CPU win repeatedly).
 * Interrupts are not touched; the hypervisor runs with them off except where
 * a caller enables them deliberately. */
#ifndef HV_SPINLOCK_H
#define HV_SPINLOCK_H

#include <stdint.h>

struct spinlock {
    uint32_t next_ticket;
    uint32_t now_serving;
};

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(struct spinlock *lock)
{
    uint32_t ticket = __atomic_fetch_add(&lock->next_ticket, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&lock->now_serving, __ATOMIC_ACQUIRE) != ticket)
        __builtin_ia32_pause();
}

static inline int spin_trylock(struct spinlock *lock)
{
    uint32_t serving = __atomic_load_n(&lock->now_serving, __ATOMIC_RELAXED);
    uint32_t expected = serving;
    return __atomic_compare_exchange_n(&lock->next_ticket, &expected,
                                       serving + 1, 0, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *lock)
{
    uint32_t next = lock->now_serving + 1;
    __atomic_store_n(&lock->now_serving, next, __ATOMIC_RELEASE);
}

#endif
