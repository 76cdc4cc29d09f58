#!/usr/bin/env bash
# Runs one emulator with its serial port logged to a file, until a line
# matching the stop pattern appears or the timeout passes, then ends it.
#   emulate.sh LOG TIMEOUT_SECONDS STOP_REGEX -- COMMAND...
# Exit status: 0 when the pattern appeared, 124 on timeout. Prints the wall
# time until the pattern (seconds) on stdout.
set -u
log=$1 timeout=$2 stop=$3
shift 3
[ "$1" = "--" ] && shift
rm -f "$log"
: > "$log"
start=$(date +%s%N)
setsid "$@" </dev/null >"$log.emulator" 2>&1 &
pid=$!
status=124
deadline=$((start + timeout * 1000000000))
while :; do
    if grep -qaE "$stop" "$log" 2>/dev/null; then status=0; break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
        # The emulator ended by itself; a last look at the log decides.
        grep -qaE "$stop" "$log" 2>/dev/null && status=0 || status=1
        break
    fi
    [ "$(date +%s%N)" -ge "$deadline" ] && break
    sleep 0.1
done
end=$(date +%s%N)
kill -TERM -- "-$pid" 2>/dev/null
sleep 0.2
kill -KILL -- "-$pid" 2>/dev/null
wait "$pid" 2>/dev/null
printf '%d.%02d\n' $(((end - start) / 1000000000)) $((((end - start) / 10000000) % 100))
exit $status
