/* The VMX backend's internal interface and the CPU features it found. */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <stdbool.h>
#include <stdint.h>

struct vmx_features {
    uint32_t vmcs_revision;
    bool ept;
    bool vpid;
    bool unrestricted_guest;
    bool true_controls;
};

extern struct vmx_features vmx_features;

#endif
