// A mutex that parks the green thread (or blocks a foreign kernel thread),
// never the worker. Works with std::unique_lock, std::scoped_lock and
// std::lock_guard.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "detail/duration.hpp"
#include "detail/wait_queue.hpp"

namespace weft {

class mutex {
 public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  // Blocks until the caller owns the mutex.
  void lock() {
    std::uint64_t free = 0;
    if (!word().compare_exchange_strong(free, locked, std::memory_order_acquire, std::memory_order_relaxed))
      lock_slow(-1);
  }
  // Takes the mutex if it is free; never blocks. Like std::mutex::try_lock
  // it may fail spuriously: while a waiter or an unlocker holds the internal
  // queue lock (a few instructions, unless the kernel preempts that thread).
  bool try_lock() noexcept {
    std::uint64_t w = word().load(std::memory_order_relaxed);
    for (int spins = 0; !(w & locked);) {
      if (w & detail::wait_queue::lock_bit) {
        if (++spins > 128) return false;
#if defined(__x86_64__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
        w = word().load(std::memory_order_relaxed);
        continue;
      }
      if (word().compare_exchange_weak(w, w | locked, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  // Like lock() but gives up after d; throws weft::error(invalid_argument) on a negative d.
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> d) {
    // Checked before the fast path: a bad timeout is an error even when the mutex is free.
    long long deadline = deadline_in(detail::saturating_ns(d, "mutex::try_lock_for"));
    return try_lock() || lock_slow(deadline);
  }
  // Like lock() but gives up at t (steady clock).
  template <class Duration>
  bool try_lock_until(std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
    long long deadline = detail::steady_deadline_ns(t, "mutex::try_lock_until");
    return try_lock() || lock_slow(deadline);
  }
  // Releases the mutex and wakes one waiter, if any. The releasing store is
  // its last touch of the mutex, so the next owner may destroy it at once.
  void unlock() noexcept {
    std::uint64_t held = locked;
    if (!word().compare_exchange_strong(held, 0, std::memory_order_release, std::memory_order_relaxed)) unlock_slow();
  }

 private:
  bool lock_slow(long long deadline_ns);
  void unlock_slow() noexcept;
  static long long deadline_in(long long ns);
  std::atomic<std::uint64_t>& word() noexcept { return q_.lock; }

  // The state lives in the wait queue's lock word, next to the queue's lock
  // bit, so an unlock with waiters releases the mutex and the queue in one
  // store (glibc bug 13690 is the price of two words).
  static constexpr std::uint64_t locked = 2;   // owned
  static constexpr std::uint64_t waiting = 4;  // the queue may hold waiters
  detail::wait_queue q_;
};

}  // namespace weft
