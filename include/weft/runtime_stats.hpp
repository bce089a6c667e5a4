// Runtime-wide scheduling metrics: what weft::stats() returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace weft {

// One worker's share, since the runtime started.
struct worker_stats {
  unsigned index = 0;
  // Time green threads ran on this worker (the sum of their bursts).
  std::chrono::nanoseconds busy{0};
  // busy / uptime: 0..1 (the fraction of wall time it ran green threads).
  double utilisation = 0;
  std::uint64_t switches = 0;   // green threads switched out on this worker
  std::uint64_t completed = 0;  // green threads that ended on this worker
};

// The whole runtime, since it started.
struct runtime_stats {
  std::chrono::nanoseconds uptime{0};
  std::vector<worker_stats> workers;  // options.workers, then the spares hand-offs started
  std::uint64_t switches = 0;   // sum over the workers
  std::uint64_t completed = 0;  // green threads that ended
  double completed_per_second = 0;  // completed / uptime
  double utilisation = 0;  // mean of the workers' utilisation
  // Time slices that forced a thread off its worker; 0 until preemption lands.
  std::uint64_t preemptions = 0;
  // Workers stuck in a blocking call weft does not own whose ready threads
  // went to a spare worker (options::handoff_threshold).
  std::uint64_t handoffs = 0;
};

}  // namespace weft
