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

struct tcb_ext {
  std::string name;
  std::vector<void*> locals;
};

// Kept small on purpose: a parked thread costs one stack page plus this
// (and its task), and a million parked threads must fit in 4 GiB. Fields
// that only some threads need live elsewhere: joiners and join_any waiters
// in the scheduler's hashed wait queues, names on the heap only when given.
struct tcb {
  context ctx;
  std::atomic<std::uint32_t> state{st(thread_state::created)};
  std::atomic<std::uint32_t> refs{2};  // the handle and the running thread
  thread_id id = 0;
  // Worker it runs on or last ran on; set to the spawning worker at spawn
  // (worker 0 for spawns from outside), so it always leads to the scheduler.
  std::atomic<worker*> home{nullptr};
  tcb* next = nullptr;  // link in intrusive run queues
  // The stack, flattened (see stk()) so that the small fields below share
  // its padding. Before the first run stk_lo is null and stk_size holds the
  // requested size (0 = the default).
  char* stk_lo = nullptr;
  std::uint32_t stk_size = 0;
  std::uint32_t enqueued_at = 0;  // policy bookkeeping (aging), ~1 us units, wraps harmlessly
  bool stk_guarded = false;
  bool stk_from_slab = false;
  std::int8_t priority = 0;
  std::uint8_t align_shift = 0;  // log2 of the allocation's alignment
  bool pinned = false;
  bool detached = false;
  bool reaped = false;  // joined, detached or join_any'ed: no longer a child to wait for (family lock)
  std::atomic<wait_reason> reason{wait_reason::none};

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

  // Name and green-thread-local slots, allocated only for threads that have
  // either. Published with release so snapshots can read the name.
  std::atomic<tcb_ext*> ext{nullptr};
  san_state san;

  thread_state load_state() const noexcept { return state_of(state.load(std::memory_order_acquire)); }
  const char* name_or_empty() const noexcept {
    tcb_ext* e = ext.load(std::memory_order_acquire);
    return e ? e->name.c_str() : "";
  }
  // The extension, created on first use by the thread itself (or its spawner).
  tcb_ext& ext_or_create() {
    tcb_ext* e = ext.load(std::memory_order_relaxed);
    if (!e) {
      e = new tcb_ext();
      ext.store(e, std::memory_order_release);
    }
    return *e;
  }
  stack stk() const noexcept { return stack{stk_lo, stk_size, stk_guarded, stk_from_slab}; }
  void set_stk(const stack& s) noexcept {
    stk_lo = s.lo;
    stk_size = s.size;
    stk_guarded = s.guarded;
    stk_from_slab = s.from_slab;
  }
  std::size_t alloc_align() const noexcept { return std::size_t{1} << align_shift; }
  scheduler& sched() const noexcept;
  task_base* task() noexcept;
};

// The allocation holding a TCB and, right after it, its task.
std::size_t tcb_task_offset(std::size_t task_align) noexcept;

inline task_base* tcb::task() noexcept {
  // spawn constructs the task right behind the TCB; task_base is its first
  // (and only polymorphic) base, so the addresses coincide.
  return reinterpret_cast<task_base*>(reinterpret_cast<char*>(this) + tcb_task_offset(alloc_align()));
}

// Runs the destructors of a thread's green-thread-local values (local.cpp).
void destroy_locals(tcb* t) noexcept;

}  // namespace weft::detail
