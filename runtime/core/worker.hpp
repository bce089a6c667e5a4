// A worker: one kernel thread running green threads from its own run queue.
//
// The worker holds the state; its scheduling paths (pick, switch, yield,
// park, steal, idle) are written once in core/worker_loop.hpp as a template
// over the runtime's policy and reached through `ops_`, a table that the
// policy instantiates (core/policy.hpp). So the worker knows no policy, and
// each policy's queue operations still compile inline into its paths.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "base/eh_state.hpp"
#include "base/sanitizer.hpp"
#include "base/spinlock.hpp"
#include "context/context.hpp"
#include "core/idle.hpp"
#include "core/policy.hpp"
#include "core/poller.hpp"
#include "core/tcb.hpp"
#include "core/tcb_pool.hpp"
#include "core/timer_heap.hpp"
#include "stack/overflow.hpp"
#include "stack/stack_pool.hpp"

namespace weft::detail {

struct tcb;
class runtime_impl;
template <class Q>
struct worker_loop;

// Work the next context does right after a switch, on behalf of the
// previous one, once the previous one's registers are safely saved.
struct post_action {
  void (*fn)(worker& w, tcb* prev, void* arg) = nullptr;
  tcb* prev = nullptr;
  void* arg = nullptr;
};

// The scheduling paths of one policy (worker_loop<Q>::ops).
struct worker_ops {
  void (*run)(worker& w);  // the scheduler context's loop, until shutdown
  void (*after_switch)(worker& w);
  void (*yield)(worker& w);
  void (*switch_out)(worker& w, post_action post, bool allow_timers);
  void (*exit_current)(worker& w);  // never returns
  void (*push_local)(worker& w, tcb* t, enqueue_kind kind);
};

// Operations completed without parking before the worker yields with its
// chores due (worker::spend_budget). At ~1 us per non-blocking syscall the
// worker polls at least every ~100 us under a flood; one extra yield per 128
// syscalls costs under 1 %.
inline constexpr std::uint32_t coop_budget = 128;

class worker {
 public:
  worker(runtime_impl& rt, unsigned index);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  void start();
  void join_thread();
  // The kernel thread's handle (valid between start() and join_thread()).
  pthread_t native_handle() noexcept { return thread_.native_handle(); }
  // The kernel thread's id (gettid()), 0 until it runs; the monitor reads
  // /proc/self/task/<tid> to see whether it sleeps in the kernel.
  int kernel_tid() const noexcept { return kernel_tid_.load(std::memory_order_acquire); }

  // ---- called on this worker by the running green thread ----
  // Switches the current thread out, running `post` on the next context.
  // The caller has set nothing in the TCB's state yet; post publishes it.
  void switch_out(post_action post, bool allow_timers) { ops_->switch_out(*this, post, allow_timers); }
  // Gives the CPU to another ready thread, if any.
  void yield() { ops_->yield(*this); }
  // Ends the current thread; never returns.
  [[noreturn]] void exit_current() {
    ops_->exit_current(*this);
    __builtin_unreachable();
  }
  // Clears the kernel thread's exception-handling state (a new thread's first step).
  void reset_eh_state() noexcept { *eh_ = eh_state{}; }
  // Runs the pending post-switch action; every resumed context calls it first.
  void after_switch() noexcept { ops_->after_switch(*this); }
  // Counts an operation that finished without parking (the epoll engine's
  // syscall that did not block). A thread whose every call succeeds at once
  // -- a client flooding its connection -- would never switch, so its worker
  // would never poll, fire timers or run its other threads (a SIGTERM's
  // signalfd reader among them). Every coop_budget such operations the
  // thread yields with the periodic chores due, as Tokio's task budget does.
  void spend_budget() noexcept {
    if (__builtin_expect(--budget_ == 0, 0)) budget_spent();
  }

