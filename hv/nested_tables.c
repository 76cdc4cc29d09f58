#include "hv/nested_tables.h"

#include "hv/console.h"
#include "hv/memory.h"
#include "hv/percpu.h"
#include "hv/vm.h"
#include "hv/x86.h"

/* Table pages of live child VMs: changed only where pages are allocated
 * and freed, under the owning VM's lock or at its creation and end. */
static uint64_t child_table_pages;

static uint64_t nested_alloc_table(void *ctx)
{
    struct vm *vm = ctx;
    uint64_t phys = pages_alloc_zeroed(1, 0);
    if (phys == FRAME_NONE)
        return 0;
    if (!vm->is_control)
        __atomic_add_fetch(&child_table_pages, 1, __ATOMIC_RELAXED);
    return phys;
}

static void nested_free_table(uint64_t phys, void *ctx)
{
    struct vm *vm = ctx;
    pages_free(phys, 1);
    if (!vm->is_control)
        __atomic_sub_fetch(&child_table_pages, 1, __ATOMIC_RELAXED);
}

static void *nested_pointer(uint64_t phys, void *ctx)
{
    (void)ctx;
    return phys_to_virt(phys);
}

void nested_tables_setup(struct vm *vm, uint64_t table_flags)
{
    vm->npt = (struct page_table){
        .table_flags = table_flags,
        .alloc_table = nested_alloc_table,
        .to_pointer = nested_pointer,
        .ctx = vm,
    };
    vm->retired_tables = (struct table_list){ 0 };
}

/* Waits until no lookup that began before the retired pages were unlinked
 * is still running. A lookup takes a few hundred instructions and never
 * waits for anything, so the bound (one time slice) is only reached if
 * that CPU stopped; then the pages are kept rather than risk it. */
static bool wait_for_software_walks(struct vm *vm)
{
    /* Pairs with the locked increment of nested_walk_begin: the entries
     * this CPU cleared are visible before it reads the counts. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < HV_MAX_VCPUS; i++) {
        struct vcpu *vcpu = vm->vcpus[i];
        if (!vcpu)
            continue;
        uint32_t count = __atomic_load_n(&vcpu->nested_walk, __ATOMIC_ACQUIRE);
        if (!(count & 1))
            continue;
        uint64_t deadline = rdtsc() + this_cpu()->slice_tsc;
        while (__atomic_load_n(&vcpu->nested_walk, __ATOMIC_ACQUIRE) == count) {
            if (rdtsc() > deadline) {
                pr_warn("vm: a lookup for vcpu %u did not end; keeping %llu "
                        "table pages", vcpu->slot,
                        (unsigned long long)vm->retired_tables.count);
                return false;
            }
            cpu_relax();
        }
    }
    return true;
}

void nested_tables_free_retired(struct vm *vm)
{
    if (!vm->retired_tables.count || !wait_for_software_walks(vm))
        return;
    page_table_free_list(&vm->npt, &vm->retired_tables, nested_free_table);
}

void nested_tables_destroy(struct vm *vm)
{
    page_table_free_list(&vm->npt, &vm->retired_tables, nested_free_table);
    page_table_destroy(&vm->npt, nested_free_table);
}

uint64_t nested_table_pages(void)
{
    return __atomic_load_n(&child_table_pages, __ATOMIC_RELAXED);
}
