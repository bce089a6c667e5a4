// The log hook: the threshold, WEFT_LOG, and the handler (the public
// contract is in include/weft/log.hpp).
//
// The threshold is one atomic int read relaxed at every call site
// (log_may_pass): nothing orders other memory by it, and a thread that sees
// an older threshold for a moment logs or drops one record more or less.
// It starts at log_threshold_unread, below every level, so the first record
// of the process takes log_emit's slow path, which reads WEFT_LOG once (a
// function-local static) and swaps it in with a CAS, so a set_log_level()
// that came first is never overwritten.
//
// The handler is a std::function in a slot guarded by a reader-writer lock:
//   - a call holds the read side for the duration of the call, so calls on
//     several threads run in parallel;
//   - set_log_handler takes the write side, so it returns only once no call
//     of the previous handler is running: the caller may then destroy what
//     that handler captured (its logger, its file);
//   - the lock prefers writers, so a swap is not starved by threads that
//     log back to back;
//   - a record raised on a thread that is already inside the handler (the
//     handler called into weft, which logged) goes to the default handler:
//     no re-entry, no recursive read lock (which a waiting writer would
//     deadlock), no unbounded recursion. The flag is the kernel thread's:
//     the handler may not switch green threads (it may not block on weft),
//     so the green thread that set it is the one that reads it.
// Programs that never install a handler never touch the lock: g_custom
// says the slot is empty, and records go straight to the default handler.
//
// Rejected: a plain mutex held across the call (one slow handler would
// serialise every logging thread); an atomic shared_ptr to the handler,
// taken by each call without a lock (cheaper, but set_log_handler could not
// tell when the previous handler's last call has ended, so destroying the
// logger it writes to right after the swap would be a use-after-free); a
// function pointer + void* (the same problem for the void*, and no state
// without it).
#include "base/log.hpp"

#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#include "weft/error.hpp"

namespace weft {
namespace detail {

std::atomic<int> g_log_threshold{log_threshold_unread};

namespace {

constexpr int default_threshold = static_cast<int>(log_level::warn);
constexpr const char* accepted_levels = "debug, info, warn, error, fatal, off";

// The handler and its lock. Allocated once and never freed: a worker of a
// runtime that outlives main() may still log while static destructors run.
struct handler_slot {
  pthread_rwlock_t rw;
  log_handler fn;  // empty: the default handler

