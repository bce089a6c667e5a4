// The waiter joins the queue before it releases the mutex, and parks with
// the queue lock held, so a notify issued right after the unlock finds it.
#include "weft/condition_variable.hpp"

#include "core/park.hpp"
#include "weft/error.hpp"

namespace weft {

long long condition_variable::deadline_in(long long ns) {
  return detail::deadline_after(ns, "condition_variable::wait_for");
}

void condition_variable::notify_one() noexcept { detail::wake_one(q_); }
void condition_variable::notify_all() noexcept { detail::wake_all(q_); }

bool condition_variable::wait_impl(std::unique_lock<mutex>& lk, long long deadline) {
  using namespace detail;
  if (!lk.owns_lock()) throw error(errc::invalid_state, "condition_variable::wait: the lock is not held");
  waiter w = make_waiter();
  wq_lock(q_);
  wq_push(q_, w);
  lk.unlock();
  wake_status s = park_cancellable(q_, w, deadline, wait_reason::condition);
  lk.lock();
  if (s == wake_status::canceled)
    throw error(errc::canceled, "condition_variable::wait: stop was requested on the calling thread");
  return s == wake_status::notified;
}

}  // namespace weft
