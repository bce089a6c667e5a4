# weft's gdb extension: green threads in a live process or a core file.
#
#   (gdb) source /usr/share/weft/gdb/weft.py   # or <prefix>/share/weft/gdb/weft.py
#   (gdb) info weft-threads                    # every green thread, as weft::dump lists them
#   (gdb) weft-bt 7                            # backtrace of parked green thread 7
#
# It reads only memory, never calls into the process (a core file has none):
# the runtime publishes weft_debug_root (runtime/core/debug_root.hpp), which
# lists the runtimes, the byte offsets of the TCB fields and the layout of a
# parked thread's saved frame. weft-bt sets the selected kernel thread's
# registers to the parked thread's saved ones, runs `bt`, and puts them back,
# so the whole of gdb's unwinder (DWARF, file:line, arguments) works on it.
import struct

import gdb
from gdb.unwinder import Unwinder, register_unwinder

ROOT_MAGIC = 0x54464557
ROOT_VERSION = 1
# weft_debug_field, in order (debug_root.hpp).
FIELDS = ["tcb_sp", "tcb_state", "tcb_id", "tcb_parent", "tcb_first_child", "tcb_sib_next",
          "tcb_reason", "tcb_ext", "tcb_stats", "tcb_last_worker", "tcb_stk_lo", "tcb_stk_size",
          "worker_index", "ext_name", "stats_since", "stats_wait_on",
          "frame_pc", "frame_fp", "frame_size"] + ["frame_callee%d" % i for i in range(11)]
# Registers the saved frame restores, by architecture: pc, sp, fp, callee[0..10].
REGS = {
    "x86-64": ("rip", "rsp", "rbp", ["rbx", "r12", "r13", "r14", "r15"]),
    "aarch64": ("pc", "sp", "x29", ["x%d" % i for i in range(19, 29)] + ["x30"]),
}


class WeftError(gdb.GdbError):
    pass


def _mem(addr, n):
    return gdb.selected_inferior().read_memory(addr, n).tobytes()


def _u64(addr):
    return struct.unpack("<Q", _mem(addr, 8))[0]


def _u32(addr):
    return struct.unpack("<I", _mem(addr, 4))[0]


def _u8(addr):
    return _mem(addr, 1)[0]


def _cstr(addr, limit=256):
    if addr == 0:
        return ""
    out = b""
    while len(out) < limit:
        chunk = _mem(addr + len(out), 16)
        nul = chunk.find(b"\0")
        if nul >= 0:
            return (out + chunk[:nul]).decode("utf-8", "replace")
        out += chunk
    return out.decode("utf-8", "replace")


