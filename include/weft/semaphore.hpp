// A counting semaphore (P/V of the OS notes); parks green threads, blocks foreign ones.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "detail/duration.hpp"
#include "detail/wait_queue.hpp"

namespace weft {

class counting_semaphore {
 public:
  // The largest count a semaphore holds (the word also carries a lock bit).
  static constexpr std::ptrdiff_t max() noexcept { return PTRDIFF_MAX / 2; }
  // Throws weft::error(invalid_argument) on a negative initial count or one above max().
  explicit counting_semaphore(std::ptrdiff_t initial);
  counting_semaphore(const counting_semaphore&) = delete;
  counting_semaphore& operator=(const counting_semaphore&) = delete;

  // P: takes one unit, waiting while none is left. Throws
  // weft::error(canceled) when stop is requested on the calling green thread
  // while it waits (it then took no unit).
  void acquire() { (void)acquire_until(-1); }
  // Takes one unit if one is free; never blocks. May fail spuriously, as
  // std::counting_semaphore::try_acquire may, while another thread holds the
  // internal queue lock (see semaphore.cpp).
  bool try_acquire() noexcept;
  // P with a timeout; throws weft::error(invalid_argument) on a negative d, canceled as acquire().
  template <class Rep, class Period>
  bool try_acquire_for(std::chrono::duration<Rep, Period> d) {
    // Checked before the fast path: a bad timeout is an error even when a unit is free.
    long long deadline = deadline_in(detail::saturating_ns(d, "counting_semaphore::try_acquire_for"));
    return try_acquire() || acquire_until(deadline);
  }
  template <class Duration>
  bool try_acquire_until(std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
    long long deadline = detail::steady_deadline_ns(t, "counting_semaphore::try_acquire_until");
    return try_acquire() || acquire_until(deadline);
  }
  // V: returns n units, handing them straight to waiters first. Throws
  // weft::error(invalid_argument) when n < 0 or the count would overflow.
  void release(std::ptrdiff_t n = 1);
  // Units free now (a snapshot).
  std::ptrdiff_t available() const noexcept {
    return static_cast<std::ptrdiff_t>(q_.lock.load(std::memory_order_relaxed) >> count_shift);
  }

 private:
  bool acquire_until(long long deadline_ns);
  static long long deadline_in(long long ns);
  // The count lives above the wait queue's lock bit, so release() publishes
  // it and unlocks the queue in one store, its last touch of the semaphore:
  // an acquirer may destroy it at once (the POSIX sem_post promise).
  static constexpr unsigned count_shift = 1;
  detail::wait_queue q_;
};

}  // namespace weft
