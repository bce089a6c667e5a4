// Layer 3: the thread control block.
//
// Ownership by state (who may touch which fields):
//   created           the spawner, until tcb_start admits it.
//   ready             the run queue holding it; only the worker that
//                     dequeues it writes its state (a plain store: running).
//   running           the worker running it. Its own state changes (yield,
//                     park, exit) are published by the post-switch action,
//                     after its registers are saved, so nobody can resume a
//                     thread whose context is still being written.
//   blocked           the wait queue or timer holding its waiter; whoever
//                     wins the waiter's status CAS makes it ready.
//   suspended_*       nobody runs it; resume() moves it back.
//   terminated        only its join record (task result, joiners) is live.
//
// Suspension is a request, not a state write. suspend() sets suspend_req;
// the thread is taken out of circulation at the next point where a worker
// handles it: when it is dequeued (ready -> suspended_ready), when it
// yields, or when its event comes while blocked (it is queued, then dropped
// at dequeue). Meanwhile a ready or blocked thread with the request set *is*
// suspended_ready / suspended_blocked (load_state() reports it so, and it
// will not run), and a running one suspends at its next switch. This keeps
// every hot transition (ready -> running -> ready) a plain store instead of a
// CAS racing suspend(); only the rare drop/resume pair needs one (see
// take_out_suspended). The state word carries one flag: off_queue, a
// suspended_ready thread that no run queue holds, so resume() must queue it.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "context/context.hpp"
#include "base/sanitizer.hpp"
#include "base/spinlock.hpp"
#include "core/run_stats.hpp"
#include "stack/stack_pool.hpp"
#include "weft/detail/task.hpp"
#include "weft/detail/wait_queue.hpp"
#include "weft/thread_info.hpp"

namespace weft::detail {

class worker;
class runtime_impl;

enum state_bits : std::uint32_t {
  state_mask = 0xff,
  off_queue = 1u << 8,
};

constexpr std::uint32_t st(thread_state s) noexcept { return static_cast<std::uint32_t>(s); }
inline thread_state state_of(std::uint32_t word) noexcept { return static_cast<thread_state>(word & state_mask); }

// What only some threads need, allocated on first use (ext_or_create).
struct tcb_ext {
  std::string name;
  std::vector<void*> locals;
  std::uint64_t expected_burst = 0;  // spawn_attrs::expected_burst in ticks; 0: the runtime's tau(0)
  // Cancellation (core/stop.hpp): the thread's std::stop_source, made only
  // for threads spawned with a std::stop_token callable or whose handle (or
  // the thread itself) asked for one, so a parked thread without it pays
  // nothing. Created once under stop_lock, then published by has_stop;
  // never replaced while the TCB lives.
  spinlock stop_lock;
  std::atomic<bool> has_stop{false};
  std::stop_source stop{std::nostopstate};
  // The cancel tree (spawn_attrs::stop_with_parent): a callback on the
  // parent's token that requests stop on this thread's. Dropped when the
  // thread ends (runtime_impl::finish), so a long-lived parent does not
  // collect the callbacks of children long gone.
  struct stop_child {
    std::stop_source child;
    void operator()() noexcept { child.request_stop(); }
  };
  std::optional<std::stop_callback<stop_child>> parent_link;
};

// Kept small on purpose: a parked thread costs one stack page plus this
// (and its task), and a million parked threads must fit in 4 GiB. Fields
// that only some threads need live elsewhere: joiners and join_any waiters
// in the runtime's hashed wait queues, names on the heap only when given.
struct tcb {
  context ctx;
  std::atomic<std::uint32_t> state{st(thread_state::created)};
  std::atomic<std::uint32_t> refs{2};  // the handle and the running thread
  thread_id id = 0;
  // The worker it runs on or last ran on (a pinned thread: the one it is
  // pinned to). Set at spawn to the spawning worker (from outside: worker 0,
  // or the next in turn for pinned threads), so it always leads to the runtime.
  std::atomic<worker*> last_worker{nullptr};
  tcb* next = nullptr;  // link in intrusive run queues
  // The stack, flattened (see stk()) so that the small fields below share
  // its padding. Before the first run stk_lo is null and stk_size holds the
  // requested size (0 = the default).
  char* stk_lo = nullptr;
  std::uint32_t stk_size = 0;
  std::atomic<std::uint32_t> policy_word{0};  // owned by the runtime's scheduling policy (core/policy.hpp); the core never reads it
  std::uint8_t mem_flags = 0;  // where the memory came from: stack_guarded | stack_from_slab | tcb_pool class << 2
  std::atomic<bool> suspend_req{false};
  std::int8_t priority = 0;
  std::uint8_t align_shift = 0;  // log2 of the allocation's alignment
  bool pinned = false;
  bool detached = false;
  bool reaped = false;  // joined, detached or join_any'ed: no longer a child to wait for (family lock)
  std::atomic<wait_reason> reason{wait_reason::none};

