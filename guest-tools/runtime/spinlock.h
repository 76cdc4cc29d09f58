/*
 * A test-and-set spinlock for the control domain's shared state (console
 * line, page allocator). Every control-domain vcpu runs on its own physical
 * CPU and interrupts stay off, so a holder is never preempted by code that
 * wants the same lock on the same vcpu: plain spinning is enough.
 */
#ifndef GUEST_TOOLS_RUNTIME_SPINLOCK_H
#define GUEST_TOOLS_RUNTIME_SPINLOCK_H

struct spinlock {
    int locked;
};

static inline void spin_lock(struct spinlock *lock)
{
    while (__atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(&lock->locked, __ATOMIC_RELAXED) != 0)
            __asm__ volatile("pause");
    }
}

static inline void spin_unlock(struct spinlock *lock)
{
    __atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

#endif