class Root:
    """weft_debug_root, decoded."""

    def __init__(self):
        try:
            addr = int(gdb.parse_and_eval("(unsigned long)&weft_debug_root"))
        except gdb.error:
            raise WeftError("weft: no weft_debug_root in this program (not linked with weft, or weft older than the extension)")
        magic, version = struct.unpack("<II", _mem(addr, 8))
        if magic != ROOT_MAGIC:
            raise WeftError("weft: weft_debug_root is not initialised yet (the program has not reached main)")
        if version != ROOT_VERSION:
            raise WeftError("weft: weft_debug_root version %d, this script reads version %d" % (version, ROOT_VERSION))
        self.runtimes = _u64(addr + 8)
        self.backend = _cstr(_u64(addr + 16))
        state_names, state_count, reason_count = _u64(addr + 24), _u32(addr + 32), _u32(addr + 36)
        reason_names = _u64(addr + 40)
        self.states = [_cstr(_u64(state_names + 8 * i)) for i in range(state_count)]
        self.reasons = [_cstr(_u64(reason_names + 8 * i)) for i in range(reason_count)]
        raw = struct.unpack("<%di" % len(FIELDS), _mem(addr + 48, 4 * len(FIELDS)))
        self.off = dict(zip(FIELDS, raw))

    def threads(self):
        """(tcb address, runtime index) of every TCB, walking each runtime's family tree."""
        out = []
        node, index = self.runtimes, 0
        while node:
            stack = [_u64(_u64(node + 8))]
            while stack:
                t = stack.pop()
                while t:
                    out.append((t, index))
                    child = _u64(t + self.off["tcb_first_child"])
                    if child:
                        stack.append(child)
                    t = _u64(t + self.off["tcb_sib_next"])
            node, index = _u64(node), index + 1
        return out

    def info(self, t):
        o = self.off
        state = _u32(t + o["tcb_state"]) & 0xFF
        reason = _u8(t + o["tcb_reason"])
        parent = _u64(t + o["tcb_parent"])
        ext = _u64(t + o["tcb_ext"])
        name = ""
        if ext:
            s = ext + o["ext_name"]
            ptr, length = _u64(s), _u64(s + 8)
            name = _mem(ptr, min(length, 256)).decode("utf-8", "replace") if length else ""
        worker = _u64(t + o["tcb_last_worker"])
        stats = _u64(t + o["tcb_stats"])
        state_name = self.states[state] if state < len(self.states) else "state%d" % state
        return {
            "tcb": t,
            "id": _u64(t + o["tcb_id"]),
            "name": name,
            "state": state_name,
            "reason": (self.reasons[reason] if reason < len(self.reasons) else "reason%d" % reason)
            if state_name in ("blocked", "suspended_blocked") else "",
            "wait_on": _u64(stats + o["stats_wait_on"]) if stats and state_name == "blocked" else 0,
            "parent": _u64(parent + o["tcb_id"]) if parent else 0,
            "worker": _u32(worker + o["worker_index"]) if worker else -1,
            "sp": _u64(t + o["tcb_sp"]),
            "started": stats != 0,
        }


