// A mutex that parks the green thread (or blocks a foreign kernel thread),
// never the worker. Works with std::unique_lock, std::scoped_lock and
// std::lock_guard.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "detail/wait_queue.hpp"

namespace weft {

class mutex {
 public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  // Blocks until the caller owns the mutex.
  void lock() {
    std::uint32_t free = 0;
    if (!state_.compare_exchange_strong(free, 1, std::memory_order_acquire, std::memory_order_relaxed)) lock_slow(-1);
  }
  // Takes the mutex if it is free; never blocks.
  bool try_lock() noexcept {
    std::uint32_t free = 0;
    return state_.compare_exchange_strong(free, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  // Like lock() but gives up after d; throws weft::error(invalid_argument) on a negative d.
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> d) {
    // Checked before the fast path: a bad timeout is an error even when the mutex is free.
    long long deadline = deadline_in(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    return try_lock() || lock_slow(deadline);
  }
  // Like lock() but gives up at t (steady clock).
  template <class Duration>
  bool try_lock_until(std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
    return try_lock() || lock_slow(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  }
  // Releases the mutex and wakes one waiter, if any.
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) wake_one_waiter();
  }

 private:
  bool lock_slow(long long deadline_ns);
  static long long deadline_in(long long ns);
  void wake_one_waiter() noexcept;

  // 0 free, 1 locked, 2 locked and someone may wait (Drepper's "futexes are tricky" mutex).
  std::atomic<std::uint32_t> state_{0};
  detail::wait_queue q_;
};

}  // namespace weft
