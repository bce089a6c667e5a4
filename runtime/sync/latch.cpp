// latch and wait_group: a count and a queue; whoever brings the count to
// zero wakes every waiter (park.hpp's wait_for_condition protocol). The
// count reaches zero only under the queue lock and waits settle on that
// lock, so a waiter may destroy the object as soon as its wait returns.
#include "weft/latch.hpp"

#include <string>

#include "core/park.hpp"
#include "weft/error.hpp"

namespace weft {
namespace {

// Deadline value for a zero timeout: a poll, which never queues, so pollers
// cannot crowd the thread that zeroes the count off the queue lock.
constexpr std::int64_t poll_only = -2;

// The count, settled when it is zero: the caller may then free the object.
std::ptrdiff_t settled_count(const std::atomic<std::ptrdiff_t>& count, detail::wait_queue& q) {
  std::ptrdiff_t c = count.load(std::memory_order_acquire);
  if (c == 0) detail::settle(q);
  return c;
}

// Waits for a zero count; false on timeout. Throws weft::error(canceled)
// naming `what` when stop is requested on the caller first.
bool wait_zero(const std::atomic<std::ptrdiff_t>& count, detail::wait_queue& q, std::int64_t deadline,
               wait_reason reason, const char* what) {
  if (deadline == poll_only) return settled_count(count, q) == 0;
  detail::wake_status s = detail::wait_for_condition_cancellable(
      q, [&] { return count.load(std::memory_order_acquire) == 0; }, deadline, reason);
  if (s == detail::wake_status::canceled)
    throw error(errc::canceled, std::string(what) + ": stop was requested on the calling thread");
  if (s != detail::wake_status::notified) return false;
  detail::settle(q);
  return true;
}

// Moves count from c to zero under q's lock and wakes every waiter; false
// (with c reloaded) if the count changed meanwhile.
bool zero_and_wake(std::atomic<std::ptrdiff_t>& count, std::ptrdiff_t& c, detail::wait_queue& q) {
  detail::wq_lock(q);
  if (!count.compare_exchange_strong(c, 0, std::memory_order_acq_rel, std::memory_order_relaxed)) {
    detail::wq_unlock(q);
    return false;
  }
  detail::wake_all_and_unlock(q);
  return true;
}

}  // namespace

latch::latch(std::ptrdiff_t count) : count_(count) {
  if (count < 0) throw error(errc::invalid_argument, "latch: negative count " + std::to_string(count));
}

void latch::count_down(std::ptrdiff_t n) {
  if (n < 0) throw error(errc::invalid_argument, "latch::count_down: negative n " + std::to_string(n));
  std::ptrdiff_t c = count_.load(std::memory_order_relaxed);
  for (;;) {
    if (n > c)
      throw error(errc::invalid_argument,
                  "latch::count_down: n " + std::to_string(n) + " exceeds the count " + std::to_string(c));
    if (c == n && n != 0) {
      if (zero_and_wake(count_, c, q_)) return;
    } else if (count_.compare_exchange_weak(c, c - n, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      return;
    }
  }
}

bool latch::try_wait() const noexcept { return settled_count(count_, q_) == 0; }

void latch::wait() const { wait_zero(count_, q_, -1, wait_reason::latch, "latch::wait"); }

bool latch::wait_ns(long long t) const {
  std::int64_t deadline = detail::deadline_after(t, "latch::wait_for");
  return wait_zero(count_, q_, t == 0 ? poll_only : deadline, wait_reason::latch, "latch::wait_for");
}

void wait_group::add(std::ptrdiff_t n) {
  std::ptrdiff_t c = count_.load(std::memory_order_relaxed);
  for (;;) {
    if (c + n < 0)
      throw error(errc::invalid_argument,
                  "wait_group: count would drop below zero (" + std::to_string(c) + " + " + std::to_string(n) + ")");
    if (c + n == 0 && n != 0) {
      if (zero_and_wake(count_, c, q_)) return;
    } else if (count_.compare_exchange_weak(c, c + n, std::memory_order_acq_rel, std::memory_order_relaxed)) {
      return;
    }
  }
}

std::ptrdiff_t wait_group::count() const noexcept { return settled_count(count_, q_); }

void wait_group::wait() const { wait_zero(count_, q_, -1, wait_reason::wait_group, "wait_group::wait"); }

bool wait_group::wait_ns(long long t) const {
  std::int64_t deadline = detail::deadline_after(t, "wait_group::wait_for");
  return wait_zero(count_, q_, t == 0 ? poll_only : deadline, wait_reason::wait_group, "wait_group::wait_for");
}

}  // namespace weft
