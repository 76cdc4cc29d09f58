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
#define RFLAGS_AC (1ull << 18)
#define PF_PRESENT (1u << 0)   /* #PF error code (SDM 3A 4.7) */
#define PF_WRITE   (1u << 1)
#define PF_USER    (1u << 2)
#define VECTOR_SS  12
#define VECTOR_GP  13
#define VECTOR_PF  14

/* Bits 63 down to the top linear-address bit all equal (SDM 3A
 * 3.3.7.1). */
static bool canonical(uint64_t address, bool la57)
{
    unsigned shift = la57 ? 64 - 57 : 64 - 48;
    return (uint64_t)((int64_t)(address << shift) >> shift) == address;
}

/* Whether the page's rights allow the access (SDM 3A 4.6). */
static bool permitted(const struct string_io_cpu *cpu, bool write, bool writable, bool user)
{
    if (cpu->cpl == 3)
        return user && (!write || writable);
    if (user && cpu->smap && !(cpu->rflags & RFLAGS_AC))
        return false;
    return !write || writable || !cpu->write_protect;
}

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

/* The pages of an element at `linear` (one, or two when it straddles):
 * their guest-physical addresses, or the page fault the access takes
 * (recorded in *cpu). All are checked before a byte moves, so that an
 * element is done whole or not at all, and an INS that faults has not
 * read its port: the instruction restarts cleanly after the guest's
 * handler, as the CPU's (and QEMU's, which writes a dummy first). */
static enum string_io_status translate_element(const struct string_io_ops *ops,
                                               struct string_io_cpu *cpu,
                                               enum insn_segment segment, uint64_t linear,
                                               unsigned len, bool write, uint64_t phys[2])
{
    unsigned i = 0;
    uint64_t end = linear + len;
    for (uint64_t at = linear; at < end; at = (at | (PAGE - 1)) + 1, i++) {
        /* Outside 64-bit mode a linear address wraps at 4 GiB. */
        uint64_t address = cpu->mode == INSN_MODE_64 ? at : at & 0xffffffffull;
        if (cpu->mode == INSN_MODE_64 && !canonical(address, cpu->la57)) {
            cpu->fault_vector = segment == INSN_SEG_SS ? VECTOR_SS : VECTOR_GP;
            cpu->fault_error = 0;
            return STRING_IO_GUEST_FAULT;
        }
        bool writable, user;
        int present = ops->translate(ops->ctx, address, &phys[i], &writable, &user);
        if (present < 0)
            return STRING_IO_FAULT;
        if (!present || !permitted(cpu, write, writable, user)) {
            cpu->fault_vector = VECTOR_PF;
            cpu->fault_address = address;
            cpu->fault_error = (present ? PF_PRESENT : 0) | (write ? PF_WRITE : 0) |
                               (cpu->cpl == 3 ? PF_USER : 0);
            return STRING_IO_GUEST_FAULT;
        }
    }
    return STRING_IO_DONE;
}

/* Moves len bytes (one element) between `bytes` and the pages found by
 * translate_element; false when they are not RAM. */
static bool copy_element(const struct string_io_ops *ops, uint64_t linear,
                         const uint64_t phys[2], uint8_t *bytes, unsigned len, bool write)
{
    for (unsigned i = 0; len > 0; i++) {
        unsigned chunk = (unsigned)(PAGE - (linear & (PAGE - 1)));
        if (chunk > len)
            chunk = len;
        if (!ops->memory(ops->ctx, phys[i], bytes, chunk, write))
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

/* One element. */
static enum string_io_status move_element(const struct string_io_ops *ops,
                                          struct string_io_cpu *cpu, bool is_out,
                                          enum insn_segment segment, uint64_t index,
                                          uint16_t port, unsigned size)
{
    enum insn_segment used = is_out ? segment : INSN_SEG_ES;
    uint64_t linear = linear_address(cpu, used, index), phys[2];
    uint8_t bytes[4] = { 0 };
    uint32_t value = 0;
    enum string_io_status translated = translate_element(ops, cpu, used, linear, size, !is_out,
                                                         phys);

    if (translated != STRING_IO_DONE)
        return translated;
    if (is_out) {
        if (!copy_element(ops, linear, phys, bytes, size, false))
            return STRING_IO_FAULT;
        for (unsigned i = 0; i < size; i++)
            value |= (uint32_t)bytes[i] << (8 * i);
        ops->port_out(ops->ctx, port, size, value);
        return STRING_IO_DONE;
    }
    /* INS into memory that is no RAM: the port is read first, as on the
     * CPU, and the VM stops (the caller's STRING_IO_FAULT). */
    value = ops->port_in(ops->ctx, port, size);
    for (unsigned i = 0; i < size; i++)
        bytes[i] = (uint8_t)(value >> (8 * i));
    return copy_element(ops, linear, phys, bytes, size, true) ? STRING_IO_DONE : STRING_IO_FAULT;
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
        enum string_io_status r = move_element(ops, cpu, is_out, segment, index, port, size);
        if (r != STRING_IO_DONE)
            return r;
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
