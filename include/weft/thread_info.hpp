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

// One thread as seen at snapshot time.
struct thread_info {
  thread_id id = 0;
  std::string name;
  thread_state state = thread_state::created;
  int priority = 0;
  thread_id parent = 0;  // 0: the root (no green parent)
  std::vector<thread_id> children;
  std::chrono::system_clock::time_point created_at;
  union {
    // Time the thread spent on a worker (running, not waiting), charged at
    // its switches with the resolution of the kernel's tick clock (4 ms on
    // many systems); not CPU time: a thread blocked in a kernel call on its
    // worker is charged as if it were computing.
    std::chrono::nanoseconds run_time{0};
    // The former name of run_time (the same storage), kept for old code.
    [[deprecated("thread_info::cpu_time is time on a worker, not CPU time: use run_time")]]
    std::chrono::nanoseconds cpu_time;
  };
  std::uint64_t switches = 0;
  wait_reason waiting_for = wait_reason::none;
  int worker = -1;  // worker it runs on or last ran on; -1 if it never ran
  bool pinned = false;
};

}  // namespace weft
