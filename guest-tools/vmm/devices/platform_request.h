/*
 * Requests a guest makes of the machine rather than of a device: power off
 * (ACPI S5 through PM1_CNT) and reset (the 0xcf9 reset control register,
 * the FADT's RESET_REG, the i8042's reset line). The models that decode
 * them report through a `platform_request_sink` the VMM gives; what the
 * VMM then does (stop the VM, reboot it) is its policy. A request can come
 * more than once (Linux tries one reset method after another): the VMM
 * acts on the first.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_PLATFORM_REQUEST_H
#define GUEST_TOOLS_VMM_DEVICES_PLATFORM_REQUEST_H

enum platform_request {
    PLATFORM_REQUEST_POWER_OFF,
    PLATFORM_REQUEST_RESET,
};

/* Unconnected (request NULL): requests are dropped. */
struct platform_request_sink {
    void (*request)(void *ctx, enum platform_request request);
    void *ctx;
};

static inline void platform_request(const struct platform_request_sink *sink,
                                    enum platform_request request)
{
    if (sink->request)
        sink->request(sink->ctx, request);
}

#endif
