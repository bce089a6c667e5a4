// When a waiting I/O call gives up: every socket and file call that may wait
// takes a trailing `deadline`, built from a timeout (relative to the call)
// or a steady_clock time point; the default waits forever.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "weft/error.hpp"

namespace weft::io {

class deadline {
 public:
  // No deadline: wait until the operation finishes or is cancelled.
  constexpr deadline() noexcept = default;
  // Gives up `timeout` after now; throws weft::error(invalid_argument) on a negative timeout.
  template <class Rep, class Period>
  deadline(std::chrono::duration<Rep, Period> timeout) {  // NOLINT: implicit on purpose (s.read(b, n, 100ms))
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    if (ns < 0)
      throw error(errc::invalid_argument, "weft::io: negative timeout (" + std::to_string(ns) + " ns)");
    std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    ns_ = ns > INT64_MAX - now ? INT64_MAX : now + static_cast<std::int64_t>(ns);
  }
  // Gives up at time point t (a time point in the past: try once without waiting).
  template <class Duration>
  deadline(std::chrono::time_point<std::chrono::steady_clock, Duration> t)  // NOLINT: implicit on purpose
      : ns_(std::max<std::int64_t>(
            0, std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count())) {}

  // No deadline.
  static constexpr deadline none() noexcept { return {}; }
  bool is_none() const noexcept { return ns_ < 0; }
  // Steady-clock nanoseconds, or -1 for none.
  std::int64_t steady_ns() const noexcept { return ns_; }

 private:
  std::int64_t ns_ = -1;
};

}  // namespace weft::io
