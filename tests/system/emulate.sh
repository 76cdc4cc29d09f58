#!/usr/bin/env bash
# Runs one emulator with its serial port logged to a file, until a line
# matching the stop pattern appears or the timeout passes, then ends it.
#   emulate.sh LOG TIMEOUT_SECONDS STOP_REGEX -- COMMAND...
# Exit status: 0 when the pattern appeared, 124 on timeout, 1 when the
# emulator ended first. Prints the wall time until the pattern (seconds) on
# stdout. When the emulator ended by itself, LOG.exit says how ("exit
# status N" or "killed by signal N (NAME)"): a crash, an abort and a
# reset of the machine look alike in the serial log alone.
set -u
log=$1 timeout=$2 stop=$3
shift 3
[ "$1" = "--" ] && shift
rm -f "$log" "$log.exit"
: > "$log"
start=$(date +%s%N)
setsid "$@" </dev/null >"$log.emulator" 2>&1 &
pid=$!
status=124
reaped=0
deadline=$((start + timeout * 1000000000))
while :; do
    if grep -qaE "$stop" "$log" 2>/dev/null; then status=0; break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
        # The emulator ended by itself; a last look at the log decides.
        wait "$pid" 2>/dev/null
        code=$?
        reaped=1
        if [ $code -gt 128 ]; then
            echo "killed by signal $((code - 128)) ($(kill -l $((code - 128)) 2>/dev/null))"
        else
            echo "exit status $code"
        fi > "$log.exit"
        grep -qaE "$stop" "$log" 2>/dev/null && status=0 || status=1
        break
    fi
    [ "$(date +%s%N)" -ge "$deadline" ] && break
    sleep 0.1
done
end=$(date +%s%N)
# Once reaped, its process group's number may belong to someone else.
if [ $reaped -eq 0 ]; then
    kill -TERM -- "-$pid" 2>/dev/null
    sleep 0.2
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
fi
printf '%d.%02d\n' $(((end - start) / 1000000000)) $((((end - start) / 10000000) % 100))
exit $status
