#include "guest-tools/vmm/pc/console_switch.h"

void console_switch_init(struct console_switch *sw, unsigned guests)
{
    sw->guests = guests > 9 ? 9 : guests;
    sw->focus = 0;
    sw->escaped = false;
}

size_t console_switch_step(struct console_switch *sw, const uint8_t *in, size_t n,
                           uint8_t *out, size_t *out_count, int *switched)
{
    size_t used = 0, kept = 0;

    *switched = CONSOLE_SWITCH_NONE;
    while (used < n) {
        uint8_t c = in[used++];

        if (!sw->escaped) {
            if (c == CONSOLE_SWITCH_ESCAPE)
                sw->escaped = true;
            else
                out[kept++] = c;
            continue;
        }
        sw->escaped = false;
        if (c == CONSOLE_SWITCH_ESCAPE) {
            out[kept++] = c;
        } else if (c >= '0' && c <= '9' && (unsigned)(c - '0') <= sw->guests) {
            sw->focus = (unsigned)(c - '0');
            *switched = (int)sw->focus;
            break;
        }
    }
    *out_count = kept;
    return used;
}

bool console_switch_targets(const struct console_switch *sw, unsigned number)
{
    return sw->focus == 0 || sw->focus == number;
}
