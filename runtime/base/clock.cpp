// The tick source's choice and calibration; see clock.hpp.
#include "base/clock.hpp"

#include <cstdio>
#include <cstring>
#include <mutex>

namespace weft::detail {

std::atomic<bool> g_hw_ticks{false};

namespace {

struct calibration {
  const char* source = "clock_monotonic";
  std::uint64_t t0 = 0;  // (ticks, ns) sampled at init
  std::int64_t n0 = 0;
  double rate0 = 1.0;    // ns per tick measured over the first ~1 ms
};

calibration g_cal;
std::once_flag g_once;

#if defined(__x86_64__)
// True if the file's first line is `word` (whole_line), or if the first
// "flags" line of /proc/cpuinfo holds `word` as a whole word.
bool file_has(const char* path, const char* word, bool whole_line) {
  std::FILE* f = std::fopen(path, "r");
  if (!f) return false;
  char line[4096];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, f)) {
    if (whole_line) {
      line[std::strcspn(line, "\n")] = 0;
      found = std::strcmp(line, word) == 0;
      break;
    }
    if (std::strncmp(line, "flags", 5) != 0) continue;
    // Whole words only: "constant_tsc" must not match inside another flag.
    std::size_t n = std::strlen(word);
    for (const char* p = std::strstr(line, word); p && !found; p = std::strstr(p + 1, word))
      found = (p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n' || p[n] == 0);
    break;  // the first CPU's flags stand for all
  }
  std::fclose(f);
  return found;
}

bool tsc_trusted() {
  if (file_has("/sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc", true)) return true;
  // Not the clocksource (a VM's kvm-clock, say): a TSC that ticks at one
  // rate in every P- and C-state is still a clock for differences.
  return file_has("/proc/cpuinfo", "constant_tsc", false) && file_has("/proc/cpuinfo", "nonstop_tsc", false);
}
#endif

void init_once() {
#if defined(__x86_64__)
  if (tsc_trusted()) {
    g_cal.source = "tsc";
    // 1 ms against steady_clock: its ~30 ns read jitter is 3e-5 of that,
    // far inside the 0.1 ms asked of a burst. ns_per_tick() refines it.
    std::uint64_t a = __builtin_ia32_rdtsc();
    std::int64_t na = now_ns();
    std::int64_t nb;
    while ((nb = now_ns()) - na < 1000000) {
    }
    std::uint64_t b = __builtin_ia32_rdtsc();
    if (b > a) {
      g_cal.rate0 = static_cast<double>(nb - na) / static_cast<double>(b - a);
      g_cal.t0 = b;
      g_cal.n0 = nb;
      g_hw_ticks.store(true, std::memory_order_release);
    }
  }
#elif defined(__aarch64__)
  std::uint64_t freq;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(freq));
  if (freq != 0) {
    g_cal.source = "cntvct";
    g_cal.rate0 = 1e9 / static_cast<double>(freq);
    g_hw_ticks.store(true, std::memory_order_release);
  }
#endif
  if (!g_hw_ticks.load(std::memory_order_relaxed)) g_cal.rate0 = 1.0;
}

}  // namespace

void tick_clock_init() noexcept { std::call_once(g_once, init_once); }

const char* tick_source() noexcept { return g_cal.source; }

double ns_per_tick() noexcept {
#if defined(__x86_64__)
  if (!g_hw_ticks.load(std::memory_order_relaxed)) return 1.0;
  // After a second the rate over the whole run is the better one (its error
  // shrinks with the span); before, the 1 ms calibration.
  std::int64_t dn = now_ns() - g_cal.n0;
  std::uint64_t t = ticks();
  if (dn < 1000000000 || t <= g_cal.t0) return g_cal.rate0;
  return static_cast<double>(dn) / static_cast<double>(t - g_cal.t0);
#else
  return g_cal.rate0;  // cntfrq is exact; steady_clock ticks are ns
#endif
}

}  // namespace weft::detail
