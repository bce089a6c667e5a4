// Slow paths of weft::mutex. A waiter marks the mutex contended (2) under
// the queue lock before it parks, so an unlock that swaps out a 2 knows to
// wake someone, and one that swaps out a 1 knows nobody waits. The woken
// waiter competes again with newcomers (barging): throughput under
// contention stays high because a thread that unlocks and relocks in a loop
// does not switch for every iteration.
#include "weft/mutex.hpp"

#include "park.hpp"

namespace weft {

long long mutex::deadline_in(long long ns) { return detail::deadline_after(ns, "mutex::try_lock_for"); }

bool mutex::lock_slow(long long deadline) {
  using namespace detail;
  // A short spin first: critical sections are often shorter than a park.
  for (int i = 0; i < 64; ++i) {
    if (state_.load(std::memory_order_relaxed) == 0 && try_lock()) return true;
    cpu_relax();
  }
  for (;;) {
    wq_lock(q_);
    if (state_.exchange(2, std::memory_order_acquire) == 0) {
      wq_unlock(q_);
      return true;
    }
    waiter w = make_waiter();
    wq_push(q_, w);
    if (park(q_, w, deadline, wait_reason::mutex) == wake_status::timed_out) return false;
  }
}

void mutex::wake_one_waiter() noexcept { detail::wake_one(q_); }

}  // namespace weft
