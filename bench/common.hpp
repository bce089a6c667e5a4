// What every weft_bench file needs besides Google Benchmark: readings of the
// process's memory and CPU time, a wall clock, and the stack Boost.Fiber
// twins get.
//
// Memory is read from /proc/self/status (VmRSS now, VmHWM the peak since the
// last reset_peak_rss()), so it counts what the kernel really backs with
// pages, not what was reserved. Kernel-side per-thread memory (a kernel
// thread's 16 KiB kernel stack, its task_struct) is not in RSS; the docs say
// so where pthreads are compared.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <malloc.h>

#include <boost/fiber/fixedsize_stack.hpp>

namespace weft_bench {

// A /proc/self/status field ("VmRSS", "VmHWM") in bytes; -1 if it cannot be read.
inline long long status_bytes(const char* field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long long kib = -1;
  std::size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      std::sscanf(line + n + 1, "%lld", &kib);
      break;
    }
  }
  std::fclose(f);
  return kib < 0 ? -1 : kib * 1024;
}

inline double to_mib(long long bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Lowers VmHWM to the current RSS (Linux >= 4.0, clear_refs value 5), so a
// benchmark's peak is its own and not an earlier one's; false if refused.
inline bool reset_peak_rss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

// CPU time of all the process's threads, in seconds.
inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Steady-clock nanoseconds.
inline std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Wall and CPU time of the measured work, summed over iterations.
struct timed {
  std::int64_t wall = 0;
  double cpu = 0;
  template <class F>
  void run(F&& f) {
    std::int64_t t0 = wall_ns();
    double c0 = process_cpu_seconds();
    f();
    cpu += process_cpu_seconds() - c0;
    wall += wall_ns() - t0;
  }
};

// Hands freed heap back to the kernel, so that an RSS baseline taken next
// does not hide new allocations inside memory an earlier benchmark freed.
inline void trim_heap() { malloc_trim(0); }

// weft's default green-thread stack (weft::options::stack_size).
inline constexpr std::size_t stack_size = 64 * 1024;

// Boost.Fiber's default allocator (malloc'd, unguarded) at weft's default
// size, so both runtimes give every thread the same stack.
inline boost::fibers::fixedsize_stack boost_stack() { return boost::fibers::fixedsize_stack(stack_size); }

}  // namespace weft_bench
