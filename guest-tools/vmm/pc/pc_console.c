/*
 * Typed input from the hypervisor's console for a running PC guest's
 * COM1: runner 0 reads it (CONSOLE_READ) whenever its RUN ends with
 * HV_EXIT_INTR, which the hypervisor makes happen when input arrives for
 * CPU 0, and passes what the console switch (console_switch.h) routes to
 * this guest into the UART's input queue, where it waits for RTS as
 * typed bytes do (pc_machine.h). The guest then gets its receive
 * interrupt through the 8259 or the IOAPIC, as it wired COM1's IRQ 4.
 *
 * Guests running at once (pc_vms_run) share the console: the reader
 * passes the input to the guest the switch names, or, with no guest
 * named, to the lowest-numbered guest still running. Attaching and
 * detaching happen on CPU 0 while no guest runs there, reading on runner
 * 0's CPU, so the table of attached guests needs no lock.
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/vmm/pc/pc_internal.h"

#define READ_CHUNK 256

/* Runner 0's buffers: it alone reads (its CPU is the console's reader). */
static uint8_t typed[READ_CHUNK];
static uint8_t routed[READ_CHUNK];
/* The guests that take input, by number (1-based). */
static struct pc_vm *attached[HV_BOOT_MAX_MODULES + 1];

void pc_vm_attach_console(struct pc_vm *pc, struct console_switch *sw, unsigned number)
{
    pc->console = sw;
    pc->console_number = number;
    if (number < sizeof(attached) / sizeof(attached[0]))
        attached[number] = pc;
}

void pc_console_detach(struct pc_vm *pc)
{
    if (pc->console != NULL && pc->console_number < sizeof(attached) / sizeof(attached[0]) &&
        attached[pc->console_number] == pc)
        attached[pc->console_number] = NULL;
    pc->console = NULL;
}

/* The guest that input goes to when focus (0: none named) was in force;
 * NULL: not running. */
static struct pc_vm *input_target(unsigned focus)
{
    if (focus != 0)
        return focus < sizeof(attached) / sizeof(attached[0]) && attached[focus] != NULL &&
               !pc_stopping(attached[focus]) ? attached[focus] : NULL;
    for (unsigned n = 1; n < sizeof(attached) / sizeof(attached[0]); n++)
        if (attached[n] != NULL && !pc_stopping(attached[n]))
            return attached[n];
    return NULL;
}

/* Bytes read by pc's runner 0 while `focus` was in force. */
static void deliver(struct pc_vm *pc, const struct pc_runner *runner, unsigned focus,
                    const uint8_t *bytes, size_t count)
{
    struct pc_vm *target = input_target(focus);

    if (count == 0)
        return;
    if (target == NULL) {
        if (!pc->console_dropped_noted)
            ctl_printf("console: guest %u has the input, not %s (%u): dropped\n",
                       focus, pc->vm.name, pc->console_number);
        pc->console_dropped_noted = true;
        return;
    }
    uint64_t now = pc_lock_devices(target);
    pc_machine_queue_input(target->machine, bytes, count, now);
    pc_unlock_devices(target);
    pc_notify_runner0(target, target == pc ? runner : NULL);
}

static void note_switch(struct pc_vm *pc, int focus)
{
    pc->console_dropped_noted = false;
    if (focus == 0)
        ctl_printf("console: typed input goes to the running guest\n");
    else
        ctl_printf("console: typed input goes to guest %d only\n", focus);
}

void pc_console_poll(struct pc_vm *pc, const struct pc_runner *runner)
{
    long n;

    if (pc->console == NULL)
        return;
    while ((n = hv_console_read(pc->vm.sys, hv_gpa(typed), sizeof(typed))) > 0) {
        size_t at = 0;

        while (at < (size_t)n) {
            /* The bytes before a switch belong to the focus before it. */
            unsigned focus_before = pc->console->focus;
            size_t kept;
            int switched;

            at += console_switch_step(pc->console, typed + at, (size_t)n - at, routed, &kept,
                                      &switched);
            deliver(pc, runner, focus_before, routed, kept);
            if (switched != CONSOLE_SWITCH_NONE)
                note_switch(pc, switched);
        }
    }
}
