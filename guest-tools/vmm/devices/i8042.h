/*
 * i8042 keyboard controller of a PC with nothing plugged into its
 * keyboard and mouse ports: data port 0x60, status (read) and command
 * (write) port 0x64, IRQ 1 for the keyboard port and IRQ 12 for the aux
 * (mouse) port. It is here for what a PC does with it besides typing:
 * the reset line (command 0xfe, or 0xd1 with bit 0 clear), the A20 bit of
 * the output port, and a controller that answers a guest's probe (self-test
 * 0x55, port tests 0x00, command byte, aux loopback) so that Linux's i8042
 * driver finds a controller and gives up on the devices at once: every byte
 * sent to a device is answered with 0xfe and the status TIMEOUT bit, as a
 * controller does when no device clocks the byte in.
 *
 * The output buffer holds one byte; the controller never produces data on
 * its own, so it has no timed event and no next_event_ns.
 * A20 is reported, not enforced: guest memory is not wrapped at 1 MiB.
 *
 * Interface (device.h contract): i8042_read/write with `offset` 0 (port
 * 0x60) or 4 (port 0x64) from I8042_PORT_BASE, `size` 1, 2 or 4 (the bytes
 * past each port, 0x61-0x63 and 0x65-0x67, are not the controller's and
 * float). Reset requests go to the platform_request_sink.
 *
 * Locking: none inside; the VMM serialises all calls on one i8042.
 */
#ifndef GUEST_TOOLS_VMM_DEVICES_I8042_H
#define GUEST_TOOLS_VMM_DEVICES_I8042_H

#include "guest-tools/vmm/devices/device.h"
#include "guest-tools/vmm/devices/platform_request.h"

#define I8042_PORT_BASE   0x60
#define I8042_DATA        0 /* offsets from I8042_PORT_BASE */
#define I8042_STATUS      4 /* read */
#define I8042_COMMAND     4 /* write */
#define I8042_KEYBOARD_IRQ 1
#define I8042_AUX_IRQ     12

#define I8042_STR_OBF     0x01 /* output buffer full */
#define I8042_STR_IBF     0x02 /* input buffer full (never: writes are instant) */
#define I8042_STR_SYS     0x04 /* system flag, from the command byte */
#define I8042_STR_CMDDAT  0x08 /* last write went to the command port */
#define I8042_STR_KEYLOCK 0x10 /* 1: keyboard not inhibited by the keyswitch */
#define I8042_STR_AUXDATA 0x20 /* the output byte is from the aux port */
#define I8042_STR_TIMEOUT 0x40
#define I8042_STR_PARITY  0x80

#define I8042_CTR_KBDINT  0x01 /* command byte: IRQ 1 on keyboard data */
#define I8042_CTR_AUXINT  0x02 /* IRQ 12 on aux data */
#define I8042_CTR_SYS     0x04
#define I8042_CTR_KBDDIS  0x10
#define I8042_CTR_AUXDIS  0x20
#define I8042_CTR_XLATE   0x40

#define I8042_OUT_RESET   0x01 /* output port: 0 holds the CPU in reset */
#define I8042_OUT_A20     0x02

struct i8042 {
    struct irq_line keyboard_irq, aux_irq;
    struct platform_request_sink platform;
    uint8_t command_byte;
    uint8_t output_port;
    uint8_t output;         /* the output buffer, or its last byte if read */
    uint8_t output_status;  /* OBF, AUXDATA, TIMEOUT of the output byte */
    uint8_t pending_command; /* a command waiting for its data byte, or 0 */
    bool last_write_command;
    bool keyboard_irq_level, aux_irq_level;
};

void i8042_init(struct i8042 *kbc, struct irq_line keyboard_irq, struct irq_line aux_irq,
                struct platform_request_sink platform);
uint32_t i8042_read(struct i8042 *kbc, unsigned offset, unsigned size, uint64_t now_ns);
void i8042_write(struct i8042 *kbc, unsigned offset, unsigned size, uint32_t value,
                 uint64_t now_ns);
bool i8042_a20_enabled(const struct i8042 *kbc);

#endif
