// Layer 0: weft's one way to say something (the public side is
// include/weft/log.hpp: levels, the handler, WEFT_LOG).
//
//   WEFT_LOG_WARN("io", "I/O engine: %s (%s)", name, why);
//
// A disabled level costs one relaxed load and a compare at the call site:
// the arguments are not evaluated, nothing is formatted. The threshold
// starts at `unread` (below every level), so the first message of the
// process, whatever its level, takes the slow path, which reads WEFT_LOG
// once and then checks the real threshold.
//
// Rules for callers: never log while holding a weft lock (the handler is
// user code: it may take its own locks, or, wrongly, create a runtime), and
// not from a signal handler (the fatal path and the overflow report write
// to stderr themselves; see log_offer_fatal).
#pragma once

#include <atomic>
#include <optional>
#include <string_view>

#include "weft/log.hpp"

namespace weft::detail {

// The threshold as an int (log_level's value); log_threshold_unread until WEFT_LOG was read.
inline constexpr int log_threshold_unread = -1;
extern std::atomic<int> g_log_threshold;

// True if a record at level l may pass (or the threshold is still unread).
inline bool log_may_pass(log_level l) noexcept {
  return static_cast<int>(l) >= g_log_threshold.load(std::memory_order_relaxed);
}

// Formats the message (printf-style, truncated past 1 KiB) and gives it to
// the handler if l passes the threshold. Never throws, whatever the handler does.
void log_emit(log_level l, const char* component, const char* fmt, ...) noexcept
    __attribute__((format(printf, 3, 4)));

// Gives an already formatted message (any length: a multi-line report) to
// the handler if l passes the threshold. Never throws.
void log_emit_text(log_level l, const char* component, std::string_view text) noexcept;

// Parses a WEFT_LOG value ("debug", "info", "warn", "error", "fatal", "off");
// nullopt for anything else.
std::optional<log_level> parse_log_level(std::string_view s) noexcept;

// The fatal path's offer (base/fatal.cpp): gives the record to a handler the
// user installed, unless the threshold is off, this thread is already inside
// the handler, or a handler swap holds the lock (the fatal path never waits
// for a lock). False if the handler was not called. The caller has already
// written the message to stderr.
bool log_offer_fatal(std::string_view component, std::string_view message) noexcept;

}  // namespace weft::detail

#define WEFT_LOG_AT(level, component, ...)                                              \
  do {                                                                                  \
    if (__builtin_expect(::weft::detail::log_may_pass(level), 0))                       \
      ::weft::detail::log_emit(level, component, __VA_ARGS__);                          \
  } while (0)
#define WEFT_LOG_DEBUG(component, ...) WEFT_LOG_AT(::weft::log_level::debug, component, __VA_ARGS__)
#define WEFT_LOG_INFO(component, ...) WEFT_LOG_AT(::weft::log_level::info, component, __VA_ARGS__)
#define WEFT_LOG_WARN(component, ...) WEFT_LOG_AT(::weft::log_level::warn, component, __VA_ARGS__)
#define WEFT_LOG_ERROR(component, ...) WEFT_LOG_AT(::weft::log_level::error, component, __VA_ARGS__)
