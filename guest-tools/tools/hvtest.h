/*
 * hvtest: the hypercall ABI conformance suite, run inside the control
 * domain. Each test checks one documented behaviour of abi/README.md by
 * its effect or its exact error code and prints one line:
 *   [ctl] hvtest: PASS <name>
 *   [ctl] hvtest: FAIL <name>: <what was expected and what came back>
 *
 * Files: hvtest.c (runner and checks), hvtest_guest.c (small VMs, a byte
 * assembler for 32-bit guest code, run loops), then one file per area:
 * hvtest_calls.c, hvtest_user_mode.c (calls from the domain's CPL 3),
 * hvtest_page_walk.c (a guest's page tables on MMIO),
 * hvtest_state.c, hvtest_run.c, hvtest_exits.c,
 * hvtest_guest_insn.c, hvtest_sregs.c and hvtest_sregs_sweep.c (SET_SREGS
 * and the hardware's guest-state rules), hvtest_handles.c, hvtest_args.c,
 * hvtest_memory.c,
 * hvtest_region_churn.c (slot churn and nested tables), hvtest_lifecycle.c,
 * hvtest_hostile.c, hvtest_msrs.c, hvtest_msrs_refused.c,
 * hvtest_msr_switch.c, hvtest_cr2.c, hvtest_speculation.c (with 64-bit guests from
 * hvtest_guest64.c),
 * hvtest_translate.c, hvtest_kick.c, hvtest_dirty.c, hvtest_interrupt.c,
 * hvtest_debug.c, hvtest_debugregs.c, hvtest_debugregs_guest.c,
 * hvtest_cpuid.c, hvtest_cpuid_calls.c, hvtest_smp.c, hvtest_nmi.c,
 * hvtest_concurrency.c and hvtest_concurrency_close.c (calls racing from
 * several CPUs), hvtest_fpu.c (extended state), hvtest_lapic.c (local
 * APICs of HV_VM_LAPIC VMs), hvtest_events.c and hvtest_events_guest.c
 * (GET/SET_VCPU_EVENTS, the NMI window), hvtest_msr_exits.c
 * (user-space MSR exits), hvtest_mmio_exits.c (decoded MMIO exits),
 * hvtest_fault.c (allocation failures made by
 * FAULT_INJECT), hvtest_fuzz_found.c (what the fuzz tool found),
 * hvtest_emulator_guards.c (states that crashed QEMU, now guarded),
 * hvtest_ports.c (the hypervisor's own I/O ports), hvtest_high_gprs.c
 * (emulated instructions naming R12-R15), hvtest_code_walk.c (the walk to
 * a paging guest's code page, kept), hvtest_migrate.c (a vcpu's whole
 * state moved to another VM mid-run).
 *
 * Resources: the runner takes a page-allocator mark before each test and
 * releases it after, and closes every handle a test passed to hvt_keep, so
 * a test that stops at its first failed check leaks nothing. It then
 * compares GET_STATS with the figures from before the test: a difference
 * fails the test (a leak in the hypervisor or in the test).
 *
 * Everything runs on control-domain vcpu 0 and nothing here is locked,
 * except the concurrency tests' jobs, which keep their own records.
 */
#ifndef GUEST_TOOLS_TOOLS_HVTEST_H
#define GUEST_TOOLS_TOOLS_HVTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/hv_abi.h"
#include "guest-tools/vmm/vmm.h"

struct hvtest_case {
    const char *name;          /* stable snake_case identifier */
    void (*run)(void);
};

