// sources: guest-tools/vmm/pc/string_io.c guest-tools/vmm/pc/insn_prefix.c
/* Unit tests for INS/OUTS emulation (guest-tools/vmm/pc/string_io.c):
 * single and REP forms in 16-, 32- and 64-bit code, the direction flag,
 * address-size wrap and register merging, segment overrides, batches of a
 * long REP, elements straddling a page through a non-identity mapping,
 * faults, and bytes that are not the exiting instruction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest-tools/vmm/pc/string_io.h"

#define MEMORY 0x20000u
#define PAGE 4096u

static uint8_t memory[MEMORY];
static uint8_t port_log[16384];
static unsigned port_log_len, port_reads, port_writes;
static uint16_t last_port;
static bool swap_pages;      /* linear pages 1 and 2 map to physical 2 and 1 */
/* Rights of the linear pages below: read-only; user, writable; user,
 * read-only; one maps past the memory; the rest supervisor, writable. */
#define READ_ONLY_PAGE 0x18u
#define USER_PAGE 0x19u
#define USER_READ_ONLY_PAGE 0x1au
#define NOT_RAM_PAGE 0x1bu

static bool translation_fails;  /* the VMM's TRANSLATE call itself fails */

static int translate(void *ctx, uint64_t linear, uint64_t *phys, bool *writable, bool *user)
{
    (void)ctx;
    uint64_t page = linear / PAGE;
    if (swap_pages && (page == 1 || page == 2))
        page = 3 - page;
    *phys = (page == NOT_RAM_PAGE ? MEMORY / PAGE : page) * PAGE + linear % PAGE;
    *writable = page != READ_ONLY_PAGE && page != USER_READ_ONLY_PAGE;
    *user = page == USER_PAGE || page == USER_READ_ONLY_PAGE;
    if (translation_fails)
        return -1;
    return linear < MEMORY;
}

static bool access_memory(void *ctx, uint64_t phys, void *bytes, unsigned len, bool write)
{
    (void)ctx;
    assert_true(phys / PAGE == (phys + len - 1) / PAGE); /* never across a page */
    if (phys + len > MEMORY)
        return false;
    if (write)
        memcpy(memory + phys, bytes, len);
    else
        memcpy(bytes, memory + phys, len);
    return true;
}

static uint32_t port_in(void *ctx, uint16_t port, unsigned size)
{
    (void)ctx;
    last_port = port;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)(uint8_t)(0x10 + port_reads * size + i) << (8 * i);
    port_reads++;
    return v;
}

static void port_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
    (void)ctx;
    last_port = port;
    for (unsigned i = 0; i < size && port_log_len < sizeof(port_log); i++)
        port_log[port_log_len++] = (uint8_t)(value >> (8 * i));
    port_writes++;
}

static const struct string_io_ops ops = { translate, access_memory, port_in, port_out, NULL };

static int setup(void **state)
{
    (void)state;
    memset(memory, 0, sizeof(memory));
    port_log_len = port_reads = port_writes = 0;
    swap_pages = false;
    translation_fails = false;
    return 0;
}

static struct string_io_cpu cpu32(void)
{
    return (struct string_io_cpu){ .mode = INSN_MODE_32, .rip = 0x1000, .rflags = 2 };
}

static void test_single_outsb(void **state)
{
    (void)state;
    struct string_io_cpu cpu = cpu32();
    memcpy(memory + 0x5000, "Hi", 2);
    cpu.rsi = 0x5000;
    cpu.rcx = 77;                   /* untouched without REP */
    const uint8_t outsb[] = { 0x6e };
    assert_int_equal(string_io_execute(outsb, 1, 0x3f8, true, 1, &ops, &cpu), STRING_IO_DONE);
    assert_int_equal(port_log_len, 1);
    assert_int_equal(port_log[0], 'H');
    assert_int_equal(last_port, 0x3f8);
    assert_int_equal(cpu.rsi, 0x5001);
    assert_int_equal(cpu.rcx, 77);
    assert_int_equal(cpu.rip, 0x1001);
}

