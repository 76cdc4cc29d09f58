/* The VMX instructions as C (Intel SDM 3C, chapter 30). Field reads and
 * writes on the current VMCS cannot fail once the fields used exist, which
 * vmx_probe checked; the pointer instructions report failure. */
#ifndef VMX_VMX_INSTRUCTIONS_H
#define VMX_VMX_INSTRUCTIONS_H

#include <stdbool.h>
#include <stdint.h>

static inline uint64_t vmread(uint64_t field)
{
    uint64_t value;
    __asm__ volatile("vmread %1, %0" : "=r"(value) : "r"(field) : "cc");
    return value;
}

static inline void vmwrite(uint64_t field, uint64_t value)
{
    __asm__ volatile("vmwrite %1, %0" ::"r"(field), "r"(value) : "cc", "memory");
}

/* Returns false on VMfail. */
static inline bool vmptrld(uint64_t vmcs_phys)
{
    uint8_t failed;
    __asm__ volatile("vmptrld %1; setna %0" : "=q"(failed) : "m"(vmcs_phys) : "cc", "memory");
    return !failed;
}

/* VMPTRLD of the address stored at `vmcs_phys`, for the VMCS switches of
 * every call (vmx/vmx_vmcs.c): the operand is read where it already is,
 * with no copy to the stack, and the result is not looked at -- the
 * pointer is one the hypervisor allocated and loaded before. */
static inline void vmptrld_at(const uint64_t *vmcs_phys)
{
    __asm__ volatile("vmptrld %0" ::"m"(*vmcs_phys) : "cc", "memory");
}

static inline bool vmclear(uint64_t vmcs_phys)
{
    uint8_t failed;
    __asm__ volatile("vmclear %1; setna %0" : "=q"(failed) : "m"(vmcs_phys) : "cc", "memory");
    return !failed;
}

#define INVEPT_SINGLE_CONTEXT  1
#define INVEPT_ALL_CONTEXTS    2
#define INVVPID_ALL_CONTEXTS   2

static inline void invept(uint64_t type, uint64_t eptp)
{
    struct { uint64_t eptp, reserved; } descriptor = { eptp, 0 };
    __asm__ volatile("invept %0, %1" ::"m"(descriptor), "r"(type) : "cc", "memory");
}

static inline void invvpid(uint64_t type, uint16_t vpid)
{
    struct { uint64_t vpid, address; } descriptor = { vpid, 0 };
    __asm__ volatile("invvpid %0, %1" ::"m"(descriptor), "r"(type) : "cc", "memory");
}

#endif
