#include "vmx/vmx_controls.h"

uint32_t vmx_control_value(uint64_t capability, uint32_t required, uint32_t wanted,
                           uint32_t *missing)
{
    uint32_t must_be_one = (uint32_t)capability;
    uint32_t may_be_one = (uint32_t)(capability >> 32);
    *missing = required & ~may_be_one;
    return ((required | wanted) & may_be_one) | must_be_one;
}
