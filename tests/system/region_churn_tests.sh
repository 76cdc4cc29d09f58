# System test of the hypervisor's memory under memory-slot churn (issue 10):
# a million SET_MEMORY_REGION add/delete cycles spread over the 1 TiB child
# guest-physical space, each add needing nested page-table pages of its own,
# must leave GET_STATS' free frames and nested table pages where they began.
# The control domain runs the `region_churn` tool (guest-tools/tools/
# region_churn.c), which checks the figures every 1024 cycles. QEMU/SVM only:
# the conformance suite runs a shorter churn on both backends. Sourced by
# tests/run_all.sh.

source tests/system/machines.sh

# QEMU on one thread, and a count of frames, not of time: it may share
# the host with another such test (tests/run_all.sh).
beside_test 80 test_region_churn_million_cycles_svm
test_region_churn_million_cycles_svm() {
    boot region-churn 300 "$END_OF_TOOL" \
        $(qemu_svm_one_thread iso/out/region-churn.iso $SYSTEST_DIR/region-churn.log 2)
    local before after
    before=$(grep -aoE 'region_churn: 1000000 cycles; before: [0-9]+ free frames, [0-9]+ nested' "$LOG" \
             | grep -oE '[0-9]+ free frames, [0-9]+')
    after=$(grep -aoE 'region_churn: 1000000 cycles done; after: [0-9]+ free frames, [0-9]+ nested' "$LOG" \
            | grep -oE '[0-9]+ free frames, [0-9]+')
    [ -n "$before" ] || fail "no figures from before the churn"
    [ -n "$after" ] || fail "the churn did not complete its 1000000 cycles"
    [ "$before" = "$after" ] || fail "before: $before; after: $after (free frames, nested table pages)"
    expect_line "region_churn: PASS"
    expect_line "tool region_churn finished with status 0"
    expect_clean_run
    grep -a "region_churn: FAIL" "$LOG" | head -5 | sed 's/^/    /'
    echo "    before: ${before:-?}; after: ${after:-?} (free frames, nested table pages; ${ELAPSED}s)"
}
