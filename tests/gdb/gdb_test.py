#!/usr/bin/env python3
"""Runs scripts/gdb/weft.py in gdb against tests/gdb/gdb_target.cpp: live, stopped at
weft_gdb_stop_here, and on a core file gcore took there. Checks that info weft-threads lists the
parked waiter with its state and wait reason, that weft-bt shows the function it parked in, and
that the kernel thread's own registers are back afterwards. Exit 77 (ctest: skipped) without gdb.
Usage: gdb_test.py TARGET WEFT_PY WORKDIR [SANITIZER]
In a sanitizer build (SANITIZER address or thread) only the live half runs: gdb cannot read the
core gcore writes of such a process (ASan: the executable's image and the heap come back
unreadable; TSan: "not a core dump"), a limit of gcore with the sanitizers' huge shadow mappings,
not of weft."""
import os
import re
import shutil
import subprocess
import sys

SKIP = 77


def gdb(args, what):
    r = subprocess.run(["gdb", "-batch", "-nx"] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    print("==== gdb %s ====\n%s" % (what, r.stdout))
    return r.stdout


def check(out, pattern, what):
    if not re.search(pattern, out, re.M):
        print("FAIL: %s: no match for %r" % (what, pattern))
        return False
    return True


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__)
        return 2
    target, script, work = sys.argv[1:4]
    sanitizer = sys.argv[4] if len(sys.argv) == 5 else ""
    if shutil.which("gdb") is None:
        print("SKIPPED: gdb is not installed (scripts/deps.sh test installs it)")
        return SKIP
    os.makedirs(work, exist_ok=True)
    core = os.path.join(work, "weft_gdb_target.core")
    if os.path.exists(core):
        os.remove(core)
    # No gcore in a sanitizer build: its core is unreadable anyway and takes
    # tens of gigabytes of disk (the shadow mappings).
    dump_core = [] if sanitizer else ["-ex", "gcore " + core]
    live = gdb(["-ex", "source " + script, "-ex", "break weft_gdb_stop_here", "-ex", "run",
                "-ex", "info weft-threads", "-ex", "weft-bt 2", "-ex", "bt 1"] + dump_core + ["-ex", "kill",
                "--args", target], "live")
    if "ptrace" in live and "Operation not permitted" in live:
        print("SKIPPED: ptrace is not permitted here")
        return SKIP
    ok = True
    table = r"^\s+2\s+gdb-waiter\s+blocked\s+channel_recv\s+0x[0-9a-f]+\s+\d+\s+1$"
    for out, what in [(live, "live")]:
        ok &= check(out, r"^\d+ green threads \(", what)
        ok &= check(out, r"^\s+1\s+main\s+running\s+-\s+-\s+\d+\s+root$", what)
        ok &= check(out, table, what)
        ok &= check(out, r"^green thread 2 'gdb-waiter': blocked, waiting for channel_recv$", what)
        ok &= check(out, r"^#\d+\s+.*weft_gdb_parked_here \(", what)
    # After weft-bt, `bt 1` is the kernel thread's own innermost frame again.
    ok &= check(live, r"^#0\s+(0x[0-9a-f]+ in )?weft_gdb_stop_here \(\)", "live, registers restored")
    if sanitizer:
        print("core half not run: %s sanitizer build (see the usage above)" % sanitizer)
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    if not os.path.exists(core):
        print("FAIL: gcore wrote no %s" % core)
        return 1
    dead = gdb(["-ex", "source " + script, "-ex", "info weft-threads", "-ex", "weft-bt 2", "-ex", "weft-bt 1",
                target, core], "core")
    ok &= check(dead, table, "core")
    ok &= check(dead, r"^#\d+\s+.*weft_gdb_parked_here \(", "core")
    ok &= check(dead, r"^green thread 1 is running on worker \d+", "core")
    os.remove(core)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
