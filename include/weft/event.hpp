// An event: waiters block until it is set; set() releases all of them.
// Manual-reset: it stays set (later waits return at once) until reset().
#pragma once

#include <atomic>
#include <chrono>

#include "detail/duration.hpp"
#include "detail/wait_queue.hpp"

namespace weft {

class event {
 public:
  event() = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  // Sets the event and wakes every waiter.
  void set() noexcept;
  // Clears it, so later waits block again.
  void reset() noexcept { set_.store(false, std::memory_order_release); }
  // True if set. Once it returns true the setter is done with the event, so
  // the caller may destroy it (the same promise a returning wait() makes).
  bool is_set() const noexcept;
  // Waits until set; throws weft::error(canceled) when stop is requested on
  // the calling green thread while it waits.
  void wait() const;
  // Waits at most d; false on timeout. Throws weft::error(invalid_argument) on a negative d, canceled as wait().
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> d) const {
    return wait_ns(detail::saturating_ns(d, "event::wait_for"));
  }

 private:
  bool wait_ns(long long timeout_ns) const;
  std::atomic<bool> set_{false};
  mutable detail::wait_queue q_;
};

}  // namespace weft
