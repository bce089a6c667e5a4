#include "base/fatal.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <unistd.h>

#include "base/log.hpp"

namespace weft::detail {
namespace {

std::atomic<fatal_context_fn> g_context{nullptr};

// The path from the repository's top (runtime/...), not the build machine's.
const char* short_path(const char* file) noexcept {
  const char* p = std::strstr(file, "runtime/");
  return p ? p : file;
}

}  // namespace

void set_fatal_context(fatal_context_fn fn) noexcept { g_context.store(fn, std::memory_order_release); }

void fatal_at(const char* file, int line, const char* fmt, ...) noexcept {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char who[256];
  fatal_context_fn ctx = g_context.load(std::memory_order_acquire);
  if (!ctx || !ctx(who, sizeof who)) std::snprintf(who, sizeof who, "kernel thread %ld", static_cast<long>(gettid()));
  // One write, so reports from two threads do not interleave mid-line.
  // stderr first, whatever the log threshold and handler: a fatal report
  // must never be lost to a handler that throws, drops it or hangs.
  char out[1280];
  int n = std::snprintf(out, sizeof out, "weft: fatal: %s\n  in %s, at %s:%d\n", msg, who, short_path(file), line);
  if (n > 0) {
    ssize_t r = write(2, out, static_cast<std::size_t>(n) < sizeof out ? static_cast<std::size_t>(n) : sizeof out - 1);
    (void)r;
  }
  // Then the user's handler, if one is installed, so the report also lands
  // in the program's own log. log_offer_fatal never waits for a lock and
  // skips a thread already inside the handler; stack buffers only here.
  n = std::snprintf(out, sizeof out, "%s (in %s, at %s:%d)", msg, who, short_path(file), line);
  if (n > 0)
    log_offer_fatal("fatal", std::string_view(out, static_cast<std::size_t>(n) < sizeof out ? static_cast<std::size_t>(n)
                                                                                       : sizeof out - 1));
  std::abort();
}

}  // namespace weft::detail
