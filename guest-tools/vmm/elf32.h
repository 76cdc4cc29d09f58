/*
 * The parts of the 32-bit ELF format (System V ABI, "Object Files") the
 * multiboot loader reads: the file header and the program headers.
 */
#ifndef GUEST_TOOLS_VMM_ELF32_H
#define GUEST_TOOLS_VMM_ELF32_H

#include <stdint.h>

#define ELF_MAGIC       "\177ELF"
#define ELF_MAGIC_LEN   4
#define ELF_CLASS_32    1       /* e_ident[EI_CLASS] */
#define ELF_DATA_LSB    1       /* e_ident[EI_DATA]: little endian */
#define ELF_TYPE_EXEC   2       /* e_type */
#define ELF_MACHINE_386 3       /* e_machine */
#define ELF_PT_LOAD     1       /* p_type */

#define ELF_IDENT_CLASS 4
#define ELF_IDENT_DATA  5

struct elf32_header {
    uint8_t e_ident[16];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint32_t e_entry;
    uint32_t e_phoff;
    uint32_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
};
_Static_assert(sizeof(struct elf32_header) == 52, "elf32_header");

struct elf32_program_header {
    uint32_t p_type;
    uint32_t p_offset;
    uint32_t p_vaddr;
    uint32_t p_paddr;
    uint32_t p_filesz;
    uint32_t p_memsz;
    uint32_t p_flags;
    uint32_t p_align;
};
_Static_assert(sizeof(struct elf32_program_header) == 32, "elf32_program_header");

#endif
