#include "base/clock.hpp"

#include <atomic>

namespace weft::detail {
namespace {

// The first call samples (ticks, ns); later calls measure the rate over the
// time elapsed since, which grows more exact the longer the process runs.
struct calibration {
  std::uint64_t t0 = ticks();
  std::int64_t n0 = now_ns();
};

}  // namespace

std::int64_t ticks_to_ns(std::uint64_t dt) noexcept {
#if defined(__aarch64__)
  std::uint64_t freq;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(freq));
  return static_cast<std::int64_t>(static_cast<double>(dt) * 1e9 / static_cast<double>(freq));
#elif defined(__x86_64__)
  static calibration c;
  std::uint64_t t1 = ticks();
  std::int64_t n1 = now_ns();
  if (t1 - c.t0 < 1000000 || n1 - c.n0 < 1000000) {
    // Too early for a rate: measure one over 2 ms, once.
    static const double rate = [] {
      std::uint64_t a = ticks();
      std::int64_t na = now_ns();
      while (now_ns() - na < 2000000) {
      }
      return static_cast<double>(now_ns() - na) / static_cast<double>(ticks() - a);
    }();
    return static_cast<std::int64_t>(static_cast<double>(dt) * rate);
  }
  double rate = static_cast<double>(n1 - c.n0) / static_cast<double>(t1 - c.t0);
  return static_cast<std::int64_t>(static_cast<double>(dt) * rate);
#else
  return static_cast<std::int64_t>(dt);
#endif
}

}  // namespace weft::detail
