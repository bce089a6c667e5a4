// What a message operation reports: which of the four cases happened (done,
// closed, timed out, would block) and, for a send that failed, the message
// itself, handed back so that nothing is ever dropped silently. Results are
// plain values: the hot path throws nothing; value() is the throwing
// accessor for callers who prefer exceptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "../error.hpp"

namespace weft {

// Outcome of a channel, mailbox, select or pipe operation.
enum class op_status : std::uint8_t {
  ok,           // done: sent, received, written or read
  closed,       // the channel/mailbox/pipe is closed (receive: closed and drained)
  timeout,      // a timed operation reached its deadline first
  would_block,  // a try_ operation (or try_select) found nothing ready
  canceled,     // stop was requested on the calling green thread while it waited (a send gives its message back)
};

// Names a status ("ok", "closed", "timeout", "would_block", "canceled").
const char* to_string(op_status s) noexcept;

namespace detail {
// Throws the weft::error matching a failed status; `what` names the operation.
[[noreturn]] void throw_status(op_status s, const char* what);
}  // namespace detail

// The result of a send: ok, or the failure and the message handed back.
template <class T>
class [[nodiscard]] send_result {
 public:
  explicit send_result(op_status s) noexcept : status_(s) {}
  send_result(op_status s, T&& back) : status_(s), back_(std::move(back)) {}

  op_status status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == op_status::ok; }
  explicit operator bool() const noexcept { return ok(); }
  // True when the failed send gave its message back (every failure does).
  bool has_message() const noexcept { return back_.has_value(); }
  // The message a failed send gave back; throws weft::error(invalid_state) after a successful send.
  T& message() & {
    if (!back_) detail::throw_status(op_status::ok, "send_result::message: the send succeeded, nothing came back");
    return *back_;
  }
  // Moves the given-back message out; throws as message().
  T take_message() { return std::move(message()); }

 private:
  op_status status_;
  std::optional<T> back_;
};

// The result of a receive: ok with a value, or closed/timeout/would_block/canceled.
template <class T>
class [[nodiscard]] recv_result {
 public:
  recv_result() noexcept = default;

  op_status status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == op_status::ok; }
  explicit operator bool() const noexcept { return ok(); }
  // The value received; throws weft::error (closed, timed_out or canceled) when there is none.
  T& value() & {
    if (!ok()) detail::throw_status(status_, "recv_result::value");
    return *value_;
  }
  T&& value() && {
    if (!ok()) detail::throw_status(status_, "recv_result::value");
    return std::move(*value_);
  }
  // Unchecked access, as for std::optional.
  T& operator*() noexcept { return *value_; }
  T* operator->() noexcept { return &*value_; }

  // For the implementation: where a received value is constructed.
  std::optional<T>& sink() noexcept { return value_; }
  void set_status(op_status s) noexcept { status_ = s; }

 private:
  op_status status_ = op_status::would_block;
  std::optional<T> value_;
};

// The result of a pipe read or write: bytes moved and why it stopped.
struct [[nodiscard]] io_result {
  std::size_t bytes = 0;
  op_status status = op_status::ok;
  explicit operator bool() const noexcept { return status == op_status::ok; }
};

}  // namespace weft
