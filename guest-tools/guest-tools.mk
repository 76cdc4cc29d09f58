# Control-domain image and test guests. Included from the top Makefile, so
# paths are relative to the repository root and CC, LD, BUILD, WARNINGS come
# from there. Outputs:
#   build/guest-tools/ctl.elf            ELF64 control domain, linked at 2 MiB
#   build/guest-tools/guests/<name>.elf  multiboot1 ELF32 test guests

GT_DIR   := guest-tools
GT_BUILD := $(BUILD)/guest-tools

# ---- control domain (64-bit, freestanding) -------------------------------
GT_CTL_ELF := $(GT_BUILD)/ctl.elf
GT_CTL_LDS := $(GT_DIR)/runtime/ctl.ld
GT_CTL_CFLAGS := -std=gnu11 -m64 -O2 -g -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -mno-red-zone -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-fno-builtin -nostdlib -mcmodel=small $(WARNINGS) -I.
GT_CTL_ASFLAGS := -m64 -I. -Wa,--noexecstack
GT_CTL_LDFLAGS := -nostdlib -T $(GT_CTL_LDS) -z max-page-size=0x1000 -z noexecstack

GT_CTL_SOURCES := $(wildcard $(GT_DIR)/runtime/*.S $(GT_DIR)/runtime/*.c \
	$(GT_DIR)/libhv/*.c $(GT_DIR)/vmm/*.c $(GT_DIR)/vmm/devices/*.c $(GT_DIR)/vmm/pc/*.c \
	$(GT_DIR)/tools/*.c)
GT_CTL_OBJECTS := $(patsubst $(GT_DIR)/%,$(GT_BUILD)/ctl/%.o,$(GT_CTL_SOURCES))

$(GT_BUILD)/ctl/%.c.o: $(GT_DIR)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(GT_CTL_CFLAGS) -MMD -MP -c $< -o $@

$(GT_BUILD)/ctl/%.S.o: $(GT_DIR)/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(GT_CTL_ASFLAGS) -MMD -MP -c $< -o $@

$(GT_CTL_ELF): $(GT_CTL_OBJECTS) $(GT_CTL_LDS)
	$(LD) $(GT_CTL_LDFLAGS) -o $@ $(GT_CTL_OBJECTS)

# ---- test guests (32-bit multiboot1 kernels) -----------------------------
# Guests that check the virtual PC (LAPIC, SMP start, PIC, IOAPIC, UART,
# timers, firmware tables, power-off and reset); each also runs under
# plain QEMU q35 with the same output (tests/system/pc_guest_tests.sh).
GT_PC_GUEST_NAMES := pc_lapic pc_lapic_garbage pc_lapic_timer pc_hlt pc_tsc_deadline pc_x2apic pc_smp pc_pic pc_ioapic pc_uart_rx pc_rtc pc_pmtimer pc_firmware pc_string_io pc_task_switch pc_poweroff pc_reset
GT_GUEST_NAMES := hello triple_fault vmmcall outside_memory spin bench_guest bench_lapic bench_ipi \
	smp_hello $(GT_PC_GUEST_NAMES)
GT_GUEST_LDS := $(GT_DIR)/guests/lib/guest.ld
GT_GUEST_CFLAGS := -std=gnu11 -m32 -O2 -g -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -nostdlib -mgeneral-regs-only \
	-fno-asynchronous-unwind-tables -fno-builtin $(WARNINGS) -I.
GT_GUEST_ASFLAGS := -m32 -I. -Wa,--noexecstack
GT_GUEST_LDFLAGS := -m elf_i386 -nostdlib -T $(GT_GUEST_LDS) \
	-z max-page-size=0x1000 -z noexecstack

GT_GUEST_LIB_SOURCES := $(wildcard $(GT_DIR)/guests/lib/*.S $(GT_DIR)/guests/lib/*.c)
GT_GUEST_LIB_OBJECTS := $(patsubst $(GT_DIR)/guests/%,$(GT_BUILD)/guests/obj/%.o,\
	$(GT_GUEST_LIB_SOURCES))
# Every guest links entry.S; the rest of lib/ is an archive, so a guest
# gets only the parts it uses (hello stays free of IDTs and ACPI parsers).
GT_GUEST_ENTRY := $(GT_BUILD)/guests/obj/lib/entry.S.o
GT_GUEST_ARCHIVE := $(GT_BUILD)/guests/libguest.a
GT_GUEST_OBJECTS := $(patsubst %,$(GT_BUILD)/guests/obj/%.c.o,$(GT_GUEST_NAMES))
GT_GUEST_ELFS := $(patsubst %,$(GT_BUILD)/guests/%.elf,$(GT_GUEST_NAMES))

# Reached only through the pattern rules below: keep them (make would
# delete them as intermediates and rebuild every guest each time).
.SECONDARY: $(GT_GUEST_OBJECTS) $(GT_GUEST_LIB_OBJECTS)

$(GT_BUILD)/guests/obj/%.c.o: $(GT_DIR)/guests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	@$(CC) $(GT_GUEST_CFLAGS) -MMD -MP -c $< -o $@

$(GT_BUILD)/guests/obj/%.S.o: $(GT_DIR)/guests/%.S
	@mkdir -p $(dir $@)
	@echo "  AS32    $<"
	@$(CC) $(GT_GUEST_ASFLAGS) -MMD -MP -c $< -o $@

$(GT_GUEST_ARCHIVE): $(filter-out $(GT_GUEST_ENTRY),$(GT_GUEST_LIB_OBJECTS))
	@rm -f $@
	$(AR) rcs $@ $^

$(GT_BUILD)/guests/%.elf: $(GT_BUILD)/guests/obj/%.c.o $(GT_GUEST_ENTRY) $(GT_GUEST_ARCHIVE) $(GT_GUEST_LDS)
	$(LD) $(GT_GUEST_LDFLAGS) -o $@ $< $(GT_GUEST_ENTRY) $(GT_GUEST_ARCHIVE)

# ---- outputs -------------------------------------------------------------
GUEST_TOOLS_OUTPUTS := $(GT_CTL_ELF) $(GT_GUEST_ELFS)

.PHONY: guest-tools
guest-tools: $(GUEST_TOOLS_OUTPUTS)
all: $(GUEST_TOOLS_OUTPUTS)

-include $(GT_CTL_OBJECTS:.o=.d) $(GT_GUEST_LIB_OBJECTS:.o=.d) \
	$(GT_GUEST_OBJECTS:.o=.d)
