// A worker: one kernel thread running green threads from its own run queue.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "context/context.hpp"
#include "core/policy.hpp"
#include "core/poller.hpp"
#include "base/sanitizer.hpp"
#include "stack/overflow.hpp"
#include "base/spinlock.hpp"
#include "stack/stack_pool.hpp"
#include "core/tcb.hpp"
#include "core/tcb_pool.hpp"
#include "core/timer_heap.hpp"

namespace weft::detail {

struct tcb;
class runtime_impl;
class fifo_policy;

// Work the next context does right after a switch, on behalf of the
// previous one, once the previous one's registers are safely saved.
struct post_action {
  void (*fn)(worker& w, tcb* prev, void* arg) = nullptr;
  tcb* prev = nullptr;
  void* arg = nullptr;
};

class worker {
 public:
  worker(runtime_impl& s, unsigned index);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  void start();
  void join_thread();

  // ---- called on this worker by the running green thread ----
  // Switches the current thread out, running `post` on the next context.
  // The caller has set nothing in the TCB's state yet; post publishes it.
  void switch_out(post_action post, bool allow_timers);
  // Gives the CPU to another ready thread, if any.
  void yield();
  // Ends the current thread; never returns.
  [[noreturn]] void exit_current();

  // ---- called by anyone ----
  // Queues a ready thread on this worker (the caller is this worker).
  void push_local(tcb* t, enqueue_kind kind) noexcept;
  // The FIFO ring's push, inline in worker.cpp; false when the caller must
  // use push_local (another policy, or the ring is full).
  bool push_yielded(tcb* t) noexcept;
  // Queues a pinned thread from any thread and wakes the worker.
  void push_inbox(tcb* t) noexcept;
  // Wakes the worker if it sleeps.
  void notify() noexcept;

  // Runs the pending post-switch action; every resumed context calls it first.
  void after_switch() noexcept;

  runtime_impl& rt;
  const unsigned index;
  tcb* current = nullptr;
  timer_heap timers;
  std::unique_ptr<policy> runq;
  bool spinning = false;
  std::atomic<bool> handed_spinning{false};  // a waker counted us as spinning when it woke us
  std::atomic<std::uint32_t> wake_word{0};   // futex: 1 = a wake-up is pending
  std::atomic<bool> sleeping{false};
  // Where this worker sleeps and what wakes it (core/poller.hpp); the io
  // layer's engine, which is also where its threads' I/O waits.
  std::unique_ptr<poller> driver;

 private:
  friend class runtime_impl;
  void main();
  void run_post() noexcept;  // after_switch, inlined into the switch paths

  tcb* find_runnable();           // scheduler loop: blocks while idle; null on shutdown
  tcb* pick_local(bool allow_timers) noexcept;  // fast path: local, inbox, global; never blocks
  tcb* pick_slow(bool allow_timers, tcb* first) noexcept;
  tcb* steal_work() noexcept;
  tcb* pop_inbox() noexcept;
  bool prepare(tcb* t) noexcept;  // claims t (ready -> running) and gives it a stack
  bool prepare_slow(tcb* t) noexcept;
  void run_timers() noexcept;
  // Switches from `from` (null: the scheduler context) to `next`; returns,
  // once `from` runs again, the worker that resumed it.
  worker* switch_to(tcb* from, tcb* next, bool from_dying) noexcept;
  void sleep_until(std::int64_t deadline_ns) noexcept;
  void check_canary(tcb* t) noexcept;

  context sched_ctx_;
  san_state sched_san_;
  post_action post_;
  std::uint32_t chores_ = 1;        // picks until the periodic chores (worker.cpp)
  std::uint32_t chore_rounds_ = 0;
  fifo_policy* fifo_ = nullptr;  // runq, when it is the FIFO ring: called directly
  std::atomic<std::int64_t> slice_start_{0};  // coarse_ns(); snapshots read it for a running thread's CPU time
  stack_cache stacks_;
  tcb_cache tcbs_;
  std::vector<tcb*> fired_;
  spinlock inbox_lock_;
  tcb* inbox_head_ = nullptr;
  tcb* inbox_tail_ = nullptr;
  std::atomic<bool> inbox_nonempty_{false};
  std::thread thread_;
};

inline runtime_impl& tcb::rt() const noexcept { return last_worker.load(std::memory_order_relaxed)->rt; }

// The worker running the calling kernel thread, or null. Never cached across
// a switch: a green thread may resume on another worker (see worker.cpp).
worker* current_worker() noexcept;

// The green thread running on the calling kernel thread, or null.
tcb* current_tcb() noexcept;

// The stack layer's fault handler asks this which green thread runs here
// (stack/overflow.hpp's probe; async-signal-safe).
bool describe_running_thread(overflow_subject& s) noexcept;

}  // namespace weft::detail
