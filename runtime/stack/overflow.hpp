// Stack-overflow reports: a SIGSEGV on a guard page, caught on an alternate
// signal stack (the faulting stack has no room left), or a canary found
// damaged at a switch, becomes "stack overflow in green thread <id> '<name>'"
// on stderr and an abort. Faults that are not stack overflows go to the
// handler that was installed before weft's.
#pragma once

namespace weft::detail {

struct tcb;

// Installs the process-wide SIGSEGV/SIGBUS handler once.
void overflow_guard_install();
// Gives the calling worker thread its alternate signal stack.
void overflow_guard_thread_init() noexcept;
void overflow_guard_thread_fini() noexcept;
// Reports an overflow of t's stack and aborts.
[[noreturn]] void report_stack_overflow(const tcb* t) noexcept;

}  // namespace weft::detail
