// Slow paths of weft::mutex. The mutex state shares one word with its wait
// queue's lock bit: `locked`, `waiting` (somebody may be parked) and the
// queue lock. A waiter takes the queue lock, and if the mutex is still owned
// links itself, sets `waiting` and parks (park releases the queue lock once
// the thread is saved). An unlock that finds anything but a plain `locked`
// takes the queue lock, claims the first waiter, and then clears `locked`
// and the queue lock in one store; waking the waiter touches only the
// waiter. So no step of unlock touches the mutex after it is free, and the
// next owner may destroy it as soon as it has it (POSIX allows that; a
// mutex whose state and queue are separate words races it, glibc 13690).
// The woken waiter competes again with newcomers (barging): throughput
// under contention stays high because a thread that unlocks and relocks in
// a loop does not switch for every iteration.
#include "weft/mutex.hpp"

#include "core/park.hpp"

namespace weft {

long long mutex::deadline_in(long long ns) { return detail::deadline_after(ns, "mutex::try_lock_for"); }

bool mutex::lock_slow(long long deadline) {
  using namespace detail;
  // A short spin first: critical sections are often shorter than a park.
  for (int i = 0; i < 64; ++i) {
    if (!(word().load(std::memory_order_relaxed) & locked) && try_lock()) return true;
    cpu_relax();
  }
  for (;;) {
    wq_lock(q_);
    std::uint64_t w = word().load(std::memory_order_relaxed);
    if (!(w & locked)) {
      // Free: take it and drop the queue lock in one store.
      word().store((w | locked) & ~wait_queue::lock_bit, std::memory_order_relaxed);
      return true;
    }
    waiter wt = make_waiter();
    wq_push(q_, wt);
    word().store(w | waiting, std::memory_order_relaxed);
    if (park(q_, wt, deadline, wait_reason::mutex) == wake_status::timed_out) return false;
  }
}

void mutex::unlock_slow() noexcept {
  using namespace detail;
  wq_lock(q_);
  waiter* w = wq_claim_first(q_);
  word().store(wq_empty(q_) ? 0 : waiting, std::memory_order_release);
  if (w) complete(*w);
}

}  // namespace weft
