// release() hands units straight to parked waiters (they return without
// touching the count), and only the remainder goes into the count: a
// newcomer cannot steal a unit meant for a thread already woken.
#include "weft/semaphore.hpp"

#include <cstdint>
#include <string>

#include "park.hpp"
#include "weft/error.hpp"

namespace weft {

counting_semaphore::counting_semaphore(std::ptrdiff_t initial) : count_(initial) {
  if (initial < 0)
    throw error(errc::invalid_argument, "counting_semaphore: negative initial count " + std::to_string(initial));
}

long long counting_semaphore::deadline_in(long long ns) {
  return detail::deadline_after(ns, "counting_semaphore::try_acquire_for");
}

bool counting_semaphore::try_acquire() noexcept {
  std::ptrdiff_t c = count_.load(std::memory_order_relaxed);
  while (c > 0)
    if (count_.compare_exchange_weak(c, c - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
  return false;
}

bool counting_semaphore::acquire_until(long long deadline) {
  using namespace detail;
  if (try_acquire()) return true;
  waiter w = make_waiter();
  wq_lock(q_);
  if (try_acquire()) {
    wq_unlock(q_);
    return true;
  }
  wq_push(q_, w);
  return park(q_, w, deadline, wait_reason::semaphore) == wake_status::notified;
}

void counting_semaphore::release(std::ptrdiff_t n) {
  using namespace detail;
  if (n < 0) throw error(errc::invalid_argument, "counting_semaphore::release: negative count " + std::to_string(n));
  waiter* batch[64];
  while (n > 0) {
    std::size_t k = 0;
    wq_lock(q_);
    while (n > 0 && k < 64) {
      waiter* w = wq_claim_first(q_);
      if (!w) break;
      batch[k++] = w;
      --n;
    }
    if (k < 64 && n > 0) {
      std::ptrdiff_t c = count_.load(std::memory_order_relaxed);
      if (c > PTRDIFF_MAX - n) {
        wq_unlock(q_);
        for (std::size_t i = 0; i < k; ++i) complete(*batch[i]);
        throw error(errc::invalid_argument, "counting_semaphore::release: count would overflow");
      }
      count_.fetch_add(n, std::memory_order_release);
      n = 0;
    }
    wq_unlock(q_);
    for (std::size_t i = 0; i < k; ++i) complete(*batch[i]);
  }
}

}  // namespace weft
