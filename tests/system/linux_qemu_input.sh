#!/usr/bin/env bash
# Runs a command (an emulator with its serial port on stdin/stdout) with
# its output in LOG and types INPUT (printf escapes) on its stdin once a
# line of LOG matches PROMPT, as a person at the terminal would; the input
# typed before the guest's tty is open would be lost.
#   linux_qemu_input.sh LOG PROMPT INPUT -- command...
# Exits with the command's status.
log=$1 prompt=$2 input=$3
shift 4
fifo=$(mktemp -u) && mkfifo "$fifo" || exit 1
# Opened read-write, the FIFO never blocks the emulator's open nor gives
# it end-of-file.
"$@" <>"$fifo" >"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! grep -qaE "$prompt" "$log"; do
    sleep 0.2
done
# The prompt is printed just before the read: give the tty a moment.
sleep 0.5
printf "$input" >"$fifo"
wait "$pid"
status=$?
rm -f "$fifo"
exit $status
