# Installing on a box that boots through GRUB. Included from the top Makefile,
# so paths are relative to the repository root and HV_ELF, BUILD and
# GUEST_TOOLS_OUTPUTS come from there.
#   make install     the images in /boot/microhypervisor, the settings in
#                    /etc/default/microhypervisor (kept if already there) and
#                    the grub-mkconfig script /etc/grub.d/25_microhypervisor
#   make uninstall   removes what install added, the settings included
#   DESTDIR=dir      staging root: nothing is written outside it, no root needed
#   PREFIX=/usr      the prefix GRUB was installed with: /usr (Debian) keeps
#                    grub.d and default in /etc, another one in PREFIX/etc

DESTDIR    ?=
PREFIX     ?= /usr
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
BOOTDIR    ?= /boot

INSTALL_HV_DIR      := $(BOOTDIR)/microhypervisor
INSTALL_CONFIG      := $(SYSCONFDIR)/default/microhypervisor
INSTALL_GRUB_SCRIPT := $(SYSCONFDIR)/grub.d/25_microhypervisor
INSTALL_CTL_ELF     := $(BUILD)/guest-tools/ctl.elf
INSTALL_GUEST_ELFS  := $(filter-out $(INSTALL_CTL_ELF),$(GUEST_TOOLS_OUTPUTS))

.PHONY: install uninstall

install: $(HV_ELF) $(GUEST_TOOLS_OUTPUTS) iso/grub.d/25_microhypervisor.in \
		iso/default/microhypervisor
	@install -d "$(DESTDIR)$(INSTALL_HV_DIR)/guests" "$(DESTDIR)$(SYSCONFDIR)/default" \
	  "$(DESTDIR)$(SYSCONFDIR)/grub.d"
	@install -m 644 $(HV_ELF) "$(DESTDIR)$(INSTALL_HV_DIR)/hv.elf"
	@install -m 644 $(INSTALL_CTL_ELF) "$(DESTDIR)$(INSTALL_HV_DIR)/ctl.elf"
	@install -m 644 $(INSTALL_GUEST_ELFS) "$(DESTDIR)$(INSTALL_HV_DIR)/guests/"
	@echo "  INSTALL $(DESTDIR)$(INSTALL_HV_DIR)/ (hv.elf, ctl.elf, guests/*.elf)"
	@if [ -e "$(DESTDIR)$(INSTALL_CONFIG)" ]; then \
	  echo "  KEEP    $(DESTDIR)$(INSTALL_CONFIG) (already there)"; \
	else \
	  install -m 644 iso/default/microhypervisor "$(DESTDIR)$(INSTALL_CONFIG)" && \
	  echo "  INSTALL $(DESTDIR)$(INSTALL_CONFIG)"; \
	fi
	@sed -e 's|@prefix@|$(PREFIX)|g' -e 's|@exec_prefix@|$(PREFIX)|g' \
	  -e 's|@datarootdir@|$(PREFIX)/share|g' -e 's|@sysconfdir@|$(SYSCONFDIR)|g' \
	  -e 's|@hvdir@|$(INSTALL_HV_DIR)|g' iso/grub.d/25_microhypervisor.in \
	  > "$(DESTDIR)$(INSTALL_GRUB_SCRIPT)"
	@chmod 755 "$(DESTDIR)$(INSTALL_GRUB_SCRIPT)"
	@echo "  INSTALL $(DESTDIR)$(INSTALL_GRUB_SCRIPT)"
	@echo "make install: now run update-grub (or grub-mkconfig -o /boot/grub/grub.cfg)"

# Empty directories go too: ours always, their parents only inside DESTDIR
# (where install made them; on a live system /etc and /boot are not ours).
uninstall:
	@rm -f "$(DESTDIR)$(INSTALL_HV_DIR)/hv.elf" "$(DESTDIR)$(INSTALL_HV_DIR)/ctl.elf" \
	  $(patsubst %,"$(DESTDIR)$(INSTALL_HV_DIR)/guests/%",$(notdir $(INSTALL_GUEST_ELFS))) \
	  "$(DESTDIR)$(INSTALL_CONFIG)" "$(DESTDIR)$(INSTALL_GRUB_SCRIPT)"
	@for d in "$(DESTDIR)$(INSTALL_HV_DIR)/guests" "$(DESTDIR)$(INSTALL_HV_DIR)"; do \
	  [ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d"; done
	@if [ -d "$(DESTDIR)$(INSTALL_HV_DIR)" ]; then \
	  echo "  KEEP    $(DESTDIR)$(INSTALL_HV_DIR)/ (holds files install did not put there)"; fi
	@if [ -n "$(DESTDIR)" ]; then \
	  for d in $(dir $(INSTALL_CONFIG)) $(dir $(INSTALL_GRUB_SCRIPT)) $(BOOTDIR); do \
	    d=$${d%/}; \
	    while [ -n "$$d" ] && [ "$$d" != / ] && rmdir "$(DESTDIR)$$d" 2>/dev/null; do \
	      d=$$(dirname "$$d"); done; \
	  done; fi
	@echo "  REMOVED microhypervisor from $(DESTDIR)$(INSTALL_HV_DIR), $(DESTDIR)$(INSTALL_CONFIG),"
	@echo "          $(DESTDIR)$(INSTALL_GRUB_SCRIPT); now run update-grub"
