// When a waiting I/O call gives up: every socket and file call that may wait
// takes a trailing `deadline`, built from a timeout (relative to the call)
// or a steady_clock time point; the default waits forever.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "weft/detail/duration.hpp"
#include "weft/error.hpp"

namespace weft::io {

class deadline {
 public:
  // No deadline: wait until the operation finishes or is cancelled.
  constexpr deadline() noexcept = default;
  // Gives up `timeout` after now (a timeout too long for int64 nanoseconds,
  // such as hours::max(), never gives up); throws weft::error(invalid_argument)
  // on a negative or NaN timeout.
  template <class Rep, class Period>
  deadline(std::chrono::duration<Rep, Period> timeout) {  // NOLINT: implicit on purpose (s.read(b, n, 100ms))
    std::int64_t ns = weft::detail::saturating_ns(timeout, "weft::io");
    if (ns < 0)
      throw error(errc::invalid_argument, "weft::io: negative timeout (" + std::to_string(ns) + " ns)");
    std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    ns_ = ns > INT64_MAX - now ? INT64_MAX : now + ns;
  }
  // Gives up at time point t (a time point in the past: try once without
  // waiting; one beyond int64 nanoseconds: never); throws
  // weft::error(invalid_argument) on a NaN time point.
  template <class Duration>
  deadline(std::chrono::time_point<std::chrono::steady_clock, Duration> t)  // NOLINT: implicit on purpose
      : ns_(weft::detail::steady_deadline_ns(t, "weft::io")) {}

  // No deadline.
  static constexpr deadline none() noexcept { return {}; }
  bool is_none() const noexcept { return ns_ < 0; }
  // Steady-clock nanoseconds, or -1 for none.
  std::int64_t steady_ns() const noexcept { return ns_; }

 private:
  std::int64_t ns_ = -1;
};

}  // namespace weft::io
