#include "base/futex.hpp"

#include <climits>
#include <ctime>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace weft::detail {

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::int64_t deadline_ns) noexcept {
  timespec ts{};
  timespec* tsp = nullptr;
  int op = FUTEX_WAIT_PRIVATE;
  if (deadline_ns >= 0) {
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, which is
    // what steady_clock reads on Linux: no relative-time drift on retries.
    ts.tv_sec = deadline_ns / 1000000000;
    ts.tv_nsec = deadline_ns % 1000000000;
    tsp = &ts;
    op = FUTEX_WAIT_BITSET_PRIVATE;
  }
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, expected, tsp, nullptr, FUTEX_BITSET_MATCH_ANY);
}

void futex_wake(std::atomic<std::uint32_t>& word, int n) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

}  // namespace weft::detail
