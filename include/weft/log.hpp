// Where weft's messages go. weft is quiet while all is well: it speaks only
// when something needs the user's attention (io_uring refused so the I/O
// falls back to epoll, more stacks than the guard-page budget, a stalled
// green thread when options::stall_threshold is set, a fatal error), and every message goes through one handler with a level:
//
//   weft::set_log_handler([](const weft::log_record& r) {
//     my_logger.write(r.level, "weft/", r.component, ": ", r.message);
//   });
//
// The default handler writes "weft: <message>" lines to stderr. The
// threshold (default warn) drops records below it before they are even
// formatted; WEFT_LOG=debug|info|warn|error|fatal|off sets it without
// recompiling (read once, at weft's first message or level query), and
// set_log_level() overrides both, as options::io overrides WEFT_IO_ENGINE.
//
// A fatal error (a broken invariant inside weft, a detached thread that
// ended with an exception) is always written to stderr first, whatever the
// threshold and handler, then given to the handler at level fatal unless
// the threshold is off; then the process aborts.
#pragma once

#include <functional>
#include <string_view>

namespace weft {

// Ordered: a threshold lets through its own level and those after it.
// `off` is a threshold only; no record has it.
enum class log_level : int { debug, info, warn, error, fatal, off };

struct log_record {
  log_level level;
  std::string_view component;  // what spoke: "io", "stack", "core", "stall", "fatal", "log"
  // Without "weft: " or a trailing newline; valid only during the call. One
  // line, except a stall report's: a headline, then indented lines (where
  // the thread is, its backtrace).
  std::string_view message;
};

// The handler: a std::function, so it may carry state (a logger pointer).
//
// It is called from any thread: the thread that creates a runtime, a worker
// in the middle of switching green threads, a plain kernel thread, maybe
// several at once; it must be thread-safe itself. weft holds none of its
// own locks while calling it, except on the fatal path.
//
// It must return promptly and must not block on weft primitives, yield,
// sleep_for, join or do weft I/O: it may run on a worker between two green
// threads, with no green thread of its own to park (plain blocking syscalls,
// such as a write(2) to a file, are fine). It may run on a green thread's
// stack (options::stack_size, 64 KiB by default): keep its frames modest.
//
// It may call set_log_level and current_log_level. A weft message raised
// while it runs on the same thread goes to default_log_handler instead of
// re-entering it. It must not call set_log_handler (that throws). An
// exception it throws is caught: the record then goes to
// default_log_handler with a note, since weft logs from noexcept paths.
using log_handler = std::function<void(const log_record&)>;

// The level's name: "debug", "info", "warn", "error", "fatal", "off" ("?" if out of range). Throws nothing.
const char* to_string(log_level l) noexcept;

// Writes "weft: <message>\n" to stderr in one write(2): the handler weft starts with. Throws nothing.
void default_log_handler(const log_record& r) noexcept;

// Installs h (an empty h, or default_log_handler, restores the default) and
// returns the previous handler (default_log_handler if it was the default),
// once no other thread is still inside the previous one, so whatever it
// captured can then be destroyed. Throws weft::error(deadlock) when called
// from inside the handler.
log_handler set_log_handler(log_handler h);

// Sets the threshold: records below it are dropped (off drops all; fatal
// errors still reach stderr). Wins over WEFT_LOG. Throws
// weft::error(invalid_argument) for a value outside log_level.
void set_log_level(log_level l);

// The threshold in force: set_log_level's, else WEFT_LOG's, else warn. Throws nothing.
log_level current_log_level() noexcept;

}  // namespace weft
