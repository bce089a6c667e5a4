#include "weft/event.hpp"

#include "park.hpp"

namespace weft {

void event::set() noexcept {
  set_.store(true, std::memory_order_release);
  detail::wake_all(q_);
}

void event::wait() const {
  detail::wait_for_condition(q_, [&] { return is_set(); }, -1, wait_reason::event);
}

bool event::wait_ns(long long t) const {
  std::int64_t deadline = detail::deadline_after(t, "event::wait_for");
  return detail::wait_for_condition(q_, [&] { return is_set(); }, deadline, wait_reason::event);
}

}  // namespace weft