class InfoWeftThreads(gdb.Command):
    """List every green thread: id, name, state, wait reason and wait queue, worker, parent.
Usage: info weft-threads"""

    def __init__(self):
        super().__init__("info weft-threads", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        root = Root()
        rows = [root.info(t) for t, _ in root.threads()]
        rows.sort(key=lambda r: r["id"])
        print("%d green threads (%s context switch)" % (len(rows), root.backend))
        print("%6s  %-16s %-18s %-14s %-18s %6s %6s" % ("ID", "NAME", "STATE", "WAITING FOR", "WAIT QUEUE", "WORKER",
                                                       "PARENT"))
        for r in rows:
            print("%6d  %-16s %-18s %-14s %-18s %6s %6s" % (
                r["id"], r["name"] or "-", r["state"], r["reason"] or "-",
                "0x%x" % r["wait_on"] if r["wait_on"] else "-",
                r["worker"] if r["worker"] >= 0 else "-", r["parent"] or "root"))


def _arch():
    name = gdb.selected_frame().architecture().name()
    if "x86-64" in name:
        return "x86-64"
    if "aarch64" in name:
        return "aarch64"
    raise WeftError("weft: no register map for architecture %s" % name)


class WeftBt(gdb.Command):
    """Backtrace of a parked green thread, by its id (see info weft-threads).
Usage: weft-bt ID [bt options, e.g. full or -frame-arguments all]"""

    def __init__(self):
        super().__init__("weft-bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        words = gdb.string_to_argv(arg)
        if not words or not words[0].isdigit():
            raise WeftError("usage: weft-bt ID [bt options]")
        want = int(words[0])
        root = Root()
        found = None
        for t, _ in root.threads():
            if _u64(t + root.off["tcb_id"]) == want:
                found = root.info(t)
                break
        if found is None:
            raise WeftError("weft: no green thread %d" % want)
        if found["state"] == "running":
            print("green thread %d is running on worker %d: its stack is that worker's kernel thread's"
                  " (info threads, then thread N and bt)" % (want, found["worker"]))
            return
        if not found["started"] or found["state"] in ("created", "terminated"):
            print("green thread %d is %s: it has no saved context" % (want, found["state"]))
            return
        o = root.off
        if o["frame_pc"] < 0:
            raise WeftError("weft: this build of weft cannot describe its %s saved frame" % root.backend)
        pc_r, sp_r, fp_r, callee_r = REGS[_arch()]
        saved = found["sp"]
        values = {pc_r: _u64(saved + o["frame_pc"]), sp_r: saved + o["frame_size"],
                  fp_r: _u64(saved + o["frame_fp"])}
        for i, reg in enumerate(callee_r):
            off = o["frame_callee%d" % i]
            if off >= 0:
                values[reg] = _u64(saved + off)
        print("green thread %d%s: %s%s" % (want, " '%s'" % found["name"] if found["name"] else "", found["state"],
                                          ", waiting for " + found["reason"] if found["reason"] else ""))
        if _registers_writable(pc_r):
            _bt_with_registers(values, words[1:])
        else:
            _bt_through_unwinder(values, (pc_r, sp_r), words[1:])


def _registers_writable(pc_reg):
    """False for a core file: gdb refuses register writes without a process."""
    gdb.newest_frame().select()
    try:
        # A real change: gdb skips writing a value the register already holds.
        gdb.execute("set $%s = $%s + 1" % (pc_reg, pc_reg), to_string=True)
        gdb.execute("set $%s = $%s - 1" % (pc_reg, pc_reg), to_string=True)
        return True
    except gdb.error:
        return False


def _bt_with_registers(values, bt_args):
    """A live process: the selected kernel thread takes the parked thread's registers for one bt."""
    frame = gdb.selected_frame()
    gdb.newest_frame().select()
    old = {reg: int(gdb.parse_and_eval("(unsigned long)$" + reg)) for reg in values}
    try:
        for reg, v in values.items():
            gdb.execute("set $%s = %d" % (reg, v))
        gdb.execute("bt " + " ".join(bt_args))
    finally:
        for reg, v in old.items():
            gdb.execute("set $%s = %d" % (reg, v))
        gdb.execute("select-frame 0")
        try:
            frame.select()
        except gdb.error:
            pass


class _FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class _GreenUnwinder(Unwinder):
    """While armed: frame 0's caller is the parked thread's saved context (core files, whose
    registers gdb will not let us set)."""

    def __init__(self):
        super().__init__("weft-green-thread")
        self.values = None
        self.pc_sp = None

    def __call__(self, pending_frame):
        if self.values is None or pending_frame.level() != 0:
            return None
        pc_r, sp_r = self.pc_sp
        # Frame 0's id names a stack address just below the green thread's
        # frames, not the kernel thread's real sp: gdb stops a backtrace whose
        # next frame looks inner to (below) the one before, and the green stack
        # may lie anywhere relative to the stack frame 0 runs on.
        sp_type = pending_frame.read_register(sp_r).type
        info = pending_frame.create_unwind_info(
            _FrameId(gdb.Value(self.values[sp_r] - 1).cast(sp_type), pending_frame.read_register(pc_r)))
        ulong = gdb.lookup_type("unsigned long")
        for reg, v in self.values.items():
            info.add_saved_register(reg, gdb.Value(v).cast(ulong))
        return info


_unwinder = _GreenUnwinder()
register_unwinder(None, _unwinder, replace=True)


def _bt_through_unwinder(values, pc_sp, bt_args):
    print("(core file: frame #0 is the kernel thread's own; the green thread's frames start at #1)")
    _unwinder.values, _unwinder.pc_sp = values, pc_sp
    gdb.invalidate_cached_frames()
    try:
        gdb.execute("bt " + " ".join(bt_args))
    finally:
        _unwinder.values = None
        gdb.invalidate_cached_frames()


InfoWeftThreads()
WeftBt()
