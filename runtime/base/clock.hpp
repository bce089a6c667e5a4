// Time sources. Deadlines are steady_clock nanoseconds; CPU accounting at
// every switch uses the cycle counter, which costs a few ns instead of the
// ~20 ns of clock_gettime, and is converted to ns only when somebody looks.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>

namespace weft::detail {

// Monotonic nanoseconds (steady_clock).
inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Raw cycle-counter ticks; only differences are meaningful.
inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__)
  return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
  std::uint64_t v;
  asm volatile("mrs %0, cntvct_el0" : "=r"(v));
  return v;
#else
  return static_cast<std::uint64_t>(now_ns());
#endif
}

// The kernel's tick clock (CLOCK_MONOTONIC_COARSE): one load-and-check of
// the vDSO page, ~5 ns here against ~10 ns for rdtsc in this VM, with the
// resolution of a scheduler tick (4 ms here). CPU accounting charges each
// slice the ticks that passed during it, which is how Unix kernels have long
// accounted CPU time: exact on average, coarse for a single short slice.
inline std::int64_t coarse_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Converts a tick difference to nanoseconds (calibrated once against steady_clock).
std::int64_t ticks_to_ns(std::uint64_t dt) noexcept;

}  // namespace weft::detail
