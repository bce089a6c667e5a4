// Layer 3: the thread control block.
//
// Ownership by state (who may touch which fields):
//   created           the spawner, until tcb_start admits it.
//   ready             the run queue holding it; a worker that dequeues it
//                     claims it with a CAS ready -> running.
//   running           the worker running it. Its own state changes (yield,
//                     park, exit) are published by the post-switch action,
//                     after its registers are saved, so nobody can resume a
//                     thread whose context is still being written.
//   blocked           the wait queue or timer holding its waiter; whoever
//                     wins the waiter's status CAS makes it ready.
//   suspended_*       nobody runs it; resume() moves it back.
//   terminated        only its join record (task result, joiners) is live.
// The state word packs the state with two flags: off_queue (a suspended_ready
// thread that no run queue holds, so resume() must enqueue it) and
// suspend_pending (suspend() was asked while it ran).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "context/context.hpp"
#include "sanitizer.hpp"
#include "stack_pool.hpp"
#include "weft/detail/task.hpp"
#include "weft/detail/wait_queue.hpp"
#include "weft/thread_info.hpp"

namespace weft::detail {

class worker;
class scheduler;

enum state_bits : std::uint32_t {
  state_mask = 0xff,
  off_queue = 1u << 8,
  suspend_pending = 1u << 9,
};

constexpr std::uint32_t st(thread_state s) noexcept { return static_cast<std::uint32_t>(s); }
inline thread_state state_of(std::uint32_t word) noexcept { return static_cast<thread_state>(word & state_mask); }

struct tcb {
  context ctx;
  std::atomic<std::uint32_t> state{st(thread_state::created)};
  bool pinned = false;
  bool detached = false;
  bool reaped = false;  // joined, detached or join_any'ed: no longer a child to wait for (family lock)
  std::atomic<wait_reason> reason{wait_reason::none};
  std::size_t alloc_align = 0;
  thread_id id = 0;
  scheduler* sched = nullptr;
  std::atomic<worker*> home{nullptr};  // worker it runs on / last ran on
  tcb* next = nullptr;                 // link in intrusive run queues
  stack stk;
  std::size_t stack_request = 0;
  int priority = 0;
  std::uint64_t enqueued_at = 0;  // policy bookkeeping (aging)

  // Family (guarded by scheduler::family_lock_). Every TCB stays linked
  // under its parent (or the virtual root) until it is freed, so the tree is
  // also the registry that snapshots walk.
  tcb* parent = nullptr;
  tcb* first_child = nullptr;
  tcb* sib_prev = nullptr;
  tcb* sib_next = nullptr;

  // Accounting. Written by the running worker, read by snapshots.
  std::uint64_t created_ticks = 0;  // clock.hpp ticks(); converted at snapshot time
  std::atomic<std::uint64_t> cpu_ticks{0};
  std::atomic<std::uint64_t> switches{0};

  std::string name;
  std::atomic<std::uint32_t> refs{2};  // the handle and the running thread
  wait_queue joiners;
  task_base* task = nullptr;
  std::vector<void*>* locals = nullptr;  // green-thread-local storage slots

  san_state san;

  thread_state load_state() const noexcept { return state_of(state.load(std::memory_order_acquire)); }
};

// The allocation holding a TCB and, right after it, its task.
std::size_t tcb_task_offset(std::size_t task_align) noexcept;

// Runs the destructors of a thread's green-thread-local values (local.cpp).
void destroy_locals(tcb* t) noexcept;

}  // namespace weft::detail