static void test_rep_insb_fw_cfg(void **state)
{
    (void)state;
    /* SeaBIOS reads fw_cfg items with rep insb. */
    struct string_io_cpu cpu = cpu32();
    cpu.rdi = 0x6000;
    cpu.rcx = 16;
    cpu.segment_base[INSN_SEG_ES] = 0x100;
    const uint8_t rep_insb[] = { 0xf3, 0x6c };
    assert_int_equal(string_io_execute(rep_insb, 2, 0x511, false, 1, &ops, &cpu), STRING_IO_DONE);
    assert_int_equal(port_reads, 16);
    for (unsigned i = 0; i < 16; i++)
        assert_int_equal(memory[0x6100 + i], 0x10 + i);
    assert_int_equal(cpu.rdi, 0x6010);
    assert_int_equal(cpu.rcx, 0);
    assert_int_equal(cpu.rip, 0x1002);
    /* REP with a zero count does nothing but move on. */
    cpu.rip = 0x1000;
    assert_int_equal(string_io_execute(rep_insb, 2, 0x511, false, 1, &ops, &cpu), STRING_IO_DONE);
    assert_int_equal(port_reads, 16);
    assert_int_equal(cpu.rip, 0x1002);
}

static void test_direction_flag_and_words(void **state)
{
    (void)state;
    struct string_io_cpu cpu = cpu32();
    cpu.rflags |= 1u << 10;        /* DF: downwards */
    cpu.rsi = 0x7004;
    cpu.rcx = 3;
    memcpy(memory + 0x7000, (const uint8_t[]){ 1, 0, 2, 0, 3, 0 }, 6);
    const uint8_t rep_outsw[] = { 0x66, 0xf3, 0x6f };
    assert_int_equal(string_io_execute(rep_outsw, 3, 0x1f0, true, 2, &ops, &cpu), STRING_IO_DONE);
    assert_int_equal(port_log_len, 6);
    assert_memory_equal(port_log, ((const uint8_t[]){ 3, 0, 2, 0, 1, 0 }), 6);
    assert_int_equal(cpu.rsi, 0x6ffe);
    assert_int_equal(cpu.rip, 0x1003);
}

static void test_real_mode_wraps_16_bits(void **state)
{
    (void)state;
    struct string_io_cpu cpu = { .mode = INSN_MODE_16, .rip = 0xfffe, .rflags = 2 };
    cpu.segment_base[INSN_SEG_ES] = 0x10000;
    cpu.rdi = 0xdead0000fffeull;   /* upper bits stay: only DI is used */
    cpu.rcx = 0xffff0000 | 4;
    const uint8_t rep_insb[] = { 0xf3, 0x6c };
    assert_int_equal(string_io_execute(rep_insb, 2, 0x60, false, 1, &ops, &cpu), STRING_IO_DONE);
    assert_int_equal(memory[0x1fffe], 0x10);
    assert_int_equal(memory[0x1ffff], 0x11);
    assert_int_equal(memory[0x10000], 0x12);     /* DI wrapped to 0 */
    assert_int_equal(memory[0x10001], 0x13);
    assert_int_equal(cpu.rdi, 0xdead00000002ull);
    assert_int_equal(cpu.rcx, 0xffff0000u);
    assert_int_equal(cpu.rip, 0);                /* IP wraps too */
}

