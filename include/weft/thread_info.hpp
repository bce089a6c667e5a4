// What a TCB tells the outside world: states, wait reasons and the snapshot
// record that a `ps` for green threads prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace weft {

using thread_id = std::uint64_t;

// The seven-state process model of the OS notes.
enum class thread_state : std::uint8_t {
  created,            // TCB exists, no stack yet: not admitted to a run queue
  ready,              // in a run queue, waiting for a worker
  running,            // on a worker right now
  blocked,            // parked on a wait queue or timer
  terminated,         // finished; the result waits for join
  suspended_ready,    // suspended while ready: will not run until resumed
  suspended_blocked,  // suspended while blocked: when the event comes it becomes suspended_ready
};

// Why a blocked thread waits; shown in every snapshot.
enum class wait_reason : std::uint8_t {
  none, join, join_any, sleep, mutex, condition, semaphore, latch, wait_group, event,
  channel_send, channel_recv, select, mailbox, pipe, io, blocking_call, suspended,
};

// Names a state ("ready", "suspended_blocked", ...).
const char* to_string(thread_state s) noexcept;
// Names a wait reason ("mutex", "sleep", ...).
const char* to_string(wait_reason r) noexcept;

// One thread as seen at snapshot time. Times are measured with the runtime's
// accounting clock (the TSC where the kernel trusts it, else the monotonic
// clock; docs/design.md), to well under 0.1 ms; a running thread's figures
// include its burst in progress. Every moment from spawn to completion is in
// exactly one of ready_time, blocked_time and run_time.
struct thread_info {
  thread_id id = 0;
  std::string name;
  thread_state state = thread_state::created;
  int priority = 0;
  // The priority the policy schedules it by now: priority plus the aging of
  // a queued thread under policy_kind::aging (its MLFQ level, once MLFQ lands).
  int effective_priority = 0;
  thread_id parent = 0;  // 0: the root (no green parent)
  std::vector<thread_id> children;
  // Arrival: when it was spawned.
  std::chrono::system_clock::time_point created_at;
  // When its first burst began; meaningful only if has_run.
  std::chrono::system_clock::time_point first_run_at;
  // When it ended; meaningful only in state terminated.
  std::chrono::system_clock::time_point completed_at;
  bool has_run = false;  // it has been on a worker at least once
  union {
    // Time the thread spent on a worker (running, not waiting), charged at
    // the end of each burst; not CPU time: a thread blocked in a kernel call
    // on its worker is charged as if it were computing.
    std::chrono::nanoseconds run_time{0};
    // The former name of run_time (the same storage), kept for old code.
    [[deprecated("thread_info::cpu_time is time on a worker, not CPU time: use run_time")]]
    std::chrono::nanoseconds cpu_time;
  };
  // Time spent ready (in a run queue, waiting for a worker): the notes' waiting time.
  std::chrono::nanoseconds ready_time{0};
  // Time spent blocked (parked on a wait queue, timer or I/O).
  std::chrono::nanoseconds blocked_time{0};
  // Response time: first run - arrival; 0 until has_run.
  std::chrono::nanoseconds response{0};
  // Turnaround time: completion - arrival; 0 until terminated.
  std::chrono::nanoseconds turnaround{0};
  // CPU bursts completed: runs ended by a yield (switched or not), a park or
  // the end; a thread that yielded k times and ended has k+1.
  std::uint64_t bursts = 0;
  // Length of the last completed burst.
  std::chrono::nanoseconds last_burst{0};
  // The next burst's predicted length: tau(n+1) = a*t(n) + (1-a)*tau(n) with
  // a = options::burst_alpha and tau(0) = options::initial_burst.
  std::chrono::nanoseconds predicted_burst{0};
  // Times a time slice forced it off its worker. Always 0 until preemption
  // lands (issue 11): weft is cooperative today.
  std::uint64_t preemptions = 0;
  std::uint64_t switches = 0;  // times it was switched out (lone yields excluded)
  wait_reason waiting_for = wait_reason::none;
  int worker = -1;  // worker it runs on or last ran on; -1 if it never ran
  bool pinned = false;
};

}  // namespace weft
