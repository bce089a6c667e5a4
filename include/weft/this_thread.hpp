// Calls about the calling green thread.
#pragma once

#include <chrono>
#include <stop_token>
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
// weft::error(invalid_argument) on a negative (or NaN) duration, and
// weft::error(canceled) when stop is requested on the calling green thread
// before d has passed (a zero d only yields). A duration too long for int64
// nanoseconds (hours::max()) sleeps for good. Works from foreign threads too
// (they sleep in the kernel, not cancellable).
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d) {
  detail::sleep_ns(weft::detail::saturating_ns(d, "sleep_for"));
}

// Blocks until the steady clock reaches t. Throws weft::error(invalid_argument)
// on a NaN time point, weft::error(canceled) as sleep_for.
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
// The calling green thread's stop token (its stop state is made on first
// use, so a handle's request_stop() reaches it); an empty token
// (stop_possible() false) on a foreign thread. Throws std::bad_alloc only.
std::stop_token get_stop_token();
// True if stop was requested on the calling green thread; false on a
// foreign thread or a thread without a stop state. Never throws.
bool stop_requested() noexcept;

}  // namespace weft::this_thread
