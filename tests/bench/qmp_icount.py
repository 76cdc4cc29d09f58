#!/usr/bin/env python3
"""Waits for a paused QEMU (its guest powered off under
-action shutdown=pause) on the QMP socket given, prints the instructions
it executed (query-replay's icount, valid under -icount), and quits it.
Used by tests/bench.sh for the plain-QEMU floor of the Linux boot."""
import json
import socket
import sys
import time

def main():
    path, limit = sys.argv[1], float(sys.argv[2])
    deadline = time.time() + limit
    while True:
        try:
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(path)
            break
        except OSError:
            if time.time() > deadline:
                sys.exit("qmp_icount: no QMP socket at " + path)
            time.sleep(0.2)
    stream = sock.makefile("rw")

    def command(name):
        stream.write(json.dumps({"execute": name}) + "\n")
        stream.flush()
        while True:
            reply = json.loads(stream.readline())
            if "return" in reply or "error" in reply:
                return reply

    json.loads(stream.readline())          # the greeting
    command("qmp_capabilities")
    while command("query-status")["return"]["running"]:
        if time.time() > deadline:
            command("quit")
            sys.exit("qmp_icount: the guest did not power off in time")
        time.sleep(0.2)
    print(command("query-replay")["return"]["icount"])
    command("quit")

main()
