# gdb script for tests/bench/trace_path.sh (SVM under QEMU): from the
# SKIP-th pass of the control domain through START, steps one instruction
# at a time until it reaches STOP, writing each instruction's address and
# CR3 (which tells the hypervisor's code from the control domain's and the
# child's: all are linked at 2 MiB). Environment: PORT START STOP SKIP OUT.
import os
import gdb

start = int(os.environ["START"], 16)
stop = int(os.environ["STOP"], 16)
skip = int(os.environ["SKIP"])


def reg(name):
    return int(gdb.parse_and_eval("$" + name)) & 0xffffffffffffffff


gdb.execute("set pagination off")
gdb.execute("target remote 127.0.0.1:%s" % os.environ["PORT"])
gdb.execute("hbreak *0x%x" % start)
gdb.execute("continue")
ctl_cr3 = reg("cr3")
passes = 0
while passes < skip:
    gdb.execute("continue", to_string=True)
    if reg("cr3") == ctl_cr3 and reg("pc") == start:
        passes += 1
gdb.execute("delete")
rows = []
for step in range(100000):
    pc, cr3 = reg("pc"), reg("cr3")
    rows.append((pc, cr3))
    if step and pc == stop and cr3 == ctl_cr3:
        break
    gdb.execute("stepi", to_string=True)
with open(os.environ["OUT"], "w") as out:
    out.write("ctl_cr3 %x\n" % ctl_cr3)
    for pc, cr3 in rows:
        out.write("%x %x\n" % (pc, cr3))
gdb.execute("kill")
