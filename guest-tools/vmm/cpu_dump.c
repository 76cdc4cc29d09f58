/*
 * The registers of a vcpu that stopped for good (a triple fault, a failed
 * entry), printed as QEMU prints a guest's CPU state when it resets: a
 * triple fault says only that the guest could not take an exception, and
 * these lines say which one it was and on what state (CR2, the stack, the
 * descriptor tables, GS and KERNEL_GS_BASE for a 64-bit kernel).
 */
#include "guest-tools/libhv/libhv.h"
#include "guest-tools/runtime/console.h"
#include "guest-tools/vmm/vmm_internal.h"

static void dump_segment(const char *label, const char *name,
                         const struct hv_segment *seg)
{
    ctl_printf("guest %s:   %-3s %04x base %016lx limit %08x type %x s%u dpl%u "
               "p%u db%u l%u g%u%s\n", label, name, seg->selector, seg->base,
               seg->limit, seg->type, seg->s, seg->dpl, seg->present, seg->db,
               seg->l, seg->g, seg->unusable ? " unusable" : "");
}

static void dump_msrs(const struct vmm_vcpu *vcpu)
{
    static const uint32_t indexes[] = {
        HV_MSR_KERNEL_GS_BASE, HV_MSR_LSTAR, HV_MSR_STAR, HV_MSR_SFMASK,
        HV_MSR_SYSENTER_ESP, HV_MSR_PAT,
    };
    enum { COUNT = sizeof(indexes) / sizeof(indexes[0]) };
    struct {
        struct hv_msrs header;
        struct hv_msr_entry entries[COUNT];
    } msrs = { .header.count = COUNT };

    for (unsigned i = 0; i < COUNT; i++)
        msrs.entries[i].index = indexes[i];
    long got = hv_get_msrs(vcpu->handle, &msrs.header);
    if (got < 0) {
        ctl_printf("guest %s:   GET_MSRS failed: %ld\n", vcpu->label, got);
        return;
    }
    ctl_printf("guest %s:   kernel_gs_base %016lx lstar %016lx star %016lx\n",
               vcpu->label, msrs.entries[0].data, msrs.entries[1].data,
               msrs.entries[2].data);
    ctl_printf("guest %s:   sfmask %016lx sysenter_esp %016lx pat %016lx\n",
               vcpu->label, msrs.entries[3].data, msrs.entries[4].data,
               msrs.entries[5].data);
}

void vmm_dump_cpu_state(const struct vmm_vcpu *vcpu)
{
    struct hv_regs r;
    struct hv_sregs s;
    struct hv_vcpu_events e;
    const char *label = vcpu->label;

    if (hv_get_regs(vcpu->handle, &r) < 0 || hv_get_sregs(vcpu->handle, &s) < 0) {
        ctl_printf("guest %s: its registers cannot be read\n", label);
        return;
    }
    ctl_printf("guest %s: state at the stop:\n", label);
    ctl_printf("guest %s:   rax %016lx rbx %016lx rcx %016lx rdx %016lx\n",
               label, r.rax, r.rbx, r.rcx, r.rdx);
    ctl_printf("guest %s:   rsi %016lx rdi %016lx rsp %016lx rbp %016lx\n",
               label, r.rsi, r.rdi, r.rsp, r.rbp);
    ctl_printf("guest %s:   r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n",
               label, r.r8, r.r9, r.r10, r.r11);
    ctl_printf("guest %s:   r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n",
               label, r.r12, r.r13, r.r14, r.r15);
    ctl_printf("guest %s:   rip %016lx rflags %08lx\n", label, r.rip, r.rflags);
    dump_segment(label, "cs", &s.cs);
    dump_segment(label, "ss", &s.ss);
    dump_segment(label, "ds", &s.ds);
    dump_segment(label, "es", &s.es);
    dump_segment(label, "fs", &s.fs);
    dump_segment(label, "gs", &s.gs);
    dump_segment(label, "tr", &s.tr);
    dump_segment(label, "ldt", &s.ldt);
    ctl_printf("guest %s:   gdt %016lx/%04x idt %016lx/%04x\n", label,
               s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
    ctl_printf("guest %s:   cr0 %08lx cr2 %016lx cr3 %016lx cr4 %08lx\n",
               label, s.cr0, s.cr2, s.cr3, s.cr4);
    ctl_printf("guest %s:   cr8 %lx efer %lx apic_base %lx\n", label, s.cr8,
               s.efer, s.apic_base);
    dump_msrs(vcpu);
    if (hv_get_vcpu_events(vcpu->handle, &e) == 0)
        ctl_printf("guest %s:   exception %s%u error %x, interrupt %s%u, nmi "
                   "injected %u pending %u masked %u, shadow %u\n", label,
                   e.exception.injected ? "injected " : "none ", e.exception.nr,
                   e.exception.error_code, e.interrupt.injected ? "injected " : "none ",
                   e.interrupt.nr, e.nmi.injected, e.nmi.pending, e.nmi.masked,
                   e.interrupt.shadow);
}
