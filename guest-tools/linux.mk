# The Linux test guest: Debian 12's stock kernel and an initramfs of our
# own. Included from the top Makefile. Outputs:
#   build/linux/vmlinuz      the bzImage of linux-image-<abi>-amd64
#   build/linux/initrd.cpio  cpio newc holding /init (guest-tools/linux/init.c)
# The kernel package is fetched once with `apt-get download` (its name is
# what linux-image-amd64 depends on) and unpacked with `dpkg-deb -x` under
# build/linux/deb; nothing is installed into the machine's /boot. The
# vmlinuz target depends on nothing but its presence, so a second `make`
# downloads nothing.

LINUX_DIR     := $(BUILD)/linux
LINUX_KERNEL  := $(LINUX_DIR)/vmlinuz
LINUX_INITRD  := $(LINUX_DIR)/initrd.cpio
LINUX_INIT    := $(LINUX_DIR)/initramfs/init
LINUX_PACKAGES := cpio
LINUX_INIT_CFLAGS := -std=gnu11 -O2 -static -nostdlib -ffreestanding -fno-pie -no-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -mgeneral-regs-only \
	-Wl,-e,_start -Wl,--build-id=none -Wl,-z,noexecstack $(WARNINGS)

.PHONY: linux deps-linux
linux: $(LINUX_KERNEL) $(LINUX_INITRD)

deps-linux:
	$(call ensure_packages,$(LINUX_PACKAGES))

# The package name comes from the meta-package's dependency; an empty
# answer means apt's lists are missing, so they are fetched once.
$(LINUX_KERNEL):
	@mkdir -p $(LINUX_DIR)/deb
	@pkg=$$(apt-cache depends linux-image-amd64 2>/dev/null | \
	    sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$$/\1/p' | head -n 1); \
	if [ -z "$$pkg" ]; then apt-get update -qq; \
	  pkg=$$(apt-cache depends linux-image-amd64 | \
	    sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$$/\1/p' | head -n 1); fi; \
	[ -n "$$pkg" ] || { echo "linux: cannot resolve linux-image-amd64's kernel package"; exit 1; }; \
	echo "  FETCH   $$pkg"; \
	rm -rf $(LINUX_DIR)/deb/* && \
	(cd $(LINUX_DIR)/deb && apt-get download -q -o APT::Sandbox::User=root $$pkg >/dev/null) && \
	dpkg-deb -x $(LINUX_DIR)/deb/$$pkg_*.deb $(LINUX_DIR)/deb/root && \
	cp $(LINUX_DIR)/deb/root/boot/vmlinuz-* $@.tmp && mv $@.tmp $@ && \
	rm -rf $(LINUX_DIR)/deb/root/lib $(LINUX_DIR)/deb/root/usr
	@echo "  LINUX   $@ ($$(ls $(LINUX_DIR)/deb/root/boot/ | sed -n 's/^vmlinuz-//p'))"

$(LINUX_INIT): guest-tools/linux/init.c
	@mkdir -p $(dir $@)
	@echo "  CCINIT  $<"
	@$(CC) $(LINUX_INIT_CFLAGS) -o $@ $<

$(LINUX_INITRD): $(LINUX_INIT) | deps-linux
	@echo "  CPIO    $@"
	@cd $(LINUX_DIR)/initramfs && echo init | \
	  cpio --quiet -o -H newc --owner=0:0 --reproducible > ../initrd.cpio.tmp
	@mv $(LINUX_DIR)/initrd.cpio.tmp $@
