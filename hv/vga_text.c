#include "hv/vga_text.h"

#include <stddef.h>

#define ATTRIBUTE 0x0700 /* light grey on black */

static volatile uint16_t *screen;
static uint32_t columns, rows, cursor_x, cursor_y;

void vga_text_init(uint64_t address, uint32_t width, uint32_t height)
{
    screen = (volatile uint16_t *)(uintptr_t)address;
    columns = width;
    rows = height;
    cursor_x = cursor_y = 0;
    for (uint32_t i = 0; i < columns * rows; i++)
        screen[i] = ATTRIBUTE | ' ';
}

static void scroll(void)
{
    for (uint32_t i = 0; i < columns * (rows - 1); i++)
        screen[i] = screen[i + columns];
    for (uint32_t i = columns * (rows - 1); i < columns * rows; i++)
        screen[i] = ATTRIBUTE | ' ';
    cursor_y = rows - 1;
}

void vga_text_putc(char c)
{
    if (!screen)
        return;
    if (c == '\n') {
        cursor_x = 0;
        if (++cursor_y == rows)
            scroll();
        return;
    }
    screen[cursor_y * columns + cursor_x] = ATTRIBUTE | (uint8_t)c;
    if (++cursor_x == columns) {
        cursor_x = 0;
        if (++cursor_y == rows)
            scroll();
    }
}
