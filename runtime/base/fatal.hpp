// The one way weft stops the process: a broken invariant or a misuse that
// cannot be reported to a caller (a noexcept path, a signal handler's
// neighbour, a thread nobody joins). It prints what broke, where in weft's
// source, and which thread was running, then aborts:
//   weft: fatal: thread 12 dequeued in state blocked
//     in green thread 7 'acceptor' on worker 1, at runtime/core/worker.cpp:118
// Errors a caller can handle are exceptions (weft::error), never this.
// After stderr, the report also goes to a log handler the user installed
// (weft/log.hpp), at level fatal, one line: "<message> (in <thread>, at
// <file>:<line>)". stderr comes first and does not depend on the handler.
#pragma once

#include <cstddef>

namespace weft::detail {

// Writes a description of the calling thread ("green thread 7 'x' on worker
// 1") into buf; false if it has nothing to say (a foreign kernel thread).
using fatal_context_fn = bool (*)(char* buf, std::size_t size) noexcept;

// Installs the describer (the core does, once; lower layers cannot know threads).
void set_fatal_context(fatal_context_fn fn) noexcept;

// Prints "weft: fatal: <message>", the thread and file:line, offers the
// report to the user's log handler, and aborts.
[[noreturn]] void fatal_at(const char* file, int line, const char* fmt, ...) noexcept
    __attribute__((format(printf, 3, 4)));

}  // namespace weft::detail

#define WEFT_FATAL(...) ::weft::detail::fatal_at(__FILE__, __LINE__, __VA_ARGS__)
// Checks an invariant in every build type (these guard states no test can
// rule out, e.g. misuse from user code); the message says what broke.
#define WEFT_CHECK(cond, ...)                                    \
  do {                                                           \
    if (__builtin_expect(!(cond), 0)) WEFT_FATAL(__VA_ARGS__);   \
  } while (0)
