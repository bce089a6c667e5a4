// select: wait for the first of several channel operations.
//
//   std::optional<int> got;
//   std::string out = "hi";
//   auto r = weft::select({weft::on_recv(a, got), weft::on_send(b, out)});
//   if (r.index == 0 && r.ok()) use(*got);
//
// Exactly one case fires. Among cases ready at the same time the choice is
// uniformly random, so no case starves. A receive on a closed, drained
// channel and a send on a closed channel are ready too: they fire with
// status closed (the send's value stays with the caller). try_select is
// the "default branch"; select_for/select_until add a timeout.
// A select waits with one waiter linked into every channel, never polls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>

#include "channel.hpp"

namespace weft {

// One operation of a select; make it with on_recv or on_send.
struct select_case {
  detail::chan_core* core = nullptr;
  void* slot = nullptr;  // send: the T to move from; receive: the std::optional<T> to fill
  bool is_send = false;
};

// A receive case: when it fires with ok, out holds the value.
template <class T>
select_case on_recv(detail::chan_base<T>& ch, std::optional<T>& out) noexcept {
  return {&ch.core(), &out, false};
}

// A send case: value is moved into the channel only if this case fires with ok.
template <class T>
select_case on_send(channel<T>& ch, T& value) noexcept {
  return {&ch.core(), &value, true};
}

// Which case fired and how.
struct [[nodiscard]] select_result {
  int index = -1;                            // the case that fired; -1 on timeout, would_block or canceled
  op_status status = op_status::would_block;  // ok, closed (that case's channel is closed), timeout, would_block, canceled
  bool ok() const noexcept { return status == op_status::ok; }
  explicit operator bool() const noexcept { return ok(); }
};

namespace detail {
// cases[0..n); deadline in steady ns (< 0 none); nonblock: the default branch.
// Throws weft::error(invalid_argument) for a blocking select with no cases.
select_result select_impl(const select_case* cases, std::size_t n, long long deadline, bool nonblock);
}  // namespace detail

// Waits until one case fires; canceled (no case fired) when stop is
// requested on the calling green thread while it waits.
inline select_result select(std::initializer_list<select_case> cases) {
  return detail::select_impl(cases.begin(), cases.size(), -1, false);
}
inline select_result select(const select_case* cases, std::size_t n) {
  return detail::select_impl(cases, n, -1, false);
}
// Fires a ready case if there is one, else returns would_block (Go's default branch).
inline select_result try_select(std::initializer_list<select_case> cases) {
  return detail::select_impl(cases.begin(), cases.size(), -1, true);
}
inline select_result try_select(const select_case* cases, std::size_t n) {
  return detail::select_impl(cases, n, -1, true);
}
// Waits at most d; status timeout if nothing fired. Throws weft::error(invalid_argument) on a negative d.
template <class Rep, class Period>
select_result select_for(std::initializer_list<select_case> cases, std::chrono::duration<Rep, Period> d) {
  return detail::select_impl(cases.begin(), cases.size(), detail::msg_deadline_for(d, "select_for"),
                             false);
}
template <class Rep, class Period>
select_result select_for(const select_case* cases, std::size_t n, std::chrono::duration<Rep, Period> d) {
  return detail::select_impl(cases, n, detail::msg_deadline_for(d, "select_for"), false);
}
// Waits until t (steady clock) at most.
template <class Duration>
select_result select_until(std::initializer_list<select_case> cases,
                           std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
  return detail::select_impl(cases.begin(), cases.size(), detail::steady_deadline_ns(t, "select_until"), false);
}

}  // namespace weft