/* Each area's tests, each table ending with a NULL name. */
extern const struct hvtest_case hvtest_calls_cases[];
extern const struct hvtest_case hvtest_user_mode_cases[];
extern const struct hvtest_case hvtest_page_walk_cases[];
extern const struct hvtest_case hvtest_state_cases[];
extern const struct hvtest_case hvtest_sregs_cases[];
extern const struct hvtest_case hvtest_sregs_sweep_cases[];
extern const struct hvtest_case hvtest_run_cases[];
extern const struct hvtest_case hvtest_exits_cases[];
extern const struct hvtest_case hvtest_guest_insn_cases[];
extern const struct hvtest_case hvtest_handles_cases[];
extern const struct hvtest_case hvtest_args_cases[];
extern const struct hvtest_case hvtest_memory_cases[];
extern const struct hvtest_case hvtest_region_churn_cases[];
extern const struct hvtest_case hvtest_lifecycle_cases[];
extern const struct hvtest_case hvtest_hostile_cases[];
extern const struct hvtest_case hvtest_msrs_cases[];
extern const struct hvtest_case hvtest_msrs_refused_cases[];
extern const struct hvtest_case hvtest_msr_switch_cases[];
extern const struct hvtest_case hvtest_cr2_cases[];
extern const struct hvtest_case hvtest_speculation_cases[];
extern const struct hvtest_case hvtest_translate_cases[];
extern const struct hvtest_case hvtest_kick_cases[];
extern const struct hvtest_case hvtest_dirty_cases[];
extern const struct hvtest_case hvtest_interrupt_cases[];
extern const struct hvtest_case hvtest_debug_cases[];
extern const struct hvtest_case hvtest_cpuid_cases[];
extern const struct hvtest_case hvtest_cpuid_calls_cases[];
extern const struct hvtest_case hvtest_debugregs_cases[];
extern const struct hvtest_case hvtest_debugregs_guest_cases[];
extern const struct hvtest_case hvtest_smp_cases[];
extern const struct hvtest_case hvtest_nmi_cases[];
extern const struct hvtest_case hvtest_concurrency_flush_cases[];
extern const struct hvtest_case hvtest_concurrency_cases[];
extern const struct hvtest_case hvtest_concurrency_close_cases[];
extern const struct hvtest_case hvtest_fpu_cases[];
extern const struct hvtest_case hvtest_lapic_cases[];
extern const struct hvtest_case hvtest_events_cases[];
extern const struct hvtest_case hvtest_events_guest_cases[];
extern const struct hvtest_case hvtest_msr_exits_cases[];
extern const struct hvtest_case hvtest_mmio_exits_cases[];
extern const struct hvtest_case hvtest_fault_cases[];
extern const struct hvtest_case hvtest_fuzz_found_cases[];
extern const struct hvtest_case hvtest_emulator_guards_cases[];
extern const struct hvtest_case hvtest_ports_cases[];
extern const struct hvtest_case hvtest_high_gprs_cases[];
extern const struct hvtest_case hvtest_code_walk_cases[];
extern const struct hvtest_case hvtest_migrate_cases[];
extern const struct hvtest_case hvtest_watchdog_cases[];

/* ---- the running test (hvtest.c) ------------------------------------ */

const struct hv_boot_info *hvt_info(void);
/* GET_STATS as the suite started: the child VMs and vcpus counted then
 * are other tools' (`pc beside hvtest` runs guests all along). */
const struct hv_stats *hvt_stats_at_start(void);
hv_handle_t hvt_sys(void);

/* Records why the current test failed; only the first reason is kept.
 * Every check returns 1 when it holds and 0 (after hvt_fail) when not. */
void hvt_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int hvt_failed(void);

/* rc >= 0 (a call that must succeed). */
int hvt_ok(long rc, const char *what);
/* rc == want exactly, for a negated HV_E* code or 0; then checks that the
 * hypervisor still answers (GET_API_VERSION). Names come from hv_strerror. */
int hvt_err(long rc, long want, const char *what);
int hvt_eq(uint64_t got, uint64_t want, const char *what);
int hvt_true(int cond, const char *what);

/* Closes handle at the end of the test (errors ignored: the test may have
 * closed it already, and a stale value never closes the slot's new owner).
 * Returns handle unchanged, errors included. */
long hvt_keep(long handle);

/* GET_STATS into *stats (fails the test if the call fails). */
int hvt_stats(struct hv_stats *stats);
/* Every GET_STATS field equals *before; names the first that differs. */
int hvt_stats_unchanged(const struct hv_stats *before, const char *when);

/* A result as text for messages: "success (5)", "HV_EBADF". buf >= 40. */
const char *hvt_result_name(long rc, char *buf, unsigned size);

/* ---- guests (hvtest_guest.c) ---------------------------------------- */

