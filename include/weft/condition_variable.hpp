// A condition variable over weft::mutex; parks green threads, blocks foreign ones.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "detail/duration.hpp"
#include "detail/wait_queue.hpp"
#include "mutex.hpp"

namespace weft {

class condition_variable {
 public:
  condition_variable() = default;
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  // Wakes one waiter.
  void notify_one() noexcept;
  // Wakes every waiter.
  void notify_all() noexcept;

  // Releases lk, waits for a notification, relocks. Throws weft::error(invalid_state) if lk is not locked,
  // weft::error(canceled) (lk relocked) when stop is requested on the calling green thread while it waits.
  void wait(std::unique_lock<mutex>& lk) { wait_impl(lk, -1); }
  template <class Pred>
  void wait(std::unique_lock<mutex>& lk, Pred pred) {
    while (!pred()) wait(lk);
  }
  // As wait, giving up after d; throws weft::error(invalid_argument) on a negative d, canceled as wait.
  template <class Rep, class Period>
  std::cv_status wait_for(std::unique_lock<mutex>& lk, std::chrono::duration<Rep, Period> d) {
    return wait_impl(lk, deadline_in(detail::saturating_ns(d, "condition_variable::wait_for")))
               ? std::cv_status::no_timeout
               : std::cv_status::timeout;
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(std::unique_lock<mutex>& lk, std::chrono::duration<Rep, Period> d, Pred pred) {
    long long deadline = deadline_in(detail::saturating_ns(d, "condition_variable::wait_for"));
    while (!pred())
      if (!wait_impl(lk, deadline)) return pred();
    return true;
  }
  template <class Duration>
  std::cv_status wait_until(std::unique_lock<mutex>& lk, std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
    return wait_impl(lk, detail::steady_deadline_ns(t, "condition_variable::wait_until"))
               ? std::cv_status::no_timeout
               : std::cv_status::timeout;
  }
  template <class Duration, class Pred>
  bool wait_until(std::unique_lock<mutex>& lk, std::chrono::time_point<std::chrono::steady_clock, Duration> t,
                  Pred pred) {
    while (!pred())
      if (wait_until(lk, t) == std::cv_status::timeout) return pred();
    return true;
  }

 private:
  // True when notified, false on timeout.
  bool wait_impl(std::unique_lock<mutex>& lk, long long deadline_ns);
  static long long deadline_in(long long ns);
  detail::wait_queue q_;
};

}  // namespace weft
