/*
 * i8042 keyboard controller with empty ports; the interface is in i8042.h.
 *
 * A command either acts at once, answers with one byte in the output
 * buffer, or waits for a data byte on port 0x60 (pending_command). A data
 * byte with no command pending goes to the keyboard, which is not there.
 */
#include "guest-tools/vmm/devices/i8042.h"

#include "guest-tools/vmm/devices/byte_ports.h"

/* Controller commands (IBM PC AT technical reference, 8042 commands). */
#define CMD_READ_RAM_FIRST  0x20 /* 0x20 reads the command byte */
#define CMD_READ_RAM_LAST   0x3f
#define CMD_WRITE_RAM_FIRST 0x60 /* 0x60 writes the command byte */
#define CMD_WRITE_RAM_LAST  0x7f
#define CMD_AUX_DISABLE     0xa7
#define CMD_AUX_ENABLE      0xa8
#define CMD_AUX_TEST        0xa9
#define CMD_SELF_TEST       0xaa
#define CMD_KEYBOARD_TEST   0xab
#define CMD_KEYBOARD_DISABLE 0xad
#define CMD_KEYBOARD_ENABLE 0xae
#define CMD_READ_INPUT_PORT 0xc0
#define CMD_READ_OUTPUT_PORT 0xd0
#define CMD_WRITE_OUTPUT_PORT 0xd1
#define CMD_WRITE_KEYBOARD_OUTPUT 0xd2 /* loop a byte back as keyboard data */
#define CMD_WRITE_AUX_OUTPUT 0xd3      /* loop a byte back as aux data */
#define CMD_WRITE_AUX       0xd4       /* send the next byte to the aux device */
#define CMD_A20_DISABLE     0xdd
#define CMD_A20_ENABLE      0xdf
#define CMD_READ_TEST_INPUTS 0xe0
#define CMD_PULSE_FIRST     0xf0 /* 0xf0-0xff: pulse output port bits 3:0 low
                                    where the command's bits 3:0 are 0 */

#define SELF_TEST_PASSED    0x55
#define PORT_TEST_PASSED    0x00
#define DEVICE_ABSENT_REPLY 0xfe
/* Input port: keyswitch unlocked (bit 7); the other lines mean nothing
 * to a VM. */
#define INPUT_PORT_VALUE    0x80
/* As a BIOS leaves it: system flag after POST, scan-code translation on,
 * both ports enabled, no interrupts until the OS asks. */
#define POWER_ON_COMMAND_BYTE (I8042_CTR_SYS | I8042_CTR_XLATE)

static void update_irqs(struct i8042 *kbc)
{
    bool full = (kbc->output_status & I8042_STR_OBF) != 0;
    bool aux = (kbc->output_status & I8042_STR_AUXDATA) != 0;
    bool keyboard_level = full && !aux && (kbc->command_byte & I8042_CTR_KBDINT);
    bool aux_level = full && aux && (kbc->command_byte & I8042_CTR_AUXINT);

    if (keyboard_level != kbc->keyboard_irq_level) {
        kbc->keyboard_irq_level = keyboard_level;
        irq_line_set(&kbc->keyboard_irq, keyboard_level);
    }
    if (aux_level != kbc->aux_irq_level) {
        kbc->aux_irq_level = aux_level;
        irq_line_set(&kbc->aux_irq, aux_level);
    }
}

/* One byte into the output buffer (a byte not yet read is overwritten). */
static void put_output(struct i8042 *kbc, uint8_t value, uint8_t status)
{
    kbc->output = value;
    kbc->output_status = (uint8_t)(I8042_STR_OBF | status);
}

static void reset_machine(struct i8042 *kbc)
{
    platform_request(&kbc->platform, PLATFORM_REQUEST_RESET);
}

