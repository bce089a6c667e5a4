// A test-and-test-and-set lock for the short critical sections of wait
// queues, timers and run queues. Unlike std::mutex it may be released by a
// different green thread (or the scheduler) than the one that took it: a
// parking thread hands its wait queue's lock to the post-switch action, which
// releases it only after the thread's context is saved (see core/worker_loop.hpp).
#pragma once

#include <atomic>
#include <cstdint>

#include <sched.h>

namespace weft::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

inline void spin_lock(std::atomic<std::uint32_t>& word) noexcept {
  for (unsigned spins = 0;; ++spins) {
    if (!word.exchange(1, std::memory_order_acquire)) return;
    while (word.load(std::memory_order_relaxed)) {
      // Holders never sleep while holding it, so spin; yield the core only
      // when a holder was descheduled by the kernel.
      if (++spins < 128) cpu_relax();
      else { sched_yield(); spins = 0; }
    }
  }
}

inline bool spin_try_lock(std::atomic<std::uint32_t>& word) noexcept {
  return !word.load(std::memory_order_relaxed) && !word.exchange(1, std::memory_order_acquire);
}

inline void spin_unlock(std::atomic<std::uint32_t>& word) noexcept { word.store(0, std::memory_order_release); }

class spinlock {
 public:
  void lock() noexcept { spin_lock(word_); }
  bool try_lock() noexcept { return spin_try_lock(word_); }
  void unlock() noexcept { spin_unlock(word_); }

 private:
  std::atomic<std::uint32_t> word_{0};
};

}  // namespace weft::detail
