"""The report of tests/bench/trace_path.sh: each traced instruction named
by its function (hypervisor, control domain or the bench's child guest),
the runs of consecutive instructions in one function in the order they
ran, and the count per function. The last instruction (STOP) is not
counted: the bench's figure runs from one RDTSC to the next."""
import bisect
import collections
import re
import subprocess
import sys

BUILD = "build/"
CTL_PHYS = 0x600000


def symbols_and_code(elf):
    names = []
    for line in subprocess.run(["nm", "-n", elf], capture_output=True,
                               text=True).stdout.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tTwW":
            names.append((int(f[0], 16), f[2]))
    code = {}
    for line in subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf],
                               capture_output=True, text=True).stdout.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(.*)", line)
        if m:
            code[int(m.group(1), 16)] = m.group(2)
    return [a for a, _ in names], [n for _, n in names], code


IMAGES = {"hv": symbols_and_code(BUILD + "hv.elf"),
          "ctl": symbols_and_code(BUILD + "guest-tools/ctl.elf"),
          "guest": symbols_and_code(BUILD + "guest-tools/guests/bench_guest.elf")}


def function(image, pc):
    addrs, names, _ = IMAGES[image]
    i = bisect.bisect_right(addrs, pc) - 1
    return names[i] if i >= 0 else "?"


def svm_rows(path):
    lines = open(path).read().split("\n")
    ctl_cr3 = int(lines[0].split()[1], 16)
    for line in lines[1:]:
        if line.strip():
            pc, cr3 = (int(x, 16) for x in line.split())
            if cr3 == ctl_cr3:
                image = "ctl"
            elif pc in IMAGES["hv"][2] and cr3 != 0:
                image = "hv"
            else:
                image = "guest"
            yield image, pc


def vmx_rows(path):
    tracing = False
    for line in open(path, errors="replace"):
        if "Tracing enabled" in line:
            tracing = True
        elif "Tracing disabled" in line:
            return
        m = re.match(r"\(\d+\)\.\[\d+\] \[0x([0-9a-f]+)\] [0-9a-f]{4}:([0-9a-f]+)", line)
        if tracing and m:
            phys, pc = int(m.group(1), 16), int(m.group(2), 16)
            if phys < CTL_PHYS:
                image = "hv"
            elif phys == pc + CTL_PHYS:
                image = "ctl"
            else:
                image = "guest"
            yield image, pc


def main():
    backend, path = sys.argv[1], sys.argv[2]
    rows = list((svm_rows if backend == "svm" else vmx_rows)(path))[:-1]
    if not rows:
        sys.exit("trace_report: no instructions traced (see build/trace/)")
    named = [(image + ":" + function(image, pc), image, pc) for image, pc in rows]
    if "-v" in sys.argv[3:]:
        for name, image, pc in named:
            print("%-36s %8x  %s" % (name, pc, IMAGES[image][2].get(pc, "?")))
    print("%d instructions from START to STOP" % len(named))
    runs = []
    for name, _, _ in named:
        if runs and runs[-1][0] == name:
            runs[-1][1] += 1
        else:
            runs.append([name, 1])
    for name, count in runs:
        print("%5d  %s" % (count, name))
    print("per function:")
    for name, count in collections.Counter(n for n, _, _ in named).most_common():
        print("%5d  %s" % (count, name))


main()
