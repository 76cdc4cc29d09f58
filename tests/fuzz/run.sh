#!/usr/bin/env bash
# Runs each libFuzzer harness for SECONDS: its seed corpus from
# tests/fuzz/corpus/<name>/ (read only) and the inputs it finds in
# build/fuzz/corpus/<name>/ (kept between runs). A crash leaves its input
# in build/fuzz/crashes/ and fails the run; the last lines say which.
#   tests/fuzz/run.sh SECONDS HARNESS...
set -u
cd "$(dirname "$0")/../.."
seconds=$1
shift
failed=0
mkdir -p build/fuzz/crashes build/fuzz/logs
for harness in "$@"; do
    name=$(basename "$harness")
    work=build/fuzz/corpus/$name
    seeds=tests/fuzz/corpus/$name
    mkdir -p "$work"
    [ -d "$seeds" ] || seeds=
    log=build/fuzz/logs/$name.log
    if "$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 \
            -print_final_stats=1 -artifact_prefix=build/fuzz/crashes/$name- \
            "$work" $seeds >"$log" 2>&1; then
        runs=$(grep -aoE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
        cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1)
        echo "  fuzz  $name: ${runs:-?} inputs in ${seconds}s, ${cov:-cov: ?}, no crash"
    else
        echo "  FAIL  $name: crashed (see $log, input in build/fuzz/crashes/)"
        grep -aE 'ERROR: |broken: |runtime error' "$log" | head -3 | sed 's/^/        /'
        failed=$((failed + 1))
    fi
done
[ "$failed" -eq 0 ]
