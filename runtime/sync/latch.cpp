// latch and wait_group: a count and a queue; whoever brings the count to
// zero wakes every waiter (park.hpp's wait_for_condition protocol).
#include "weft/latch.hpp"

#include <string>

#include "park.hpp"
#include "weft/error.hpp"

namespace weft {
namespace {

bool wait_zero(const std::atomic<std::ptrdiff_t>& count, detail::wait_queue& q, std::int64_t deadline,
               wait_reason reason) {
  return detail::wait_for_condition(
      q, [&] { return count.load(std::memory_order_acquire) == 0; }, deadline, reason);
}

}  // namespace

latch::latch(std::ptrdiff_t count) : count_(count) {
  if (count < 0) throw error(errc::invalid_argument, "latch: negative count " + std::to_string(count));
}

void latch::count_down(std::ptrdiff_t n) {
  if (n < 0) throw error(errc::invalid_argument, "latch::count_down: negative n " + std::to_string(n));
  std::ptrdiff_t c = count_.load(std::memory_order_relaxed);
  do {
    if (n > c)
      throw error(errc::invalid_argument,
                  "latch::count_down: n " + std::to_string(n) + " exceeds the count " + std::to_string(c));
  } while (!count_.compare_exchange_weak(c, c - n, std::memory_order_acq_rel, std::memory_order_relaxed));
  if (c == n && n != 0) detail::wake_all(q_);
}

void latch::wait() const { wait_zero(count_, q_, -1, wait_reason::latch); }

bool latch::wait_ns(long long t) const {
  return wait_zero(count_, q_, detail::deadline_after(t, "latch::wait_for"), wait_reason::latch);
}

void wait_group::add(std::ptrdiff_t n) {
  std::ptrdiff_t c = count_.load(std::memory_order_relaxed);
  do {
    if (c + n < 0)
      throw error(errc::invalid_argument,
                  "wait_group: count would drop below zero (" + std::to_string(c) + " + " + std::to_string(n) + ")");
  } while (!count_.compare_exchange_weak(c, c + n, std::memory_order_acq_rel, std::memory_order_relaxed));
  if (c + n == 0 && n != 0) detail::wake_all(q_);
}

void wait_group::wait() const { wait_zero(count_, q_, -1, wait_reason::wait_group); }

bool wait_group::wait_ns(long long t) const {
  return wait_zero(count_, q_, detail::deadline_after(t, "wait_group::wait_for"), wait_reason::wait_group);
}

}  // namespace weft
