/*
 * INS/OUTS emulation (see string_io.h). Per element, as the CPU does:
 * OUTS reads [seg:rSI] and writes the port, INS reads the port and writes
 * [ES:rDI]; the index moves by the element size, down when RFLAGS.DF is
 * set; with REP, rCX counts down and the instruction ends at zero. The
 * address size picks SI/ESI/RSI and CX/ECX/RCX: a 16-bit index wraps
 * within 64 KiB and leaves the register's upper bits alone, a 32-bit one
 * wraps at 4 GiB and, in 64-bit mode, zero-extends (SDM vol. 1, 3.4.1.1).
 */
#include "guest-tools/vmm/pc/string_io.h"

#define PAGE 4096ull
#define RFLAGS_DF (1ull << 10)

static uint64_t mask_of(unsigned bytes)
{
    return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

/* A register written with an operand of `bytes` bytes. */
static uint64_t set_sized(uint64_t reg, uint64_t value, unsigned bytes)
{
    if (bytes == 2)
        return (reg & ~0xffffull) | (value & 0xffff);
    return value & mask_of(bytes); /* 4: zero-extends; 8: all of it */
}

/* Moves len bytes (within one element) between `bytes` and linear
 * address `linear`, page by page. */
static bool access_linear(const struct string_io_ops *ops, uint64_t linear, uint8_t *bytes,
                          unsigned len, bool write)
{
    while (len > 0) {
        uint64_t phys;
        unsigned chunk = (unsigned)(PAGE - (linear & (PAGE - 1)));

        if (chunk > len)
            chunk = len;
        if (!ops->translate(ops->ctx, linear, &phys) ||
            !ops->memory(ops->ctx, phys, bytes, chunk, write))
            return false;
        linear += chunk;
        bytes += chunk;
        len -= chunk;
    }
    return true;
}

/* The linear address of seg:index. In 64-bit mode only FS and GS have a
 * base; elsewhere the sum wraps at 4 GiB. */
static uint64_t linear_address(const struct string_io_cpu *cpu, enum insn_segment segment,
                               uint64_t offset)
{
    if (cpu->mode == INSN_MODE_64)
        return segment == INSN_SEG_FS || segment == INSN_SEG_GS
                   ? cpu->segment_base[segment] + offset : offset;
    return (cpu->segment_base[segment] + offset) & 0xffffffffull;
}

/* One element; false when its memory is not RAM. */
static bool move_element(const struct string_io_ops *ops, const struct string_io_cpu *cpu,
                         bool is_out, enum insn_segment segment, uint64_t index,
                         uint16_t port, unsigned size)
{
    uint8_t bytes[4] = { 0 };
    uint32_t value = 0;

    if (is_out) {
        if (!access_linear(ops, linear_address(cpu, segment, index), bytes, size, false))
            return false;
        for (unsigned i = 0; i < size; i++)
            value |= (uint32_t)bytes[i] << (8 * i);
        ops->port_out(ops->ctx, port, size, value);
        return true;
    }
    /* INS: the port is read before the store can fault, as on the CPU. */
    value = ops->port_in(ops->ctx, port, size);
    for (unsigned i = 0; i < size; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
    return access_linear(ops, linear_address(cpu, INSN_SEG_ES, index), bytes, size, true);
}

enum string_io_status string_io_execute(const uint8_t *insn, unsigned n, uint16_t port,
                                        bool is_out, unsigned size,
                                        const struct string_io_ops *ops,
                                        struct string_io_cpu *cpu)
{
    struct insn_prefixes p;
    unsigned address_size, element, length;
    uint64_t count, index, step, address_mask;
    enum insn_segment segment;
    uint8_t opcode;

    if (!insn_read_prefixes(insn, n, cpu->mode, &p))
        return STRING_IO_NOT_STRING_IO;
    opcode = insn[p.length];
    if (opcode < 0x6c || opcode > 0x6f || ((opcode & 2) != 0) != is_out)
        return STRING_IO_NOT_STRING_IO;
    element = opcode & 1 ? (insn_operand_size(&p, cpu->mode) == 2 ? 2 : 4) : 1;
    if (element != size)
        return STRING_IO_NOT_STRING_IO;
    length = p.length + 1;
    address_size = insn_address_size(&p, cpu->mode);
    address_mask = mask_of(address_size);
    /* INS always stores through ES; OUTS reads DS unless overridden. */
    segment = is_out && p.segment != INSN_SEG_NONE ? p.segment : INSN_SEG_DS;
    index = (is_out ? cpu->rsi : cpu->rdi) & address_mask;
    count = p.rep || p.repne ? cpu->rcx & address_mask : 1;
    step = cpu->rflags & RFLAGS_DF ? (uint64_t)-(int64_t)size : size;

    for (unsigned done = 0; count > 0 && done + size <= STRING_IO_MAX_BYTES; done += size) {
        if (!move_element(ops, cpu, is_out, segment, index, port, size))
            return STRING_IO_FAULT;
        index = (index + step) & address_mask;
        if (is_out)
            cpu->rsi = set_sized(cpu->rsi, index, address_size);
        else
            cpu->rdi = set_sized(cpu->rdi, index, address_size);
        count--;
        if (p.rep || p.repne)
            cpu->rcx = set_sized(cpu->rcx, count, address_size);
    }
    if (count > 0)
        return STRING_IO_MORE;
    cpu->rip += length;
    if (cpu->mode != INSN_MODE_64)
        cpu->rip &= cpu->mode == INSN_MODE_16 ? 0xffffull : 0xffffffffull;
    return STRING_IO_DONE;
}
