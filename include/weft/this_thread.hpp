// Calls about the calling green thread.
#pragma once

#include <chrono>
#include <string>

#include "detail/duration.hpp"
#include "thread_info.hpp"

namespace weft::this_thread {

// Lets other ready threads on this worker run first. From a foreign kernel
// thread it calls std::this_thread::yield().
void yield() noexcept;

namespace detail {
void sleep_ns(long long ns);
void sleep_until_ns(long long steady_ns);
}  // namespace detail

// Blocks the calling green thread (not its worker) for at least d; throws
// weft::error(invalid_argument) on a negative (or NaN) duration. A duration
// too long for int64 nanoseconds (hours::max()) sleeps for good. Works from
// foreign threads too (they sleep in the kernel).
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  detail::sleep_ns(weft::detail::saturating_ns(d, "sleep_for"));
}

// Blocks until the steady clock reaches t; returns at once if t has passed.
// Throws weft::error(invalid_argument) on a NaN time point.
template <class Duration>
void sleep_until(std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
  detail::sleep_until_ns(weft::detail::steady_deadline_ns(t, "sleep_until"));
}

// The calling green thread's id; 0 on a foreign thread.
thread_id id() noexcept;
// The calling green thread's name; empty on a foreign thread or when unnamed.
std::string name();
// True if the caller is a green thread of some weft runtime.
bool is_green() noexcept;
// Index of the worker running the caller; -1 on a foreign thread.
int worker_index() noexcept;
// Suspends the caller until another thread resumes it; throws weft::error(no_runtime) outside a green thread.
void suspend();
// The caller's own snapshot record (metrics up to now, its burst in
// progress included); throws weft::error(no_runtime) outside a green thread.
thread_info info();

}  // namespace weft::this_thread