/* Guest-physical layout of the suite's own tiny guests (2 MiB of RAM). */
#define HVT_GUEST_RAM_MIB 2
#define HVT_GDT_GPA    0x1000u   /* null, code 0x08, data 0x10 */
#define HVT_IDT_GPA    0x2000u   /* 256 gates, limit 0 unless installed */
#define HVT_STACK_TOP  0x8000u
#define HVT_CODE_GPA   0x10000u
#define HVT_DATA_GPA   0x20000u
#define HVT_HANDLER_GPA 0x18000u /* exception handlers */
#define HVT_SELECTOR_CODE 0x08
#define HVT_SELECTOR_DATA 0x10

/* Ports the tiny guests report on. */
#define HVT_PORT_VALUE   0xe0    /* OUT of a value the VMM checks */
#define HVT_PORT_INPUT   0xe1    /* IN the VMM answers */
#define HVT_PORT_ECHO    0xe2    /* OUT of what an IN returned */
#define HVT_PORT_VECTOR  0xe6    /* OUT of an exception vector */

/* A VM of HVT_GUEST_RAM_MIB at guest-physical 0 with vcpu 0 (vmm_create),
 * both handles kept for closing. 0 or the failed call's code. */
int hvt_guest_create(struct vm_instance *vm, const char *name);
/* The same with CREATE_VM flags (HV_VM_USER_MSR, HV_VM_DECODED_MMIO, ...). */
int hvt_guest_create_flags(struct vm_instance *vm, const char *name, uint32_t flags);

/* Puts the vcpu in flat 32-bit protected mode (paging off, the suite's
 * GDT written into guest RAM, IDT limit 0) at entry with ESP at
 * HVT_STACK_TOP and the other registers 0. */
int hvt_guest_flat32(struct vm_instance *vm, uint32_t entry);

/* A flat present ring-0 code or data segment (base 0, 4 GiB, G), 64-bit
 * code (L set, D clear) when long_code. */
void hvt_flat_segment(struct hv_segment *seg, uint16_t selector, uint8_t type, bool long_code);

/* The flat 32-bit state hvt_guest_flat32 sets, for round-trip tests. */
void hvt_sregs_flat32(struct hv_sregs *sregs);

/* Makes gate `vector` of the IDT a 32-bit interrupt gate to a handler
 * that OUTs the vector to HVT_PORT_VECTOR and halts; sets the IDT limit
 * to cover all 256 gates (the vcpu must be in hvt_guest_flat32 state). */
int hvt_guest_catch_vector(struct vm_instance *vm, unsigned vector);

/* A byte assembler for 32-bit guest code written into guest RAM. Each
 * emitter returns the guest-physical address of its instruction. */
struct hvt_code {
    uint8_t *ram;      /* guest-physical 0 */
    uint32_t at;       /* next instruction's guest-physical address */
};
void hvt_code_start(struct hvt_code *code, struct vm_instance *vm, uint32_t at);
uint32_t hvt_bytes(struct hvt_code *code, const uint8_t *bytes, unsigned n);
uint32_t hvt_mov_eax_imm(struct hvt_code *code, uint32_t value);
uint32_t hvt_mov_dx_imm(struct hvt_code *code, uint16_t value);
uint32_t hvt_load_eax(struct hvt_code *code, uint32_t address);   /* mov eax, [a] */
uint32_t hvt_store_eax(struct hvt_code *code, uint32_t address);  /* mov [a], eax */
uint32_t hvt_out_imm(struct hvt_code *code, uint8_t port, unsigned size);
uint32_t hvt_in_imm(struct hvt_code *code, uint8_t port, unsigned size);
uint32_t hvt_out_dx(struct hvt_code *code, unsigned size);         /* out dx, al/ax/eax */
uint32_t hvt_hlt(struct hvt_code *code);
uint32_t hvt_vmmcall(struct hvt_code *code);
uint32_t hvt_jmp_self(struct hvt_code *code);

/* RUN once; fails the test if RUN itself fails. */
int hvt_run(struct vm_instance *vm);
/* RUN again while it returns HV_EXIT_INTR (a time slice ended) unless
 * immediate_exit is set, up to 1000 times; 0 if RUN failed. */
