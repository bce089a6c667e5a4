// Count-down synchronisation: a single-use latch and a reusable wait group.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>

#include "detail/duration.hpp"
#include "detail/wait_queue.hpp"

namespace weft {

// Opens once its count reaches zero (like std::latch).
class latch {
 public:
  // Throws weft::error(invalid_argument) on a negative count.
  explicit latch(std::ptrdiff_t count);
  latch(const latch&) = delete;
  latch& operator=(const latch&) = delete;

  // Lowers the count by n; at zero every waiter wakes. Throws
  // weft::error(invalid_argument) if n < 0 or n exceeds the count.
  void count_down(std::ptrdiff_t n = 1);
  // True once the count is zero; then the caller may destroy the latch.
  bool try_wait() const noexcept;
  // Waits until the count is zero; throws weft::error(canceled) when stop
  // is requested on the calling green thread while it waits.
  void wait() const;
  // Waits at most d; false on timeout. Throws weft::error(invalid_argument) on a negative d, canceled as wait().
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) const {
    return wait_ns(detail::saturating_ns(d, "latch::wait_for"));
  }
  // count_down(n) then wait().
  void arrive_and_wait(std::ptrdiff_t n = 1) {
    count_down(n);
    wait();
  }

 private:
  bool wait_ns(long long timeout_ns) const;
  std::atomic<std::ptrdiff_t> count_;
  mutable detail::wait_queue q_;
};

// Go's sync.WaitGroup: add() work, done() it, wait() for zero; reusable.
class wait_group {
 public:
  wait_group() = default;
  wait_group(const wait_group&) = delete;
  wait_group& operator=(const wait_group&) = delete;

  // Adds n (may be negative); at zero every waiter wakes. Throws
  // weft::error(invalid_argument) if the count would drop below zero.
  void add(std::ptrdiff_t n = 1);
  // add(-1).
  void done() { add(-1); }
  // Waits until the count is zero; throws weft::error(canceled) when stop
  // is requested on the calling green thread while it waits.
  void wait() const;
  // Waits at most d; false on timeout. Throws weft::error(invalid_argument) on a negative d, canceled as wait().
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) const {
    return wait_ns(detail::saturating_ns(d, "wait_group::wait_for"));
  }
  // The count now; at zero the caller may destroy the group (as after wait()).
  std::ptrdiff_t count() const noexcept;

 private:
  bool wait_ns(long long timeout_ns) const;
  std::atomic<std::ptrdiff_t> count_{0};
  mutable detail::wait_queue q_;
};

}  // namespace weft
