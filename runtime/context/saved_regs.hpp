// Layer 1: reading a suspended context's registers back.
//
// A parked green thread's registers live on its own stack, in the frame its
// last switch pushed (switch_<arch>.S, or Boost.Context's jump_fcontext).
// A debugger-like reader (the thread dump, core/dump.cpp) needs them as the
// thread would see them right after its switch returned: the call site in
// the scheduler as pc, the stack pointer above the frame, and the callee-
// saved registers that DWARF unwinding may need to find the callers.
#pragma once

#include <cstdint>

namespace weft::detail {

struct saved_regs {
  std::uint64_t pc = 0, sp = 0, fp = 0;
  // x86-64: rbx, r12, r13, r14, r15 in [0..4]. AArch64: x19..x28 in [0..9], lr in [10].
  std::uint64_t callee[11] = {};
};

// Decodes the frame at `saved_sp` (a context's sp while it is suspended),
// reading it through `read`, which copies 8 bytes at an address or returns
// false (the frame may belong to a thread that is running again: the
// caller reads from a snapshot of the stack). False if this build cannot
// decode the backend's frame (a Boost.Context version whose layout was not
// checked) or a read failed.
// The frame's layout as byte offsets from the saved sp, for readers outside
// this process (scripts/gdb/weft.py reads them from core/debug_root.hpp):
// pc, fp, the frame's size and callee[i] (-1: not saved). False if unknown.
bool saved_context_layout(int& pc, int& fp, int& size, int (&callee)[11]) noexcept;

using saved_reader = bool (*)(void* cookie, std::uint64_t addr, std::uint64_t& out);
bool decode_saved_context(std::uint64_t saved_sp, saved_reader read, void* cookie, saved_regs& out) noexcept;

}  // namespace weft::detail
