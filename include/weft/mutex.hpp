// A mutex that parks the green thread (or blocks a foreign kernel thread),
// never the worker. Works with std::unique_lock, std::scoped_lock and
// std::lock_guard.
//
// Fairness, what is guaranteed (after Go's sync.Mutex; runtime/sync/mutex.cpp
// has the protocol):
//   - Normal mode: a thread that calls lock() while the mutex is free takes
//     it, even when others are parked waiting (barging). That keeps a thread
//     that unlocks and relocks in a loop from switching on every iteration.
//     Parked waiters queue in FIFO order; an unlock wakes at most one of
//     them at a time, and the woken one competes with newcomers.
//   - Hand-off mode: once a woken waiter has been waiting for more than
//     1 ms (from its first park in this lock() call) and still loses, the
//     mutex switches to hand-off mode: unlock() passes ownership directly to
//     the front waiter, newcomers queue at the back and try_lock() fails.
//     The mutex leaves hand-off mode when the waiter it is handed to waited
//     less than 1 ms or was the last one.
//   So a waiter is never starved by threads that relock in a loop: it gets
//   the mutex at the latest after each waiter parked ahead of it has had it
//   once (a woken waiter that loses goes back to the front of the queue, and
//   the front one forces hand-off mode once it has waited 1 ms).
//   Not guaranteed: FIFO order between threads that never park (barging is
//   the point of normal mode), or any bound in time (that depends on how
//   long each owner holds the mutex and on the kernel's scheduling).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "detail/duration.hpp"
#include "detail/wait_queue.hpp"

namespace weft {

namespace detail {
struct mutex_probe;
}

class mutex {
 public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  // Blocks until the caller owns the mutex; never throws.
  void lock() {
    // Free (whatever the waiter bits say) and not being handed off: take it.
    // Under contention the queue is rarely empty, so this must not insist
    // on a zero word: that sent every increment of BM_Mutex_Contended
    // through both slow paths.
    std::uint64_t w = word().load(std::memory_order_relaxed);
    if (!(w & (locked | starving | detail::wait_queue::lock_bit)) &&
        word().compare_exchange_weak(w, w | locked, std::memory_order_acquire, std::memory_order_relaxed))
      return;
    lock_slow(-1);
  }
  // Takes the mutex if it is free; never blocks, never throws. Fails in
  // hand-off mode, where the mutex always belongs to a thread or to the
  // waiter it is being handed to. Like std::mutex::try_lock it may fail
  // spuriously: while a waiter or an unlocker holds the internal queue lock
  // (a few instructions, unless the kernel preempts that thread).
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
  // Like lock() but gives up after d (false); throws weft::error(invalid_argument) on a negative or NaN d.
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> d) {
    // Checked before the fast path: a bad timeout is an error even when the mutex is free.
    long long deadline = deadline_in(detail::saturating_ns(d, "mutex::try_lock_for"));
    return try_lock() || lock_slow(deadline);
  }
  // Like lock() but gives up at t (steady clock; false); throws weft::error(invalid_argument) on a NaN t.
  template <class Duration>
  bool try_lock_until(std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
    long long deadline = detail::steady_deadline_ns(t, "mutex::try_lock_until");
    return try_lock() || lock_slow(deadline);
  }
  // Releases the mutex (in hand-off mode: passes it to the front waiter) and
  // wakes at most one waiter; never throws. The releasing store is its last
  // touch of the mutex, so the next owner may destroy it at once.
  void unlock() noexcept {
    // Nothing to hand off and nobody to wake (no waiters, or one already
    // woken and on its way): one CAS.
    std::uint64_t w = word().load(std::memory_order_relaxed);
    if (!(w & (starving | detail::wait_queue::lock_bit)) && (w & (waiting | woken)) != waiting &&
        word().compare_exchange_weak(w, w & ~locked, std::memory_order_release, std::memory_order_relaxed))
      return;
    unlock_slow();
  }

 private:
  bool lock_slow(long long deadline_ns);
  void unlock_slow() noexcept;
  static long long deadline_in(long long ns);
  std::atomic<std::uint64_t>& word() noexcept { return q_.lock; }

  friend struct detail::mutex_probe;  // tests read the state word

  // The state lives in the wait queue's lock word, next to the queue's lock
  // bit, so an unlock with waiters releases the mutex and the queue in one
  // store (glibc bug 13690 is the price of two words).
  static constexpr std::uint64_t locked = 2;    // owned (always, in hand-off mode)
  static constexpr std::uint64_t waiting = 4;   // the queue may hold waiters
  static constexpr std::uint64_t woken = 8;     // a waiter is awake and competing: unlock wakes nobody else
  static constexpr std::uint64_t starving = 16; // hand-off mode
  detail::wait_queue q_;
};

}  // namespace weft
