// The thread dump; see dump.hpp for how a suspended thread's stack is taken.
#include "core/dump.hpp"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstring>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "context/saved_regs.hpp"
#include "core/runtime_impl.hpp"
#include "core/tcb.hpp"
#include "core/unwind.hpp"
#include "core/worker.hpp"

namespace weft::detail {
namespace {

constexpr int max_frames = 64;
constexpr int copy_attempts = 4;
// A deeper stack is cut: the innermost frames are the ones that matter.
constexpr std::size_t max_copy = std::size_t{1} << 20;

// The copy reads a stack its owner may be writing (it is checked afterwards)
// and that ASan has poisoned between frames: neither sanitizer may see it,
// and the compiler may not turn it into a memcpy they intercept.
__attribute__((no_sanitize("address", "thread"))) void copy_words(const void* from, void* to, std::size_t n) {
  auto* s = static_cast<const volatile std::uint64_t*>(from);
  auto* d = static_cast<std::uint64_t*>(to);
  for (std::size_t i = 0; i < n / 8; ++i) d[i] = s[i];
}

bool suspended(thread_state s) {
  return s == thread_state::ready || s == thread_state::blocked || s == thread_state::suspended_ready ||
         s == thread_state::suspended_blocked;
}

// What the dump learns about one thread under the family lock.
struct capture {
  std::uint32_t state_word = 0;
  bool has_stack = false;  // stats and a saved context exist
  bool busy = false;       // kept running during every copy attempt
  std::uint64_t saved_sp = 0;
  std::uint64_t since = 0;
  std::uint64_t taken_at = 0;  // ticks() at the copy: "blocked for" ends here, not at printing
  const void* wait_on = nullptr;
  stack_copy stack;
};

void take(runtime_impl& rt, tcb* t, capture& c) {
  for (int attempt = 0; attempt < copy_attempts; ++attempt) {
    bool stable = false;
    rt.with_family_lock([&] {
      std::uint32_t s1 = t->state.load(std::memory_order_acquire);
      c.state_word = s1;
      run_stats* r = t->stats.load(std::memory_order_acquire);
      if (!suspended(state_of(s1)) || !r || !t->stk_lo) {
        stable = true;  // nothing to copy: running, not started or ended
        c.has_stack = false;
        return;
      }
      std::uint64_t sw1 = r->switches.load(std::memory_order_acquire);
      auto sp = reinterpret_cast<std::uint64_t>(t->ctx.sp);
      auto lo = reinterpret_cast<std::uint64_t>(t->stk_lo);
      std::uint64_t hi = lo + t->stk_size;
      if (sp < lo || sp >= hi) return;  // mid-switch: try again
      std::uint64_t from = std::max(sp, hi > max_copy ? hi - max_copy : 0);
      from &= ~std::uint64_t{7};
      c.stack.lo = from;
      c.stack.bytes.resize(hi - from);
      copy_words(reinterpret_cast<const void*>(from), c.stack.bytes.data(), hi - from);
      c.since = r->since.load(std::memory_order_relaxed);
      c.taken_at = ticks();
      c.wait_on = r->wait_on.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      std::uint32_t s2 = t->state.load(std::memory_order_acquire);
      std::uint64_t sw2 = r->switches.load(std::memory_order_acquire);
      if (s1 == s2 && sw1 == sw2 && reinterpret_cast<std::uint64_t>(t->ctx.sp) == sp) {
        c.saved_sp = sp;
        c.has_stack = true;
        stable = true;
      }
    });
    if (stable) return;
  }
  c.busy = true;
  c.has_stack = false;
}

bool read_copy(void* cookie, std::uint64_t addr, std::uint64_t& out) {
  const auto& s = *static_cast<const stack_copy*>(cookie);
  if (addr < s.lo || addr - s.lo + 8 > s.bytes.size()) return false;
  std::memcpy(&out, s.bytes.data() + (addr - s.lo), 8);
  return true;
}

std::string fmt_duration(std::int64_t ns) {
  char b[64];
  if (ns < 1'000'000) std::snprintf(b, sizeof b, "%.1f us", static_cast<double>(ns) / 1e3);
  else if (ns < 10'000'000'000) std::snprintf(b, sizeof b, "%.1f ms", static_cast<double>(ns) / 1e6);
  else std::snprintf(b, sizeof b, "%.1f s", static_cast<double>(ns) / 1e9);
  return b;
}

void print_thread(std::FILE* out, const thread_info& i, const capture& c, symbol_cache& names) {
  std::string head = "green thread " + std::to_string(i.id);
  if (!i.name.empty()) head += " '" + i.name + "'";
  head += i.parent ? " (parent " + std::to_string(i.parent) + ")" : " (parent: root)";
  head += ": ";
  head += to_string(i.state);
  if (i.state == thread_state::running) {
    head += " on worker " + std::to_string(i.worker);
  } else if (i.state == thread_state::blocked || i.state == thread_state::suspended_blocked) {
    head += ", waiting for ";
    head += to_string(i.waiting_for);
    if (c.wait_on) {
      char a[48];
      std::snprintf(a, sizeof a, " (wait queue %p)", c.wait_on);
      head += a;
    }
    if (c.has_stack && c.taken_at > c.since) head += " for " + fmt_duration(ticks_to_ns(c.taken_at - c.since));
  }
  if (i.worker >= 0 && i.state != thread_state::running) head += ", last on worker " + std::to_string(i.worker);
  std::fprintf(out, "%s\n", head.c_str());

  if (i.state == thread_state::running) {
    std::fprintf(out, "    (running: its stack is in use on worker %d)\n", i.worker);
    return;
  }
  if (c.busy) {
    std::fprintf(out, "    (no backtrace: the thread kept running while the dump copied its stack)\n");
    return;
  }
  if (!c.has_stack) {
    // Said from what the copy saw: the headline's state was read a moment later.
    thread_state seen = state_of(c.state_word);
    if (seen == thread_state::running) std::fprintf(out, "    (running when its stack was looked at)\n");
    else if (seen != thread_state::terminated) std::fprintf(out, "    (not started yet: no stack)\n");
    return;
  }
  const char* missing = nullptr;
  if (!unwinder_available(&missing)) {
    std::fprintf(out, "    (%s)\n", missing);
    return;
  }
  saved_regs regs;
  if (!decode_saved_context(c.saved_sp, &read_copy, const_cast<stack_copy*>(&c.stack), regs)) {
    std::fprintf(out, "    (stack unavailable: this build cannot read the %s backend's saved frame)\n",
                 context_backend_name());
    return;
  }
  std::string why;
  std::vector<std::string> frames = unwind_suspended(regs, c.stack, max_frames, names, why);
  if (frames.empty()) std::fprintf(out, "    (no backtrace: %s)\n", why.c_str());
  for (const std::string& f : frames) std::fprintf(out, "    %s\n", f.c_str());
}

}  // namespace

void dump_threads(runtime_impl& rt, std::FILE* out) {
  std::vector<tcb*> all = rt.ref_all();
  struct releaser {
    runtime_impl& rt;
    std::vector<tcb*>& all;
    ~releaser() {
      for (tcb* t : all) rt.release(t);
    }
  } guard{rt, all};
  std::sort(all.begin(), all.end(), [](const tcb* a, const tcb* b) { return a->id < b->id; });
  std::fprintf(out, "weft: dump of %zu green threads (%u workers, %s context switch)\n", all.size(),
               rt.worker_count(), context_backend_name());
  symbol_cache_ptr names = make_symbol_cache();
  for (tcb* t : all) {
    capture c;
    take(rt, t, c);
    thread_info i = rt.info_of(t);
    print_thread(out, i, c, *names);
  }
  // A reader of a dump written by another thread (options::dump_signal) knows it is complete.
  std::fprintf(out, "weft: end of dump\n");
  std::fflush(out);
}

}  // namespace weft::detail
