#include "weft/event.hpp"

#include "core/park.hpp"

namespace weft {

// Set under the queue lock, waits settle on it: a waiter may destroy the
// event as soon as its wait returns, even while set() is still returning.
void event::set() noexcept {
  detail::wq_lock(q_);
  set_.store(true, std::memory_order_release);
  detail::wake_all_and_unlock(q_);
}

bool event::is_set() const noexcept {
  if (!set_.load(std::memory_order_acquire)) return false;
  detail::settle(q_);
  return true;
}

void event::wait() const {
  detail::wait_for_condition(q_, [&] { return set_.load(std::memory_order_acquire); }, -1, wait_reason::event);
  detail::settle(q_);
}

bool event::wait_ns(long long t) const {
  std::int64_t deadline = detail::deadline_after(t, "event::wait_for");
  if (t == 0) return is_set();  // a poll: it never queues, so pollers cannot crowd set() off the queue lock
  if (!detail::wait_for_condition(q_, [&] { return set_.load(std::memory_order_acquire); }, deadline,
                                  wait_reason::event))
    return false;
  detail::settle(q_);
  return true;
}

}  // namespace weft
