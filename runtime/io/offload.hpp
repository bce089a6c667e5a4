// Offload-pool calls the caller can give up on: regular-file I/O on the
// epoll engine (offload_pool.cpp has the pool itself).
//
// A pool thread cannot be made to abandon a system call it has started (a
// disk read sleeps uninterruptibly, and weft installs no signal handler to
// interrupt the rest), and the caller's buffer must never be written after
// it returned. So giving up is only possible before a thread starts the job:
//   - while the caller is held back (the queue is full) or the job is
//     queued, a deadline or a stop (cancel/close) withdraws it: the caller
//     returns -ETIMEDOUT / -ECANCELED and the job never runs;
//   - once a thread has started it, the caller waits for it to finish,
//     however late, and gets its result.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/io/blocking.hpp"

namespace weft::detail {

// "Give up": the handle's cancel generation moved past the one the call saw.
struct offload_stop {
  const std::atomic<std::uint32_t>* gen = nullptr;  // null: only the deadline ends the wait
  std::uint32_t seen = 0;
  bool stopped() const noexcept { return gen && gen->load(std::memory_order_acquire) != seen; }
};

// Runs job on the pool; the caller parks on `home`, which a canceller wakes
// (wake_all) after moving stop's generation. Returns 0 once the job ran, or
// -ETIMEDOUT / -ECANCELED when it was withdrawn before any thread took it.
// Throws weft::error(resource_exhausted) if no offload thread can start.
int offload_until(blocking_job& job, wait_queue& home, std::int64_t deadline_ns, offload_stop stop);

// Wakes callers held back by a full queue so they can notice a stop.
void offload_wake_held_back() noexcept;

}  // namespace weft::detail