static void test_64bit_mode(void **state)
{
    (void)state;
    struct string_io_cpu cpu = { .mode = INSN_MODE_64, .rip = 0x1000, .rflags = 2 };
    /* DS's base counts for nothing in 64-bit mode, GS's does. */
    cpu.segment_base[INSN_SEG_DS] = 0x4000;
    cpu.segment_base[INSN_SEG_GS] = 0x8000;
    memory[0x100] = 'a';
    memory[0x8100] = 'b';
    cpu.rsi = 0x100;
    const uint8_t outsb[] = { 0x6e };
    assert_int_equal(string_io_execute(outsb, 1, 0x3f8, true, 1, &ops, &cpu), STRING_IO_DONE);
    cpu.rsi = 0x100;
    const uint8_t gs_outsb[] = { 0x65, 0x6e };
    assert_int_equal(string_io_execute(gs_outsb, 2, 0x3f8, true, 1, &ops, &cpu), STRING_IO_DONE);
    assert_memory_equal(port_log, "ab", 2);
    /* A REX.W prefix does not make an 8-byte element; 0x67 makes ECX and
     * EDI count, zero-extended. */
    cpu.rdi = 0xffffffff00000200ull;
    cpu.rcx = 0xffffffff00000002ull;
    const uint8_t rep_insd[] = { 0x67, 0xf3, 0x48, 0x6d };
    assert_int_equal(string_io_execute(rep_insd, 4, 0xcfc, false, 4, &ops, &cpu), STRING_IO_DONE);
    assert_int_equal(cpu.rdi, 0x208);
    assert_int_equal(cpu.rcx, 0);
}

static void test_long_rep_in_batches(void **state)
{
    (void)state;
    struct string_io_cpu cpu = cpu32();
    cpu.rsi = 0x1000;
    cpu.rcx = STRING_IO_MAX_BYTES + 10;
    const uint8_t rep_outsb[] = { 0xf3, 0x6e };
    assert_int_equal(string_io_execute(rep_outsb, 2, 0x3f8, true, 1, &ops, &cpu), STRING_IO_MORE);
    assert_int_equal(cpu.rip, 0x1000);       /* executed again by the guest */
    assert_int_equal(cpu.rcx, 10);
    assert_int_equal(port_writes, STRING_IO_MAX_BYTES);
    assert_int_equal(string_io_execute(rep_outsb, 2, 0x3f8, true, 1, &ops, &cpu), STRING_IO_DONE);
    assert_int_equal(cpu.rcx, 0);
    assert_int_equal(cpu.rsi, 0x1000 + STRING_IO_MAX_BYTES + 10);
}

static void test_element_across_pages(void **state)
{
    (void)state;
    /* A dword at linear 0x1ffe spans linear pages 1 and 2, which map to
     * physical pages 2 and 1. */
    swap_pages = true;
    struct string_io_cpu cpu = cpu32();
    cpu.rdi = 0x1ffe;
    const uint8_t insd[] = { 0x6d };
    assert_int_equal(string_io_execute(insd, 1, 0x510, false, 4, &ops, &cpu), STRING_IO_DONE);
    assert_int_equal(memory[0x2ffe], 0x10);
    assert_int_equal(memory[0x2fff], 0x11);
    assert_int_equal(memory[0x1000], 0x12);
    assert_int_equal(memory[0x1001], 0x13);
}

