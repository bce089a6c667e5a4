// The count shares one word with the wait queue's lock bit (count << 1 |
// lock). Fast paths compare-and-swap the word while the lock bit is clear;
// everything that parks or wakes holds the lock bit, and its final store
// writes the new count and clears the bit at once, so no call touches the
// semaphore after a unit it released can be seen. release() hands units
// straight to parked waiters (they return without touching the count), and
// only the remainder goes into the count: a newcomer cannot steal a unit
// meant for a thread already woken.
#include "weft/semaphore.hpp"

#include <cstdint>
#include <string>

#include "core/park.hpp"
#include "weft/error.hpp"

namespace weft {

namespace {
constexpr std::uint64_t unit = std::uint64_t{1} << 1;  // one count in the word
}

counting_semaphore::counting_semaphore(std::ptrdiff_t initial) {
  if (initial < 0)
    throw error(errc::invalid_argument, "counting_semaphore: negative initial count " + std::to_string(initial));
  if (initial > max())
    throw error(errc::invalid_argument, "counting_semaphore: initial count " + std::to_string(initial) +
                                            " exceeds max() " + std::to_string(max()));
  q_.lock.store(static_cast<std::uint64_t>(initial) << count_shift, std::memory_order_relaxed);
}

long long counting_semaphore::deadline_in(long long ns) {
  return detail::deadline_after(ns, "counting_semaphore::try_acquire_for");
}

bool counting_semaphore::try_acquire() noexcept {
  std::uint64_t w = q_.lock.load(std::memory_order_relaxed);
  for (int spins = 0;;) {
    if (w & detail::wait_queue::lock_bit) {
      // Somebody parks or releases: a few instructions, and their store
      // decides. If that thread was preempted meanwhile, fail (spuriously,
      // as std::counting_semaphore::try_acquire may) rather than spin on.
      if (++spins > 128) return false;
      detail::cpu_relax();
      w = q_.lock.load(std::memory_order_relaxed);
      continue;
    }
    if (w < unit) return false;
    if (q_.lock.compare_exchange_weak(w, w - unit, std::memory_order_acquire, std::memory_order_relaxed)) return true;
  }
}

bool counting_semaphore::acquire_until(long long deadline) {
  using namespace detail;
  if (try_acquire()) return true;
  waiter w = make_waiter();
  wq_lock(q_);
  std::uint64_t word = q_.lock.load(std::memory_order_relaxed);
  if (word >= unit) {
    q_.lock.store((word - unit) & ~wait_queue::lock_bit, std::memory_order_relaxed);
    return true;
  }
  wq_push(q_, w);
  // A canceled waiter is never claimed, so release() hands its unit to the next one.
  wake_status s = park_cancellable(q_, w, deadline, wait_reason::semaphore);
  if (s == wake_status::canceled)
    throw error(errc::canceled, "counting_semaphore::acquire: stop was requested on the calling thread");
  return s == wake_status::notified;
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
    std::uint64_t word = q_.lock.load(std::memory_order_relaxed) & ~wait_queue::lock_bit;
    bool overflow = false;
    if (k < 64 && n > 0) {
      auto c = static_cast<std::ptrdiff_t>(word >> count_shift);
      if (c > max() - n) overflow = true;
      else word += static_cast<std::uint64_t>(n) << count_shift;
    }
    if (k < 64 && !overflow) n = 0;
    // The last touch of the semaphore: count and unlock in one store.
    q_.lock.store(word, std::memory_order_release);
    for (std::size_t i = 0; i < k; ++i) complete(*batch[i]);
    if (overflow)
      throw error(errc::invalid_argument, "counting_semaphore::release: count would overflow max() (" +
                                              std::to_string(max()) + ")");
  }
}

}  // namespace weft
