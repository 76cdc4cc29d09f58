#include "hv/virt.h"

#include "abi/hv_errno.h"
#include "hv/console.h"
#include "hv/x86.h"

const struct virt_backend *virt;
bool virt_apic_virtualization_allowed = true;
bool virt_apic_access_page;

static void cpu_vendor(char out[13])
{
    uint32_t a, b, c, d;
    cpuid_count(0, 0, &a, &b, &c, &d);
    uint32_t words[3] = { b, d, c };
    for (int i = 0; i < 12; i++)
        out[i] = (char)(words[i / 4] >> (8 * (i % 4)));
    out[12] = '\0';
}

int virt_select(void)
{
    bool has_svm = cpuid_eax(0x80000000) >= 0x80000001 &&
                   (cpuid_ecx(0x80000001) & (1u << 2));
    bool has_vmx = cpuid_ecx(1) & (1u << 5);
    char vendor[13];
    cpu_vendor(vendor);

    if (!has_svm && !has_vmx) {
        pr_error("virt: this CPU (%s) has neither AMD SVM nor Intel VMX; the "
                 "hypervisor cannot run here.", vendor);
        pr_error("virt: fix: enable AMD-V (SVM) or Intel VT-x in the firmware "
                 "setup; under a hypervisor, expose it to the guest (QEMU: "
                 "-cpu ...,+svm or +vmx; KVM: modprobe kvm_amd nested=1 or "
                 "kvm_intel nested=1).");
        return -HV_ENODEV;
    }
    const struct virt_backend *chosen = has_svm ? &svm_backend : &vmx_backend;
    char why[240];
    int err = chosen->probe(why, sizeof(why));
    if (err) {
        pr_error("virt: %s: %s", chosen->name, why);
        return err;
    }
    virt = chosen;
    char features[160];
    virt->describe(features, sizeof(features));
    pr_info("virt: using %s (%s CPU): %s", virt->name, vendor, features);
    return 0;
}

int virt_enable_this_cpu(void)
{
    struct percpu *cpu = this_cpu();
    char why[240];
    int err = virt->probe(why, sizeof(why));
    if (!err)
        err = virt->enable_cpu(cpu, why, sizeof(why));
    if (err) {
        pr_error("%s: not enabled on this CPU (APIC %u): %s", virt->name,
                 cpu->apic_id, why);
        return err;
    }
    cpu->virt_enabled = true;
    pr_info("%s: enabled on CPU %u (APIC %u)", virt->name, cpu->index, cpu->apic_id);
    return 0;
}
