// Per-worker timers: a binary min-heap of waiters by deadline. Only the
// owning worker fires them (in its scheduling loop, and every few switches on
// the fast path), so a timeout never wakes a thread on another worker's
// stack. Other workers take the lock only to cancel a timer whose waiter was
// woken first. An idle worker sleeps until the earliest deadline.
#pragma once

#include <cstdint>
#include <vector>

#include "base/spinlock.hpp"

namespace weft::detail {

struct waiter;
struct tcb;

class timer_heap {
 public:
  // Adds w (w.deadline set) and records this heap as its timer owner.
  void add(waiter& w, class worker* owner) noexcept;
  // Removes w if it is still pending in the heap.
  void cancel(waiter& w) noexcept;
  // Fires every timer due at now_ns: claims its waiter as timed_out and
  // returns the threads to make ready (appended to out).
  void fire(std::int64_t now_ns, std::vector<tcb*>& out) noexcept;
  // Earliest deadline, or -1 when empty.
  std::int64_t next_deadline() const noexcept { return next_.load(std::memory_order_acquire); }
  bool empty() const noexcept { return next_deadline() < 0; }

 private:
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void remove_at(std::size_t i) noexcept;
  void publish_next() noexcept;

  spinlock lock_;
  std::vector<waiter*> heap_;
  std::atomic<std::int64_t> next_{-1};
};

}  // namespace weft::detail
