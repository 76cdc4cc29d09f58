/* The local APIC's modes and addressing: the x2APIC MSR interface (SDM
 * vol. 3A, 10.12), the IA32_APIC_BASE transitions between disabled, xAPIC
 * and x2APIC, and destination matching in each mode. */
#include "hv/vlapic.h"

#include "hv/vlapic_internal.h"

bool vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *value, uint64_t now)
{
    uint32_t offset = (msr - X2APIC_MSR_FIRST) << 4;
    if (!vlapic_x2apic(l) || msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
        return false;
    switch (offset) {
    case LAPIC_ICR_LOW:
        *value = (uint64_t)reg(l, LAPIC_ICR_HIGH) << 32 | reg(l, LAPIC_ICR_LOW);
        return true;
    case LAPIC_ID: case LAPIC_VERSION: case LAPIC_TPR: case LAPIC_PPR: case LAPIC_LDR:
    case LAPIC_SVR: case LAPIC_ESR: case LAPIC_LVT_TIMER: case LAPIC_LVT_THERMAL:
    case LAPIC_LVT_PERF: case LAPIC_LVT_LINT0: case LAPIC_LVT_LINT1: case LAPIC_LVT_ERROR:
    case LAPIC_TIMER_INITIAL: case LAPIC_TIMER_CURRENT: case LAPIC_TIMER_DIVIDE:
        *value = vlapic_read_register(l, offset, now);
        return true;
    default:
        if (offset >= LAPIC_ISR && offset < LAPIC_ESR) {
            *value = vlapic_read_register(l, offset, now);
            return true;
        }
        return false; /* EOI, SELF_IPI are write-only; DFR, APR, ICR high absent */
    }
}

void vlapic_x2apic_write_icr(struct vlapic *l, uint64_t value)
{
    set_reg(l, LAPIC_ICR_HIGH, (uint32_t)(value >> 32));
    set_reg(l, LAPIC_ICR_LOW, (uint32_t)value & LAPIC_ICR_LOW_WRITABLE);
}

bool vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t value, uint64_t now,
                      enum vlapic_action *action)
{
    uint32_t offset = (msr - X2APIC_MSR_FIRST) << 4;
    *action = VLAPIC_DONE;
    if (!vlapic_x2apic(l) || msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
        return false;
    if (offset == LAPIC_ICR_LOW) {
        if (value & X2APIC_ICR_RESERVED)
            return false;
        set_reg(l, LAPIC_ICR_HIGH, (uint32_t)(value >> 32));
        *action = vlapic_write_register(l, LAPIC_ICR_LOW, (uint32_t)value, now);
        return true;
    }
    if (value >> 32)
        return false;
    switch (offset) {
    case LAPIC_EOI:
        if (value)
            return false;
        *action = vlapic_eoi(l);
        return true;
    case LAPIC_SELF_IPI:
        if (value & ~0xffull)
            return false;
        vlapic_accept(l, (uint8_t)value, false);
        return true;
    case LAPIC_TPR: case LAPIC_SVR: case LAPIC_LVT_TIMER: case LAPIC_LVT_THERMAL:
    case LAPIC_LVT_PERF: case LAPIC_LVT_LINT0: case LAPIC_LVT_LINT1: case LAPIC_LVT_ERROR:
    case LAPIC_TIMER_INITIAL: case LAPIC_TIMER_DIVIDE:
        *action = vlapic_write_register(l, offset, (uint32_t)value, now);
        return true;
    case LAPIC_ESR:
        if (value)
            return false;
        *action = vlapic_write_register(l, offset, 0, now);
        return true;
    default:
        return false; /* read-only (ID, LDR, PPR...) or absent */
    }
}

bool vlapic_base_allowed(const struct vlapic *l, uint64_t value)
{
    const uint64_t address = ((1ull << l->address_bits) - 1) & ~0xfffull;
    const uint64_t defined = address | APIC_BASE_MSR_EN | APIC_BASE_MSR_EXTD | APIC_BASE_MSR_BSP;
    if (value & ~defined)
        return false;
    bool en = value & APIC_BASE_MSR_EN, extd = value & APIC_BASE_MSR_EXTD;
    bool was_x2 = vlapic_x2apic(l), was_en = l->apic_base & APIC_BASE_MSR_EN;
    if (extd && !en)
        return false;                          /* invalid state */
    if (was_x2 && en && !extd)
        return false;                          /* x2APIC to xAPIC directly */
    if (!was_en && en && extd)
        return false;                          /* disabled straight to x2APIC */
    return true;
}

bool vlapic_set_base(struct vlapic *l, uint64_t value)
{
    if (!vlapic_base_allowed(l, value))
        return false;
    bool en = value & APIC_BASE_MSR_EN, extd = value & APIC_BASE_MSR_EXTD;
    bool was_x2 = vlapic_x2apic(l);
    uint32_t id = vlapic_id(l);
    l->apic_base = value;
    if (!en) {
        set_reg(l, LAPIC_ID, id << 24);
        vlapic_reset_registers(l);                    /* as power-up, keeping the ID */
    } else if (extd && !was_x2) {
        set_reg(l, LAPIC_ID, id);
        set_reg(l, LAPIC_LDR, vlapic_x2apic_ldr(id));
    }
    return true;
}

bool vlapic_matches(const struct vlapic *l, uint32_t dest, bool logical)
{
    if (vlapic_x2apic(l)) {
        if (dest == 0xffffffffu)
            return true;
        if (!logical)
            return dest == reg(l, LAPIC_ID);
        uint32_t ldr = reg(l, LAPIC_LDR);
        return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
    }
    dest &= 0xff;
    if (dest == 0xff)
        return true;
    if (!logical)
        return dest == reg(l, LAPIC_ID) >> 24;
    uint32_t ldr = reg(l, LAPIC_LDR) >> 24;
    if ((reg(l, LAPIC_DFR) >> 28) == 0xf)     /* flat model */
        return dest & ldr;
    return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf); /* cluster model */
}

