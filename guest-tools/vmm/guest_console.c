/*
 * Guest output lines (see guest_console.h).
 */
#include "guest-tools/runtime/console.h"
#include "guest-tools/vmm/guest_console.h"

void guest_console_flush(struct guest_console_line *line)
{
    if (line->len == 0)
        return;
    console_write_line(line->prefix, line->text, line->len);
    line->len = 0;
}

void guest_console_put(struct guest_console_line *line, uint8_t c)
{
    if (c == '\n') {
        /* An empty line is still a line the guest meant to print. */
        if (line->len == 0)
            console_write_line(line->prefix, "", 0);
        guest_console_flush(line);
        return;
    }
    if (c == '\r')
        return;
    if ((c < 0x20 && c != '\t') || c >= 0x7f)
        c = '.';
    line->text[line->len++] = (char)c;
    if (line->len == sizeof(line->text))
        guest_console_flush(line);
}
