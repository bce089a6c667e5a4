// Stack-overflow reports: a SIGSEGV on a guard page, caught on an alternate
// signal stack (the faulting stack has no room left), or a canary found
// damaged at a switch, becomes "stack overflow in green thread <id> '<name>'"
// on stderr and an abort. Faults that are not stack overflows go to the
// handler that was installed before weft's.
//
// These reports are written to stderr directly, not through the log
// handler (base/log.hpp): the guard-page report runs in a signal handler,
// and the canary report on the stack that just overflowed, maybe with a
// neighbour's memory damaged; neither is a place to run user code.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weft::detail {

// The green thread whose stack a report is about. The stack layer knows
// nothing of threads: the core describes them (a seam pointing upward).
struct overflow_subject {
  const char* stack_lo = nullptr;
  std::size_t stack_size = 0;
  bool guarded = false;
  std::uint64_t id = 0;
  const char* name = "";  // empty: unnamed
};
// Fills s with the green thread running on the calling kernel thread; false
// if none. Called inside the fault handler: async-signal-safe reads only.
using overflow_probe = bool (*)(overflow_subject& s) noexcept;

// Installs the process-wide SIGSEGV/SIGBUS handler once; `probe` names the
// running thread (the first call's probe is kept).
void overflow_guard_install(overflow_probe probe);
// Gives the calling worker thread its alternate signal stack.
void overflow_guard_thread_init() noexcept;
void overflow_guard_thread_fini() noexcept;
// Reports an overflow of s's stack (its canary was found damaged) and aborts.
[[noreturn]] void report_stack_overflow(const overflow_subject& s) noexcept;

}  // namespace weft::detail
