// weft's error type: every misuse and every resource failure the runtime
// detects is reported as a weft::error carrying one of these codes and a
// message that names the problem.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace weft {

enum class errc {
  invalid_argument = 1,  // e.g. a negative timeout, a zero stack size
  invalid_state,         // an illegal state transition (resume of a thread that is not suspended)
  not_joinable,          // join/detach of an empty, joined or detached handle
  deadlock,              // joining self, waiting on something that can never come
  no_child,              // join_any with no child left to wait for
  no_runtime,            // the call needs a running weft runtime
  shut_down,             // the runtime is stopping and refuses new work, or (a thread handle's) is gone
  resource_exhausted,    // memory or kernel mappings ran out
  timed_out,             // a blocking call with a deadline gave up
  closed,                // the channel/mailbox/pipe is closed
  no_such_thread,        // no live thread has that id
  canceled,              // a blocking call gave up because stop was requested on the calling green thread
  limit_exceeded,        // input larger than a configured limit (a line longer than a buffered_reader's)
  end_of_stream,         // the stream ended in the middle of something (a line without its delimiter)
};

// The std::error_category of weft::errc values.
const std::error_category& category() noexcept;

// Makes an std::error_code from a weft::errc.
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

// The exception weft throws; code() is one of weft::errc.
class error : public std::system_error {
 public:
  error(errc code, const std::string& what) : std::system_error(make_error_code(code), what) {}
};

}  // namespace weft

template <>
struct std::is_error_code_enum<weft::errc> : std::true_type {};
