/* Checked access to the control domain's memory for hypercall arguments.
 * Its RAM is one host-physical run, [memory_base, memory_base + memory_size),
 * seen by it at guest-physical 0: a check is two compares, a translation
 * one add. Structures are copied in before they are validated so that the
 * caller cannot change them afterwards. */
#ifndef HV_GUEST_ACCESS_H
#define HV_GUEST_ACCESS_H

#include <stdint.h>

#include "hv/cmdline.h"
#include "hv/memory.h"
#include "hv/vm.h"

/* 0, -HV_EINVAL (misaligned) or -HV_EFAULT (outside, straddling, wrapping). */
static inline long control_range_check(const struct vm *cd, uint64_t gpa,
                                       uint64_t size, uint64_t align)
{
    if (gpa & (align - 1))
        return -HV_EINVAL;
    /* A fixed size up to CTL_MEM_MIN (a structure's) cannot exceed the
     * control domain's memory, so `memory_size - size` does not wrap: one
     * compare. */
    if (__builtin_constant_p(size) && size <= CTL_MEM_MIN)
        return gpa > cd->memory_size - size ? -HV_EFAULT : 0;
    if (gpa >= cd->memory_size || size > cd->memory_size - gpa)
        return -HV_EFAULT;
    return 0;
}

static inline void *control_pointer(const struct vm *cd, uint64_t gpa)
{
    return phys_to_virt(cd->memory_base + gpa);
}

static inline long copy_from_control(const struct vm *cd, void *dst, uint64_t gpa,
                                     uint64_t size)
{
    long err = control_range_check(cd, gpa, size, 8);
    if (!err)
        memory_copy(dst, control_pointer(cd, gpa), size);
    return err;
}

static inline long copy_to_control(const struct vm *cd, uint64_t gpa,
                                   const void *src, uint64_t size)
{
    long err = control_range_check(cd, gpa, size, 8);
    if (!err)
        memory_copy(control_pointer(cd, gpa), src, size);
    return err;
}

#endif