int hvt_run_past_slices(struct vm_instance *vm);
/* The run page says exit `reason`; otherwise names what it says. */
int hvt_exit_is(const struct vm_instance *vm, uint32_t reason, const char *what);
/* RUN, resumed past time-slice ends (HV_EXIT_INTR) up to 1000 times. */
int hvt_run_past_slices(struct vm_instance *vm);
/* RUN, then an HV_EXIT_IO exit OUT of `size` bytes to `port` at guest
 * address insn (exit_rip) carrying `value`; hvt_exit_is_out checks the
 * run page for that exit without running. */
int hvt_run_expect_out(struct vm_instance *vm, uint16_t port, unsigned size,
                       uint32_t value, uint32_t insn, const char *what);
int hvt_exit_is_out(const struct vm_instance *vm, uint16_t port, unsigned size,
                    uint32_t value, uint32_t insn, const char *what);
/* The name of an exit reason, for messages. */
const char *hvt_exit_name(uint32_t reason);

/* Services COM1 (collecting output) and returns at the first other exit:
 * 0 with the exit in the run page, or RUN's error. HV_EXIT_INTR is
 * resumed up to max_intr times before it is returned. */
long hvt_run_serviced(struct vm_instance *vm, char *out, unsigned out_size,
                      unsigned max_intr);

/* Creates a VM and loads the guest module `name` into it (vmm). Fails the
 * test, naming the module, when the control domain was not given it. */
int hvt_module_guest(struct vm_instance *vm, const char *name);

/* A second VM running the `hello` module next to whatever the test left:
 * it must print its greeting and exit with status 0x10. */
int hvt_hello_still_runs(const char *after);

/* ---- debug registers (hvtest_debugregs.c) --------------------------- */

/* mov r32, drN / mov drN, r32 with gpr in encoding order (0 EAX, 1 ECX,
 * 2 EDX, 3 EBX...); hvt_set_dr: mov eax, value; mov drN, eax. */
uint32_t hvt_mov_from_dr(struct hvt_code *code, unsigned dr, unsigned gpr);
uint32_t hvt_mov_to_dr(struct hvt_code *code, unsigned dr, unsigned gpr);
uint32_t hvt_set_dr(struct hvt_code *code, unsigned dr, uint32_t value);
/* mov eax, drN; out HVT_PORT_ECHO, eax: returns the OUT's address, which
 * hvt_run_expect_dr expects with `value`. */
uint32_t hvt_report_dr(struct hvt_code *code, unsigned dr);
int hvt_run_expect_dr(struct vm_instance *vm, uint32_t out, uint32_t value, const char *what);
/* A GET_DEBUGREGS result holds these values and flags 0. */
int hvt_debugregs_eq(const struct hv_debugregs *got, const uint64_t db[4], uint64_t dr6,
                     uint64_t dr7, const char *what);

/* ---- DEBUG_GUEST (hvtest_debug.c) ------------------------------------ */

/* RUN to a DEBUG_GUEST hardware breakpoint at pc with DR6 bit dr6_bit:
 * 1 if it stopped there (HV_EXIT_DEBUG, checked); 0 if on SVM the guest
 * ran past it to its next exit, which is left in the run page (QEMU's
 * TCG: see hvtest_debug.c); -1 if the test failed. On SVM an info line
 * names `what` and which it was. */
int hvt_run_to_breakpoint(struct vm_instance *vm, uint32_t pc, uint64_t dr6_bit,
                          const char *what);
/* The HV_EXIT_DEBUG in the run page reports DR6 bit dr6_bit: 1; on SVM a
 * DR6 without any cause is said in an info line instead (Bochs): 2. */
int hvt_debug_dr6_has(const struct vm_instance *vm, uint64_t dr6_bit, const char *what);

/* ---- 64-bit guests (hvtest_guest64.c) -------------------------------- */

/* GDT selectors of the 64-bit guests: kernel code and data, then the user
 * block SYSRET uses from STAR[63:48] = HVT64_SELECTOR_USER_BASE (SS is 8
 * above it, 64-bit CS 16 above, both with RPL 3). */
