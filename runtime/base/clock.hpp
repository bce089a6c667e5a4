// Time sources. Deadlines are steady_clock nanoseconds. Scheduler accounting
// (run, ready and blocked time, bursts) uses ticks(): a raw counter read
// once per switch and converted to nanoseconds only when somebody looks.
//
// Which counter (chosen once, by tick_clock_init(), before the first runtime
// starts; docs/design.md "The accounting clock" has the measurements):
//   x86-64   rdtsc, if the kernel trusts the TSC: it is the clocksource, or
//            the CPU says constant_tsc and nonstop_tsc (a VM's kvm-clock is
//            itself built on such a TSC). ~10 ns here, but it overlaps the
//            switch around it: BM_Yield_PingPong did not move.
//   aarch64  cntvct_el0, the architected timer (its rate is in cntfrq_el0).
//   else     clock_gettime(CLOCK_MONOTONIC): ~25 ns, precise.
// Rejected: CLOCK_MONOTONIC_COARSE, the clock used before. 4 ns, but it
// advances once per kernel tick (4 ms here), so any burst shorter than that
// read as 0 or 4 ms: the demo's `ps` showed 144000.0 and 40000.0 us.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace weft::detail {

// Monotonic nanoseconds (steady_clock).
inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// True once tick_clock_init() found a hardware counter it trusts; read by
// ticks() on every call (a relaxed load: one predicted branch on a
// read-mostly byte). Atomic because a foreign thread may read ticks() while
// the first runtime initializes the clock.
extern std::atomic<bool> g_hw_ticks;

// Raw accounting ticks; only differences are meaningful. Before
// tick_clock_init() (and where no counter is trusted) they are steady_clock ns.
inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__)
  if (__builtin_expect(g_hw_ticks.load(std::memory_order_relaxed), 1)) return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
  if (__builtin_expect(g_hw_ticks.load(std::memory_order_relaxed), 1)) {
    std::uint64_t v;
    asm volatile("mrs %0, cntvct_el0" : "=r"(v));
    return v;
  }
#endif
  return static_cast<std::uint64_t>(now_ns());
}

// Picks the tick source and calibrates it (once per process, ~1 ms on x86-64
// the first time; later calls return at once). Every runtime calls it first.
void tick_clock_init() noexcept;

// Name of the tick source in use: "tsc", "cntvct" or "clock_monotonic".
const char* tick_source() noexcept;

// Nanoseconds per tick, as well as it is known now: measured against
// steady_clock since tick_clock_init(), so it grows more exact as the process runs.
double ns_per_tick() noexcept;

// Converts a tick difference to nanoseconds.
inline std::int64_t ticks_to_ns(std::uint64_t dt) noexcept {
  return static_cast<std::int64_t>(static_cast<double>(dt) * ns_per_tick());
}

// Converts nanoseconds to ticks (options given in time units).
inline std::uint64_t ns_to_ticks(std::int64_t ns) noexcept {
  return ns <= 0 ? 0 : static_cast<std::uint64_t>(static_cast<double>(ns) / ns_per_tick());
}

}  // namespace weft::detail