  // Family (guarded by runtime_impl::family_lock_). Every TCB stays linked
  // under its parent (or the virtual root) until it is freed, so the tree is
  // also the registry that snapshots walk.
  tcb* parent = nullptr;
  tcb* first_child = nullptr;
  tcb* sib_prev = nullptr;
  tcb* sib_next = nullptr;

  // Accounting (core/run_stats.hpp). Arrival here; the rest in a record at
  // the top of the thread's stack once it runs (null before), moved to a
  // pooled block when it ends. Swapped only under the family lock, which
  // snapshots hold.
  std::uint64_t created_ticks = 0;  // clock.hpp ticks(); converted at snapshot time
  std::atomic<run_stats*> stats{nullptr};

  // Name and green-thread-local slots, allocated only for threads that have
  // either. Published with release so snapshots can read the name.
  std::atomic<tcb_ext*> ext{nullptr};
  // Empty outside sanitizer builds: takes no room (it padded the TCB to 136 bytes).
  [[no_unique_address]] san_state san;

  // The state as the seven-state model sees it (a pending suspension counts).
  thread_state load_state() const noexcept {
    thread_state s = state_of(state.load(std::memory_order_acquire));
    if (suspend_req.load(std::memory_order_acquire)) {
      if (s == thread_state::ready) return thread_state::suspended_ready;
      if (s == thread_state::blocked) return thread_state::suspended_blocked;
    }
    return s;
  }
  const char* name_or_empty() const noexcept {
    tcb_ext* e = ext.load(std::memory_order_acquire);
    return e ? e->name.c_str() : "";
  }
  // The extension, created on first use. Any thread may create it (the
  // thread itself for its locals, a handle asking for the stop state), so
  // the first to publish wins and the others drop theirs.
  tcb_ext& ext_or_create() {
    tcb_ext* e = ext.load(std::memory_order_acquire);
    if (!e) {
      auto* fresh = new tcb_ext();
      if (ext.compare_exchange_strong(e, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) e = fresh;
      else delete fresh;
    }
    return *e;
  }
  static constexpr std::uint8_t stack_guarded = 1, stack_from_slab = 2;
  bool stk_guarded() const noexcept { return mem_flags & stack_guarded; }
  stack stk() const noexcept { return stack{stk_lo, stk_size, stk_guarded(), (mem_flags & stack_from_slab) != 0}; }
  void set_stk(const stack& s) noexcept {
    stk_lo = s.lo;
    stk_size = s.size;
    mem_flags = static_cast<std::uint8_t>((mem_flags & ~3u) | (s.guarded ? stack_guarded : 0) |
                                          (s.from_slab ? stack_from_slab : 0));
  }
  // The tcb_pool size class this TCB's memory came from (0: operator new).
  unsigned pool_class() const noexcept { return mem_flags >> 2; }
  std::size_t alloc_align() const noexcept { return std::size_t{1} << align_shift; }
  runtime_impl& rt() const noexcept;
  task_base* task() noexcept;
};

// A parked thread costs one stack page plus its TCB and task
// (BM_Blocked_Memory); the metrics live on the stack for that reason
// (core/run_stats.hpp). Sanitizer builds add their fiber state.
#if !defined(WEFT_ASAN) && !defined(WEFT_TSAN) && !defined(WEFT_CONTEXT_FCONTEXT)
static_assert(sizeof(void*) != 8 || sizeof(tcb) <= 128, "the TCB grew: see the memory budget in docs/design.md");
#endif

// The allocation holding a TCB and, right after it, its task.
std::size_t tcb_task_offset(std::size_t task_align) noexcept;

inline task_base* tcb::task() noexcept {
  // spawn constructs the task right behind the TCB; task_base is its first
  // (and only polymorphic) base, so the addresses coincide.
  return reinterpret_cast<task_base*>(reinterpret_cast<char*>(this) + tcb_task_offset(alloc_align()));
}

// Takes a thread whose suspension was requested out of circulation: it
// becomes suspended_ready and no queue holds it until resume() queues it.
// The caller owns the thread (dequeued it, or it is switching out). Returns
// false if a resume() raced in and the caller keeps the thread (now ready).
// The seq_cst store/load pair against resume()'s exchange/CAS guarantees
// that one of the two sees the other: the thread is neither lost nor queued twice.
inline bool take_out_suspended(tcb* t) noexcept {
  constexpr std::uint32_t parked = st(thread_state::suspended_ready) | off_queue;
  t->state.store(parked, std::memory_order_seq_cst);
  if (t->suspend_req.load(std::memory_order_seq_cst)) return true;
  std::uint32_t expected = parked;
  return !t->state.compare_exchange_strong(expected, st(thread_state::ready), std::memory_order_acq_rel);
}

// Runs the destructors of a thread's green-thread-local values (local.cpp).
void destroy_locals(tcb* t) noexcept;

}  // namespace weft::detail