#define HVT64_SELECTOR_KERNEL_CODE 0x08
#define HVT64_SELECTOR_KERNEL_DATA 0x10
#define HVT64_SELECTOR_USER_BASE   0x18
#define HVT64_SELECTOR_USER_DATA   0x23
#define HVT64_SELECTOR_USER_CODE   0x2b

/* Puts vm->vcpu in 64-bit long mode at CPL 0: the first 2 MiB identity
 * mapped (user accessible), the GDT above at HVT_GDT_GPA, IDT limit 0,
 * EFER.SCE set, RSP at HVT_STACK_TOP, the other registers 0. */
int hvt_guest_long64(struct vm_instance *vm, uint64_t entry);
/* Creates vcpu 1 of `vm` (handle kept) and fills *view as a copy of *vm
 * whose vcpu and run page are vcpu 1's, for the helpers above. */
int hvt_second_vcpu(struct vm_instance *vm, struct vm_instance *view);

enum hvt64_insn {
    HVT64_SWAPGS, HVT64_RDMSR, HVT64_WRMSR, HVT64_RDTSCP, HVT64_SYSCALL,
    HVT64_SYSRETQ, HVT64_MOV_EAX_ECX, HVT64_MOV_EAX_EBX, HVT64_MOV_RAX_RCX,
    HVT64_MOV_RAX_R11, HVT64_MOV_EAX_CS, HVT64_MOV_EAX_SS, HVT64_XOR_EAX_EAX,
    HVT64_XOR_EDX_EDX, HVT64_PUSHFQ_POP_RDX, HVT64_MOV_EAX_EDX, HVT64_STD,
};
/* One instruction without operands (the same bytes in 32-bit code where
 * the name has no RAX/R11/Q). */
uint32_t hvt64_insn(struct hvt_code *code, enum hvt64_insn which);
uint32_t hvt64_mov_ecx_imm(struct hvt_code *code, uint32_t value);
/* Sets the vcpu's RBX (GET_REGS, SET_REGS): an argument for guest code. */
int hvt_set_rbx(struct vm_instance *vm, uint64_t rbx);

/* The control domain's own MSRs: it is a guest of the hypervisor too. */
static inline uint64_t hvt_ctl_rdmsr(uint32_t index)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
    return (uint64_t)hi << 32 | lo;
}

static inline void hvt_ctl_wrmsr(uint32_t index, uint64_t value)
{
    __asm__ volatile("wrmsr" ::"c"(index), "a"((uint32_t)value),
                     "d"((uint32_t)(value >> 32)) : "memory");
}
uint32_t hvt64_mov_edx_imm(struct hvt_code *code, uint32_t value);

/* ---- MSR lists (hvtest_msrs.c) ------------------------------------- */

/* The argument of GET_MSRS and SET_MSRS, with room for one entry more than
 * HV_MAX_MSRS. */
struct hvt_msr_list {
    struct hv_msrs header;
    struct hv_msr_entry entries[HV_MAX_MSRS + 1];
};

/* An empty list in page-allocated (control-domain) memory. */
struct hvt_msr_list *hvt_msr_list(void);
void hvt_msr_add(struct hvt_msr_list *list, uint32_t index, uint64_t data);
/* GET_MSRS of one MSR into *value; fails the test unless it is read. */
int hvt_get_msr(long vcpu, uint32_t index, uint64_t *value, const char *what);

/* ---- CPUID lists (hvtest_cpuid.c) ---------------------------------- */

/* Bytes of a struct hv_cpuid with room for HV_MAX_CPUID_ENTRIES + 1. */
#define HVT_CPUID_BUFFER_BYTES (sizeof(struct hv_cpuid) + \
                                (HV_MAX_CPUID_ENTRIES + 1) * sizeof(struct hv_cpuid_entry))

/* A zeroed, page-allocated buffer of HVT_CPUID_BUFFER_BYTES. */
struct hv_cpuid *hvt_cpuid_buffer(void);
/* GET_SUPPORTED_CPUID into a new buffer; NULL (the test failed) on error. */
struct hv_cpuid *hvt_supported_cpuid(void);
/* The entry of a list answering (function, index), or NULL. */
struct hv_cpuid_entry *hvt_cpuid_find(struct hv_cpuid *cpuid, uint32_t function,
                                      uint32_t index);

#endif