static void test_faults_and_mismatches(void **state)
{
    (void)state;
    struct string_io_cpu cpu = cpu32();
    cpu.rsi = MEMORY - 2;
    cpu.rcx = 5;
    const uint8_t rep_outsb[] = { 0xf3, 0x6e };
    /* Past the page tables' mappings: #PF (not present, a read). */
    assert_int_equal(string_io_execute(rep_outsb, 2, 0x3f8, true, 1, &ops, &cpu),
                     STRING_IO_GUEST_FAULT);
    assert_int_equal(port_writes, 2);      /* the elements before it happened */
    assert_int_equal(cpu.rcx, 3);
    assert_int_equal(cpu.rip, 0x1000);
    assert_int_equal(cpu.fault_vector, 14);
    assert_int_equal(cpu.fault_address, MEMORY);
    assert_int_equal(cpu.fault_error, 0);
    /* Mapped, but not to the VM's RAM: the VMM's stop. */
    cpu.rsi = NOT_RAM_PAGE * PAGE - 1;
    cpu.rcx = 2;
    assert_int_equal(string_io_execute(rep_outsb, 2, 0x3f8, true, 1, &ops, &cpu), STRING_IO_FAULT);
    assert_int_equal(port_writes, 3);
    assert_int_equal(cpu.rcx, 1);
    port_writes = 2;
    /* Not the instruction that exited: direction, size or opcode differ. */
    const uint8_t insb[] = { 0x6c }, outsd[] = { 0x6f }, nop[] = { 0x90 }, prefixes[] = { 0xf3, 0x66 };
    assert_int_equal(string_io_execute(insb, 1, 0x3f8, true, 1, &ops, &cpu), STRING_IO_NOT_STRING_IO);
    assert_int_equal(string_io_execute(outsd, 1, 0x3f8, true, 2, &ops, &cpu), STRING_IO_NOT_STRING_IO);
    assert_int_equal(string_io_execute(nop, 1, 0x3f8, true, 1, &ops, &cpu), STRING_IO_NOT_STRING_IO);
    assert_int_equal(string_io_execute(prefixes, 2, 0x3f8, true, 1, &ops, &cpu), STRING_IO_NOT_STRING_IO);
    assert_int_equal(port_writes, 2);
}

/* The page's rights (SDM 3A 4.6), each refusal a #PF with its error code
 * (P, W, U) and CR2, the instruction not moved past: a write to a
 * read-only page unless CR0.WP is clear at CPL < 3, any supervisor page
 * at CPL 3, a user page at CPL < 3 under SMAP unless RFLAGS.AC. */
static void test_page_rights_give_page_faults(void **state)
{
    (void)state;
    const uint8_t insb[] = { 0x6c }, outsb[] = { 0x6e };
    struct string_io_cpu cpu = cpu32();
    cpu.write_protect = true;
    cpu.rdi = READ_ONLY_PAGE * PAGE + 8;
    assert_int_equal(string_io_execute(insb, 1, 0x80, false, 1, &ops, &cpu), STRING_IO_GUEST_FAULT);
    assert_int_equal(cpu.fault_address, READ_ONLY_PAGE * PAGE + 8);
    assert_int_equal(cpu.fault_error, 3);          /* present, write */
    assert_int_equal(cpu.rip, 0x1000);
    assert_int_equal(cpu.rdi, READ_ONLY_PAGE * PAGE + 8);
    assert_int_equal(port_reads, 0);               /* restartable: the port not read */
    cpu.write_protect = false;                     /* CR0.WP clear: supervisor writes go */
    assert_int_equal(string_io_execute(insb, 1, 0x80, false, 1, &ops, &cpu), STRING_IO_DONE);
    assert_int_equal(memory[READ_ONLY_PAGE * PAGE + 8], 0x10);

    cpu = cpu32();
    cpu.cpl = 3;
    cpu.rsi = 0x5000;                              /* supervisor page */
    assert_int_equal(string_io_execute(outsb, 1, 0x80, true, 1, &ops, &cpu), STRING_IO_GUEST_FAULT);
    assert_int_equal(cpu.fault_error, 5);          /* present, user */
    cpu.rsi = USER_READ_ONLY_PAGE * PAGE;
    assert_int_equal(string_io_execute(outsb, 1, 0x80, true, 1, &ops, &cpu), STRING_IO_DONE);
    cpu.rip = 0x1000;
    cpu.rdi = USER_READ_ONLY_PAGE * PAGE;
    assert_int_equal(string_io_execute(insb, 1, 0x80, false, 1, &ops, &cpu), STRING_IO_GUEST_FAULT);
    assert_int_equal(cpu.fault_error, 7);          /* present, write, user */
    cpu.rdi = USER_PAGE * PAGE;
    assert_int_equal(string_io_execute(insb, 1, 0x80, false, 1, &ops, &cpu), STRING_IO_DONE);

    cpu = cpu32();
    cpu.smap = true;
    cpu.rdi = USER_PAGE * PAGE;
    assert_int_equal(string_io_execute(insb, 1, 0x80, false, 1, &ops, &cpu), STRING_IO_GUEST_FAULT);
    assert_int_equal(cpu.fault_error, 3);
    cpu.rflags |= 1u << 18;                        /* AC */
    assert_int_equal(string_io_execute(insb, 1, 0x80, false, 1, &ops, &cpu), STRING_IO_DONE);
}

