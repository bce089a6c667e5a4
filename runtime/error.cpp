#include "weft/error.hpp"

#include "weft/thread_info.hpp"

namespace weft {
namespace {

class weft_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "weft"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::invalid_argument: return "invalid argument";
      case errc::invalid_state: return "operation not valid in the thread's current state";
      case errc::not_joinable: return "thread handle not joinable";
      case errc::deadlock: return "operation would deadlock";
      case errc::no_child: return "no child thread to wait for";
      case errc::no_runtime: return "no weft runtime for this call";
      case errc::shut_down: return "runtime is shut down";
      case errc::resource_exhausted: return "resource exhausted";
      case errc::timed_out: return "timed out";
      case errc::closed: return "closed";
      case errc::no_such_thread: return "no such thread";
      case errc::canceled: return "canceled: stop was requested on the thread";
      case errc::limit_exceeded: return "limit exceeded";
      case errc::end_of_stream: return "unexpected end of stream";
    }
    return "unknown weft error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const weft_category c;
  return c;
}

const char* to_string(thread_state s) noexcept {
  switch (s) {
    case thread_state::created: return "created";
    case thread_state::ready: return "ready";
    case thread_state::running: return "running";
    case thread_state::blocked: return "blocked";
    case thread_state::terminated: return "terminated";
    case thread_state::suspended_ready: return "suspended_ready";
    case thread_state::suspended_blocked: return "suspended_blocked";
  }
  return "?";
}

const char* to_string(wait_reason r) noexcept {
  static const char* const names[] = {"none",         "join",         "join_any",  "sleep",   "mutex",
                                      "condition",    "semaphore",    "latch",     "wait_group", "event",
                                      "channel_send", "channel_recv", "select",    "mailbox", "pipe",
                                      "io",           "blocking_call", "suspended"};
  auto i = static_cast<unsigned>(r);
  return i < sizeof names / sizeof names[0] ? names[i] : "?";
}

}  // namespace weft
