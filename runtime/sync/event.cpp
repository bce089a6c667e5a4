#include "weft/event.hpp"

#include "core/park.hpp"
#include "weft/error.hpp"

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

namespace {
// Waits until set; false on timeout, weft::error(canceled) on a stop request.
bool wait_set(const std::atomic<bool>& set, detail::wait_queue& q, std::int64_t deadline, const char* what) {
  detail::wake_status s = detail::wait_for_condition_cancellable(
      q, [&] { return set.load(std::memory_order_acquire); }, deadline, wait_reason::event);
  if (s == detail::wake_status::canceled)
    throw error(errc::canceled, std::string(what) + ": stop was requested on the calling thread");
  if (s != detail::wake_status::notified) return false;
  detail::settle(q);
  return true;
}
}  // namespace

void event::wait() const { wait_set(set_, q_, -1, "event::wait"); }

bool event::wait_ns(long long t) const {
  std::int64_t deadline = detail::deadline_after(t, "event::wait_for");
  if (t == 0) return is_set();  // a poll: it never queues, so pollers cannot crowd set() off the queue lock
  return wait_set(set_, q_, deadline, "event::wait_for");
}

}  // namespace weft
