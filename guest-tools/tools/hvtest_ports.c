/*
 * The control domain reaches only the I/O ports it owns (issue 13): the
 * hypervisor's own devices -- its console UART, the PICs it masked, the
 * PIT and port B -- are intercepted, writes dropped and reads all ones,
 * as from a port nobody answers (hv/control_ports.h). Without that, a
 * read of the PIC's mask register would return what the test wrote.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/port_io.h"
#include "guest-tools/runtime/format.h"
#include "guest-tools/tools/hvtest.h"

static void hypervisor_ports_intercepted(void)
{
    static const struct { uint16_t port; uint8_t write; const char *what; } ports[] = {
        /* The master's mask with only the cascade line open: harmless if
         * it did reach the PIC, and visible on the read back. */
        { 0x21, 0xfb, "master PIC mask (0x21)" },
        { 0xa1, 0xfe, "slave PIC mask (0xa1)" },
        { 0x4d0, 0x01, "ELCR (0x4d0)" },
        { 0x61, 0x00, "port B (0x61)" },
        { 0x3fb, 0x03, "COM1 line control (0x3fb)" },
    };
    char what[96];

    for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        outb(ports[i].port, ports[i].write);
        uint8_t got = inb(ports[i].port);
        snprintf(what, sizeof(what), "IN from the %s after writing 0x%x", ports[i].what,
                 ports[i].write);
        if (!hvt_eq(got, 0xff, what)) {
            outb(0x21, 0xff);         /* put the masks back if it did reach them */
            outb(0xa1, 0xff);
            return;
        }
    }
    /* The PIT: channel 0 in mode 2 at the fastest rate, then its count. */
    outb(0x43, 0x34);
    outb(0x40, 2);
    outb(0x40, 0);
    outb(0x43, 0x00);
    hvt_eq(inb(0x40), 0xff, "IN from PIT channel 0 after reprogramming it");
    hvt_eq((uint64_t)hv_get_api_version(hvt_sys()), HV_API_VERSION,
           "GET_API_VERSION after the writes");
    hvt_hello_still_runs("the writes to the hypervisor's ports");
}

const struct hvtest_case hvtest_ports_cases[] = {
    { "hypervisor_ports_intercepted", hypervisor_ports_intercepted },
    { NULL, NULL },
};