  handler_slot() noexcept {
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
#ifdef __GLIBC__
    // glibc prefers readers by default; a writer could then wait for as
    // long as records keep overlapping. NONRECURSIVE: no thread takes the
    // read side twice (tl_in_handler sees to that).
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    pthread_rwlock_init(&rw, &a);
    pthread_rwlockattr_destroy(&a);
  }
};

handler_slot& slot() noexcept {
  static handler_slot* s = new handler_slot;
  return *s;
}

// True while a user handler installed (set before the slot changes hands,
// read before the lock: a stale false sends one record to the default).
std::atomic<bool> g_custom{false};
// True while this kernel thread runs the handler.
thread_local bool tl_in_handler = false;

// WEFT_LOG, read once per process.
struct env_setting {
  int threshold = default_threshold;
  bool bad = false;
  char bad_value[48] = {};  // printable copy of the rejected value, for the warning
};

env_setting read_weft_log() noexcept {
  env_setting e;
  const char* v = std::getenv("WEFT_LOG");
  if (!v || !*v) return e;
  if (auto l = parse_log_level(v)) {
    e.threshold = static_cast<int>(*l);
    return e;
  }
  e.bad = true;
  std::size_t n = 0, cap = sizeof e.bad_value - 4;
  for (const char* p = v; *p && n < cap; ++p)
    e.bad_value[n++] = std::isprint(static_cast<unsigned char>(*p)) ? *p : '?';
  if (std::strlen(v) > cap) std::memcpy(e.bad_value + n, "...", 4);
  return e;
}

std::atomic<bool> g_env_warned{false};

// The threshold, reading WEFT_LOG first if nobody has yet.
int read_threshold() noexcept {
  static const env_setting env = read_weft_log();
  int expected = log_threshold_unread;
  g_log_threshold.compare_exchange_strong(expected, env.threshold, std::memory_order_relaxed);
  if (env.bad && !g_env_warned.exchange(true, std::memory_order_relaxed))
    log_emit(log_level::warn, "log", "WEFT_LOG=%s is not a log level (accepted: %s); using warn", env.bad_value,
             accepted_levels);
  return g_log_threshold.load(std::memory_order_relaxed);
}

bool is_default(const log_handler& h) noexcept {
  if (!h) return true;
  auto* p = h.target<void (*)(const log_record&) noexcept>();
  return p && *p == &default_log_handler;
}

// Calls fn, which is the user's; false if it threw (note_on_throw: then
// also write the record and a note to stderr).
bool call_handler(const log_handler& fn, const log_record& r, bool note_on_throw) noexcept {
  char what[256] = "an exception not derived from std::exception";
  bool threw = false;
  tl_in_handler = true;
  try {
    fn(r);
  } catch (const std::exception& e) {
    std::snprintf(what, sizeof what, "%s", e.what());
    threw = true;
  } catch (...) {
    threw = true;
  }
  tl_in_handler = false;
  if (threw && note_on_throw) {
    default_log_handler(r);
    char note[384];
    std::snprintf(note, sizeof note, "the log handler threw (%s); the line above went to stderr instead", what);
    default_log_handler(log_record{log_level::error, "log", note});
  }
  return !threw;
}

void deliver(const log_record& r) noexcept {
  if (tl_in_handler || !g_custom.load(std::memory_order_acquire)) {
    default_log_handler(r);
    return;
  }
  handler_slot& s = slot();
  pthread_rwlock_rdlock(&s.rw);
  if (s.fn) call_handler(s.fn, r, true);
  else default_log_handler(r);
  pthread_rwlock_unlock(&s.rw);
}

}  // namespace

void log_emit(log_level l, const char* component, const char* fmt, ...) noexcept {
  int t = g_log_threshold.load(std::memory_order_relaxed);
  if (t == log_threshold_unread) t = read_threshold();
  if (static_cast<int>(l) < t || static_cast<int>(l) >= static_cast<int>(log_level::off)) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) n = std::snprintf(msg, sizeof msg, "(unformattable message: %s)", fmt);
  std::size_t len = static_cast<std::size_t>(n);
  if (len >= sizeof msg) {  // truncated: say so
    len = sizeof msg - 1;
    std::memcpy(msg + len - 3, "...", 3);
  }
  deliver(log_record{l, component, std::string_view(msg, len)});
}

void log_emit_text(log_level l, const char* component, std::string_view text) noexcept {
  int t = g_log_threshold.load(std::memory_order_relaxed);
  if (t == log_threshold_unread) t = read_threshold();
  if (static_cast<int>(l) < t || static_cast<int>(l) >= static_cast<int>(log_level::off)) return;
  deliver(log_record{l, component, text});
}

std::optional<log_level> parse_log_level(std::string_view s) noexcept {
  static constexpr std::pair<std::string_view, log_level> names[] = {
      {"debug", log_level::debug}, {"info", log_level::info},   {"warn", log_level::warn},
      {"error", log_level::error}, {"fatal", log_level::fatal}, {"off", log_level::off},
  };
  for (const auto& [name, level] : names) {
    if (name.size() != s.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < s.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(s[i])) == name[i];
    if (same) return level;
  }
  return std::nullopt;
}

bool log_offer_fatal(std::string_view component, std::string_view message) noexcept {
  // Only a user's handler: the default one would print what the fatal path
  // has already written. Unread threshold: WEFT_LOG is not read here (no
  // getenv on the fatal path), the default (warn) lets fatal through.
  if (!g_custom.load(std::memory_order_acquire) || tl_in_handler) return false;
  if (g_log_threshold.load(std::memory_order_relaxed) >= static_cast<int>(log_level::off)) return false;
  handler_slot& s = slot();
  if (pthread_rwlock_tryrdlock(&s.rw) != 0) return false;  // a swap holds or awaits it: never wait here
  bool called = false;
  if (s.fn) called = call_handler(s.fn, log_record{log_level::fatal, component, message}, false);
  pthread_rwlock_unlock(&s.rw);
  return called;
}

}  // namespace detail

const char* to_string(log_level l) noexcept {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::fatal: return "fatal";
    case log_level::off: return "off";
  }
  return "?";
}

void default_log_handler(const log_record& r) noexcept {
  // One writev, so lines from two threads do not interleave (stderr is
  // unbuffered; a pipe keeps writes up to PIPE_BUF whole).
  static const char prefix[] = "weft: ";
  iovec parts[3] = {{const_cast<char*>(prefix), sizeof prefix - 1},
                    {const_cast<char*>(r.message.data()), r.message.size()},
                    {const_cast<char*>("\n"), 1}};
  ssize_t w = ::writev(2, parts, 3);
  (void)w;
}

log_handler set_log_handler(log_handler h) {
  using namespace detail;
  if (tl_in_handler)
    throw error(errc::deadlock, "weft::set_log_handler: called from inside the log handler, whose calls it waits for");
  if (is_default(h)) h = nullptr;
  handler_slot& s = slot();
  log_handler prev;
  pthread_rwlock_wrlock(&s.rw);
  prev = std::move(s.fn);
  s.fn = std::move(h);
  g_custom.store(static_cast<bool>(s.fn), std::memory_order_release);
  pthread_rwlock_unlock(&s.rw);
  if (!prev) prev = &default_log_handler;
  return prev;
}

void set_log_level(log_level l) {
  int v = static_cast<int>(l);
  if (v < static_cast<int>(log_level::debug) || v > static_cast<int>(log_level::off))
    throw error(errc::invalid_argument, "weft::set_log_level: " + std::to_string(v) + " is not a log_level");
  detail::read_threshold();  // WEFT_LOG first (and its warning if bad), so it cannot overwrite this later
  detail::g_log_threshold.store(v, std::memory_order_relaxed);
}

log_level current_log_level() noexcept {
  int t = detail::g_log_threshold.load(std::memory_order_relaxed);
  if (t == detail::log_threshold_unread) t = detail::read_threshold();
  return static_cast<log_level>(t);
}

}  // namespace weft
