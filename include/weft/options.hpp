// Runtime options: how many workers, how big a default stack, which policy.
#pragma once

#include <chrono>
#include <csignal>
#include <cstddef>

namespace weft {

// Which ready thread a worker runs next.
// The policies are non-preemptive today: a thread runs until it yields,
// blocks or ends (docs/api.md, "Scheduling policies").
enum class policy_kind {
  fifo,      // first come, first served per worker, work stealing between workers
  priority,  // highest static priority first (spawn_attrs::priority); FIFO among equals
  aging,     // priority, plus one level per aging_step waited, so none starves
  fcfs,      // the OS notes' name for fifo: the same queue
  sjf,       // shortest predicted next CPU burst first (thread_info::predicted_burst)
  hrrn,      // highest response ratio (waiting + predicted burst) / predicted burst first
};

// Where workers sleep and socket/file calls wait (see docs/io.md).
enum class io_engine {
  automatic,  // io_uring when the kernel allows it, else epoll; WEFT_IO_ENGINE=io_uring|epoll overrides
  io_uring,   // io_uring or a weft::error at start-up
  epoll,      // epoll, with regular-file I/O on the offload pool
};

struct options {
  // Kernel worker threads; 0 means one per online CPU.
  unsigned workers = 0;
  // Default stack size of a green thread (rounded up to whole pages).
  std::size_t stack_size = 64 * 1024;
  policy_kind policy = policy_kind::fifo;
  // Aging policy: a ready thread gains one priority level per aging_step waited.
  std::chrono::microseconds aging_step{2000};
  // Most stacks that get a PROT_NONE guard page; 0 means derive the number from
  // vm.max_map_count (a guarded stack costs two kernel mappings). Stacks beyond
  // the budget are checked with a canary instead.
  std::size_t max_guarded_stacks = 0;
  // I/O engine of every worker.
  io_engine io = io_engine::automatic;
  // Weight a of the last CPU burst in each thread's predicted burst (the
  // exponential average tau(n+1) = a*t(n) + (1-a)*tau(n), thread_info::
  // predicted_burst): 0 keeps initial_burst for ever, 1 predicts the last burst.
  // Must be in 0..1.
  double burst_alpha = 0.5;
  // tau(0): the prediction before a thread's first burst. Must not be negative.
  std::chrono::microseconds initial_burst{1000};
  // Stall report: a green thread that runs longer than this without a
  // switch (a loop that never calls weft, a blocking call weft does not own)
  // is reported once, as a warning through the log hook (weft/log.hpp), with
  // its id, name and where it is: a backtrace taken in the act, or the system
  // call it sleeps in. Zero (the default) turns the monitor off; the examples
  // use 100 ms. Must not be negative.
  std::chrono::milliseconds stall_threshold{0};
  // The signal that asks a stalled, computing worker for its backtrace (weft
  // installs a handler for it while a runtime with a stall threshold runs, and
  // passes signals it did not send to the handler it replaced). Must be
  // catchable and not a fault signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
  // SIGABRT).
  int stall_signal = SIGURG;
  // Hand-off: a worker whose green thread has sat longer than this in a
  // blocking call weft does not own (read() on a pipe, sleep(), a std::mutex
  // held elsewhere, a third-party client library) gives its ready threads to
  // a spare worker, so they wait about this long, not the whole call (Go's
  // sysmon does the same). Its timers, I/O and pinned threads still wait for
  // the call. Zero turns it off. Must not be negative.
  std::chrono::milliseconds handoff_threshold{10};
  // Most spare workers the hand-off starts (kernel threads with their own I/O
  // engine, started when first needed and kept for the next hand-off). At
  // most 1024.
  unsigned max_spare_workers = 8;
  // A signal that makes weft print every green thread to stderr (weft::dump,
  // docs/debugging.md): 0 (the default) for none; the examples use SIGQUIT
  // (Ctrl-\ in a terminal). weft replaces the signal's action while the runtime runs and
  // restores it after. Must be 0 or catchable and not a fault signal, and
  // differ from stall_signal when the monitor runs.
  int dump_signal = 0;
};

}  // namespace weft