static void run_command(struct i8042 *kbc, uint8_t command)
{
    kbc->pending_command = 0;
    if (command == CMD_READ_RAM_FIRST) {
        put_output(kbc, kbc->command_byte, 0);
    } else if (command > CMD_READ_RAM_FIRST && command <= CMD_READ_RAM_LAST) {
        put_output(kbc, 0, 0); /* the rest of the 8042's RAM: unused */
    } else if ((command >= CMD_WRITE_RAM_FIRST && command <= CMD_WRITE_RAM_LAST) ||
               command == CMD_WRITE_OUTPUT_PORT || command == CMD_WRITE_KEYBOARD_OUTPUT ||
               command == CMD_WRITE_AUX_OUTPUT || command == CMD_WRITE_AUX) {
        kbc->pending_command = command;
    } else if (command >= CMD_PULSE_FIRST) {
        if (!(command & I8042_OUT_RESET))
            reset_machine(kbc);
    } else {
        switch (command) {
        case CMD_AUX_DISABLE:      kbc->command_byte |= I8042_CTR_AUXDIS; break;
        case CMD_AUX_ENABLE:       kbc->command_byte &= (uint8_t)~I8042_CTR_AUXDIS; break;
        case CMD_KEYBOARD_DISABLE: kbc->command_byte |= I8042_CTR_KBDDIS; break;
        case CMD_KEYBOARD_ENABLE:  kbc->command_byte &= (uint8_t)~I8042_CTR_KBDDIS; break;
        case CMD_SELF_TEST:        put_output(kbc, SELF_TEST_PASSED, 0); break;
        case CMD_AUX_TEST:
        case CMD_KEYBOARD_TEST:    put_output(kbc, PORT_TEST_PASSED, 0); break;
        case CMD_READ_INPUT_PORT:  put_output(kbc, INPUT_PORT_VALUE, 0); break;
        case CMD_READ_TEST_INPUTS: put_output(kbc, 0, 0); break;
        case CMD_A20_DISABLE:      kbc->output_port &= (uint8_t)~I8042_OUT_A20; break;
        case CMD_A20_ENABLE:       kbc->output_port |= I8042_OUT_A20; break;
        case CMD_READ_OUTPUT_PORT: {
            /* Bits 4 and 5 are the two output-buffer-full lines. */
            uint8_t value = kbc->output_port;
            if (kbc->output_status & I8042_STR_OBF)
                value |= (kbc->output_status & I8042_STR_AUXDATA) ? 0x20 : 0x10;
            put_output(kbc, value, 0);
            break;
        }
        default:
            break; /* vendor commands: ignored */
        }
    }
}

static void write_data(struct i8042 *kbc, uint8_t value)
{
    uint8_t command = kbc->pending_command;

    kbc->pending_command = 0;
    if (command == CMD_WRITE_RAM_FIRST) {
        kbc->command_byte = value;
    } else if (command > CMD_WRITE_RAM_FIRST && command <= CMD_WRITE_RAM_LAST) {
        /* the rest of the 8042's RAM: nothing reads it */
    } else if (command == CMD_WRITE_OUTPUT_PORT) {
        /* Bit 0 low is the CPU's reset line; the reset over, it is high. */
        kbc->output_port = (uint8_t)((value & I8042_OUT_A20) | I8042_OUT_RESET);
        if (!(value & I8042_OUT_RESET))
            reset_machine(kbc);
    } else if (command == CMD_WRITE_KEYBOARD_OUTPUT) {
        put_output(kbc, value, 0);
    } else if (command == CMD_WRITE_AUX_OUTPUT) {
        put_output(kbc, value, I8042_STR_AUXDATA);
    } else if (command == CMD_WRITE_AUX) {
        put_output(kbc, DEVICE_ABSENT_REPLY, I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
    } else {
        put_output(kbc, DEVICE_ABSENT_REPLY, I8042_STR_TIMEOUT);
    }
}

static uint8_t read_byte(void *chip, unsigned offset, uint64_t now_ns)
{
    struct i8042 *kbc = chip;
    uint8_t value;

    (void)now_ns;
    if (offset == I8042_STATUS) {
        value = kbc->output_status | I8042_STR_KEYLOCK;
        if (kbc->command_byte & I8042_CTR_SYS)
            value |= I8042_STR_SYS;
        if (kbc->last_write_command)
            value |= I8042_STR_CMDDAT;
        return value;
    }
    if (offset != I8042_DATA)
        return 0xff;
    kbc->output_status = 0;
    update_irqs(kbc);
    return kbc->output;
}

static void write_byte(void *chip, unsigned offset, uint8_t value, uint64_t now_ns)
{
    struct i8042 *kbc = chip;

    (void)now_ns;
    if (offset == I8042_COMMAND) {
        kbc->last_write_command = true;
        run_command(kbc, value);
    } else if (offset == I8042_DATA) {
        kbc->last_write_command = false;
        write_data(kbc, value);
    }
    update_irqs(kbc);
}

void i8042_init(struct i8042 *kbc, struct irq_line keyboard_irq, struct irq_line aux_irq,
                struct platform_request_sink platform)
{
    *kbc = (struct i8042){
        .keyboard_irq = keyboard_irq,
        .aux_irq = aux_irq,
        .platform = platform,
        .command_byte = POWER_ON_COMMAND_BYTE,
        .output_port = I8042_OUT_RESET | I8042_OUT_A20,
    };
}

uint32_t i8042_read(struct i8042 *kbc, unsigned offset, unsigned size, uint64_t now_ns)
{
    return byte_port_read(kbc, read_byte, offset, size, now_ns);
}

void i8042_write(struct i8042 *kbc, unsigned offset, unsigned size, uint32_t value,
                 uint64_t now_ns)
{
    byte_port_write(kbc, write_byte, offset, size, value, now_ns);
}

bool i8042_a20_enabled(const struct i8042 *kbc)
{
    return (kbc->output_port & I8042_OUT_A20) != 0;
}