  // ---- called by anyone ----
  // Queues a ready thread on this worker (the caller is this worker).
  void push_local(tcb* t, enqueue_kind kind) noexcept { ops_->push_local(*this, t, kind); }
  // Queues a pinned thread from any thread and wakes the worker.
  void push_inbox(tcb* t) noexcept;
  // Wakes the worker if it sleeps.
  void notify() noexcept { idle_protocol::unpark(*this); }
  // When the running green thread's current burst began (ticks; bit 0 set
  // while a green thread runs, clear in the scheduler context: stats() reads
  // it from other threads, which may not read `current`).
  std::uint64_t burst_start() const noexcept { return burst_start_.load(std::memory_order_relaxed); }
  void mark_burst_start(std::uint64_t now, bool green) noexcept {
    burst_start_.store((now & ~std::uint64_t{1}) | static_cast<std::uint64_t>(green), std::memory_order_relaxed);
  }
  // Hand-off (core/monitor.hpp): an active worker runs green threads; a
  // dormant one only serves its own timers and I/O and runs threads pinned
  // to it, and lets the active ones take its queue. The monitor turns a
  // stuck worker dormant and a spare active; the stuck one notices at its
  // next pick_slow or in its scheduler context.
  bool active() const noexcept { return active_.load(std::memory_order_acquire); }
  void make_dormant() noexcept { active_.store(false, std::memory_order_release); }
  // Dormant -> active; false if it already was active.
  bool try_activate() noexcept {
    bool was = false;
    return active_.compare_exchange_strong(was, true, std::memory_order_acq_rel);
  }
  // A green thread ended on this worker (finish()).
  void count_completed() noexcept {
    completed_.store(completed_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  runtime_impl& rt;
  const unsigned index;
  tcb* current = nullptr;
  timer_heap timers;
  // The run queue: holds this worker's ready threads in the policy's order.
  std::unique_ptr<policy> runq;
  idle_slot idling;
  // Where this worker sleeps and what wakes it (core/poller.hpp); the io
  // layer's engine, which is also where its threads' I/O waits.
  std::unique_ptr<poller> driver;

 private:
  template <class Q>
  friend struct worker_loop;
  void main();
  tcb* pop_inbox() noexcept;
  bool inbox_has_work() const noexcept { return inbox_nonempty_.load(std::memory_order_relaxed); }
  bool prepare_slow(tcb* t) noexcept;  // worker_loop::prepare's rare cases
  void budget_spent() noexcept;
  void run_timers() noexcept;
  // True if work is visible anywhere this worker could take it (W4 of the
  // idle protocol: after its fence).
  bool work_visible() const noexcept;

  const worker_ops* ops_;
  eh_state* eh_ = nullptr;  // this worker's kernel thread's (base/eh_state.hpp), set in main()
  context sched_ctx_;
  san_state sched_san_;
  post_action post_;
  std::uint32_t chores_ = 1;        // picks until the periodic chores (worker_loop.hpp)
  std::uint32_t chore_rounds_ = 0;
  std::uint32_t budget_ = coop_budget;  // spend_budget() calls until a forced yield
  // Accounting (core/run_stats.hpp), in ticks. Written only by this worker
  // (relaxed load + store), read by snapshots and stats().
  std::atomic<std::uint64_t> burst_start_{0};  // burst_start()
  std::atomic<std::uint64_t> busy_ticks_{0};   // sum of the bursts run here
  std::atomic<std::uint64_t> switches_{0};     // green threads switched out here
  std::atomic<std::uint64_t> completed_{0};    // green threads that ended here
  std::uint32_t alpha_q16_ = 0;                // options.burst_alpha in 1/65536ths
  stack_cache stacks_;
  tcb_cache tcbs_;
  std::vector<tcb*> fired_;
  spinlock inbox_lock_;
  tcb* inbox_head_ = nullptr;
  tcb* inbox_tail_ = nullptr;
  std::atomic<bool> inbox_nonempty_{false};
  std::atomic<bool> active_{true};
  std::thread thread_;
  std::atomic<int> kernel_tid_{0};

  friend class runtime_impl;  // snapshots and stats() read the accounting; spawn and free use tcbs_ and stacks_
};

inline runtime_impl& tcb::rt() const noexcept { return last_worker.load(std::memory_order_relaxed)->rt; }

// The worker running the calling kernel thread, or null. Never cached across
// a switch: a green thread may resume on another worker (see worker_loop.hpp).
worker* current_worker() noexcept;

// The green thread running on the calling kernel thread, or null.
tcb* current_tcb() noexcept;

// The stack layer's fault handler asks this which green thread runs here
// (stack/overflow.hpp's probe; async-signal-safe).
bool describe_running_thread(overflow_subject& s) noexcept;
// The same description for any thread (canary reports).
overflow_subject overflow_subject_of(const tcb* t) noexcept;
// base/fatal.hpp's describer: the green thread and worker running here.
bool describe_for_fatal(char* buf, std::size_t size) noexcept;

}  // namespace weft::detail