/* An element straddling into a page it may not write is not done in
 * part: nothing is stored, the port is not read, CR2 is the second
 * page's first byte. */
static void test_straddling_element_faults_whole(void **state)
{
    (void)state;
    const uint8_t insd[] = { 0x6d };
    struct string_io_cpu cpu = cpu32();
    cpu.write_protect = true;
    cpu.rdi = READ_ONLY_PAGE * PAGE - 2;
    memset(memory + READ_ONLY_PAGE * PAGE - 2, 0xee, 4);
    assert_int_equal(string_io_execute(insd, 1, 0x510, false, 4, &ops, &cpu), STRING_IO_GUEST_FAULT);
    assert_int_equal(cpu.fault_address, READ_ONLY_PAGE * PAGE);
    assert_int_equal(port_reads, 0);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(memory[READ_ONLY_PAGE * PAGE - 2 + i], 0xee);
}

/* In 64-bit mode a non-canonical address is #GP(0), or #SS(0) through
 * SS, before any translation; a TRANSLATE call that fails is the VMM's
 * trouble (the VM stops), not a #PF. */
static void test_non_canonical_and_failed_translation(void **state)
{
    (void)state;
    const uint8_t outsb[] = { 0x6e }, ss_outsb[] = { 0x36, 0x6e };
    struct string_io_cpu cpu = { .mode = INSN_MODE_64, .rip = 0x1000, .rflags = 2,
                                 .rsi = 0x0000800000000000ull };
    assert_int_equal(string_io_execute(outsb, 1, 0x80, true, 1, &ops, &cpu), STRING_IO_GUEST_FAULT);
    assert_int_equal(cpu.fault_vector, 13);
    assert_int_equal(cpu.fault_error, 0);
    assert_int_equal(string_io_execute(ss_outsb, 2, 0x80, true, 1, &ops, &cpu),
                     STRING_IO_GUEST_FAULT);
    assert_int_equal(cpu.fault_vector, 12);
    assert_int_equal(port_writes, 0);
    cpu.la57 = true;             /* with LA57 the same address is canonical: walked, not present */
    assert_int_equal(string_io_execute(outsb, 1, 0x80, true, 1, &ops, &cpu), STRING_IO_GUEST_FAULT);
    assert_int_equal(cpu.fault_vector, 14);
    assert_int_equal(cpu.fault_address, 0x0000800000000000ull);
    cpu.rsi = 0x5000;
    assert_int_equal(string_io_execute(outsb, 1, 0x80, true, 1, &ops, &cpu), STRING_IO_DONE);
    translation_fails = true;
    cpu.rip = 0x1000;
    assert_int_equal(string_io_execute(outsb, 1, 0x80, true, 1, &ops, &cpu), STRING_IO_FAULT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_single_outsb, setup),
        cmocka_unit_test_setup(test_rep_insb_fw_cfg, setup),
        cmocka_unit_test_setup(test_direction_flag_and_words, setup),
        cmocka_unit_test_setup(test_real_mode_wraps_16_bits, setup),
        cmocka_unit_test_setup(test_64bit_mode, setup),
        cmocka_unit_test_setup(test_long_rep_in_batches, setup),
        cmocka_unit_test_setup(test_element_across_pages, setup),
        cmocka_unit_test_setup(test_faults_and_mismatches, setup),
        cmocka_unit_test_setup(test_page_rights_give_page_faults, setup),
        cmocka_unit_test_setup(test_straddling_element_faults_whole, setup),
        cmocka_unit_test_setup(test_non_canonical_and_failed_translation, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
