// The runtime's internals: workers, the global queue, the idle protocol,
// thread lifetime (spawn, exit, join, family) and the TCB registry.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/debug_root.hpp"
#include "core/dump_signal.hpp"
#include "core/idle.hpp"
#include "core/monitor.hpp"
#include "core/policy.hpp"
#include "core/poller.hpp"
#include "core/run_stats.hpp"
#include "base/spinlock.hpp"
#include "core/tcb.hpp"
#include "stack/stack_pool.hpp"
#include "core/tcb_pool.hpp"
#include "weft/options.hpp"
#include "weft/runtime_stats.hpp"
#include "weft/thread.hpp"
#include "weft/thread_info.hpp"
#include "core/worker.hpp"

namespace weft::detail {

struct tcb;

// What a runtime is built from that lives above the core: its scheduling
// policy (policy/) and its workers' pollers (io/). api.cpp wires them, so
// the core includes neither layer.
struct runtime_parts {
  policy_factory make_policy;
  poller_factory make_poller;
};

class runtime_impl {
 public:
  runtime_impl(const options& opts, runtime_parts parts);
  ~runtime_impl();
  void start();
  // Waits until no green thread is left, then stops and joins the workers.
  void shutdown();

  // ---- thread lifetime ----
  tcb* create(const spawn_attrs& attrs, std::size_t task_size, std::size_t task_align);
  void admit(tcb* t) noexcept;         // created -> ready (or suspended_ready)
  void make_ready(tcb* t) noexcept;    // its event came: blocked -> ready
  void enqueue(tcb* t, enqueue_kind kind) noexcept;
  void init_context(tcb* t) noexcept;  // first run: build the context on its new stack
  void fail_start(worker& w, tcb* t) noexcept;  // no stack could be had
  void finish(tcb* t) noexcept;        // the thread's function returned (still on its stack)
  void first_run(worker& w, tcb* t) noexcept;  // its first burst began (thread_entry)
  void retire(worker& w, tcb* t) noexcept;     // post-switch after exit: stack back, drop self ref
  void release(tcb* t) noexcept;       // drop one reference; frees at zero
  void abandon(tcb* t) noexcept;       // frees a TCB that was never admitted
  void reap(tcb* t) noexcept;          // unlink from its parent's child list
  thread_id join_any(tcb* self);
  // After shutdown: frees the TCBs that only thread handles still hold (the
  // runtime is ending; the handles learn it from the anchor) and returns how
  // many. An exception such a thread ended with is reported (it aborts).
  std::size_t free_unjoined();
  // The wait queue where joiners of t wait (waiter::data == t).
  wait_queue& join_queue(const tcb* t) noexcept { return join_table_[t->id % join_buckets]; }
  // The next thread created becomes the root (run()'s main): made root as it
  // is created, before it can run, so no early orphan of its children misses it.
  void root_next_spawn() noexcept {
    std::lock_guard lk(family_lock_);
    root_next_ = true;
  }

  // ---- queues and idling ----
  void global_push_list(tcb* head) noexcept;
  tcb* global_pop_into(worker& w) noexcept;
  bool global_nonempty() const noexcept { return global_size_.load(std::memory_order_acquire) != 0; }
  bool stopped() const noexcept { return life_.load(std::memory_order_acquire) & stopped_bit; }

  // ---- registry and metrics ----
  std::vector<thread_info> snapshot() const;
  thread_info info_of(tcb* t) const;  // one live thread's record (t referenced by the caller)
  // The green thread running on worker `index` while its burst-start word
  // still reads `burst` (the monitor's stall): its id and name; false if
  // the worker has moved on.
  bool running_on(unsigned index, std::uint64_t burst, thread_id& id, std::string& name) const;
  // tau(0) of t: its spawn_attrs::expected_burst, else options.initial_burst (ticks).
  std::uint64_t first_prediction(const tcb* t) const noexcept {
    const tcb_ext* e = t->ext.load(std::memory_order_acquire);
    return e && e->expected_burst ? e->expected_burst : initial_burst_ticks_;
  }
  // The predicted next CPU burst of a thread that is not running (ticks):
  // what sjf and hrrn order by.
  std::uint64_t predicted_burst(const tcb* t) const noexcept {
    const run_stats* r = t->stats.load(std::memory_order_acquire);
    return r ? r->predicted.load(std::memory_order_relaxed) : first_prediction(t);
  }
  runtime_stats stats() const;
  tcb* find_and_ref(thread_id id);  // throws no_such_thread
  // Every TCB still linked, each with a reference the caller drops with
  // release(): the thread dump's list, taken in one pass of the family lock.
  std::vector<tcb*> ref_all();
  // Runs f under the family lock: meanwhile no thread can end (finish()
  // needs the lock), so a suspended thread's stack stays its own (core/dump.cpp).
  template <class F>
  void with_family_lock(F&& f) const {
    std::lock_guard fl(family_lock_);
    f();
  }

  const options opts;
  const runtime_parts parts;
  stack_pool stacks;
  tcb_depot tcbs;  // before workers: their caches return blocks to it
  idle_protocol idle;  // which workers spin, sleep, and who wakes them (core/idle.hpp)

  // The monitor (core/monitor.hpp), or null while none runs. A signal
  // handler reads it: see in_monitor_handler.
  monitor* monitor_of() const noexcept { return monitor_ptr_.load(std::memory_order_seq_cst); }
  // Signal handlers between reading monitor_of() and leaving it; shutdown
  // clears the pointer, then waits for this to drain before freeing.
  std::atomic<int> in_monitor_handler{0};

  // Every worker started so far: options.workers, then the spares the
  // monitor started for hand-offs (at most options.max_spare_workers).
  // Loops over the workers (stealing, stats) cover spares too.
  unsigned worker_count() const noexcept { return nworkers_.load(std::memory_order_acquire); }
  worker& worker_at(unsigned i) const noexcept { return *workers_[i]; }
  // options.workers, resolved: how many workers run green threads at a time.
  unsigned active_target() const noexcept { return idle.workers(); }
  // The hand-off (monitor): a worker whose green thread sits in a blocking
  // call weft does not own gives its place to a spare. Activates a dormant
  // spare, or starts a new one within the cap; the spare then steals the
  // stuck worker's ready threads. Returns the spare, or null if none can be had.
  worker* activate_spare(const worker& stuck);
  std::uint64_t handoffs() const noexcept { return handoffs_.load(std::memory_order_relaxed); }
  rt_anchor* anchor = nullptr;  // what this runtime\'s handles check (runtime/api.cpp); owned there

 private:
  static unsigned workers_for(const options& o);
  // Fixed capacity (options.workers + max_spare_workers) so that spares can
  // be added while other threads index it; [0, nworkers_) are constructed.
  std::unique_ptr<std::unique_ptr<worker>[]> workers_;
  unsigned worker_capacity_ = 0;
  std::atomic<unsigned> nworkers_{0};
  std::atomic<std::uint64_t> handoffs_{0};
  bool spare_failed_ = false;  // monitor thread only: a spare could not start (logged once)
  void start_monitor();
  void stop_monitor() noexcept;
  std::unique_ptr<monitor> monitor_;
  std::unique_ptr<dump_listener> dump_listener_;  // options.dump_signal (core/dump_signal.hpp), or null
  std::atomic<monitor*> monitor_ptr_{nullptr};
  static constexpr std::uint64_t stopped_bit = std::uint64_t{1} << 63;
  tcb*& child_head(tcb* parent) noexcept { return parent ? parent->first_child : vroot_first_child_; }
  void link_child(tcb* parent, tcb* child) noexcept;
  void unlink_child(tcb* child) noexcept;
  void free_tcb(tcb* t, bool has_task) noexcept;
  void free_memory(tcb* t) noexcept;  // the TCB's allocation, back to its pool
  void wake_join_any(tcb* parent) noexcept;
  template <class Visit>
  void walk(Visit visit) const;  // every TCB, family lock held

  // Global run queue: spawns from foreign threads and spills of full local queues.
  mutable std::mutex global_mu_;
  tcb* global_head_ = nullptr;
  tcb* global_tail_ = nullptr;
  std::atomic<std::size_t> global_size_{0};


  // Live thread count with the stopped flag in the top bit, so that a spawn
  // racing shutdown either counts itself in first or sees the flag.
  std::atomic<std::uint64_t> life_{0};
  std::mutex life_mu_;
  std::condition_variable life_cv_;
  // Foreign threads inside enqueue(): the thread they woke may end (and the
  // live count reach zero) before they return, so shutdown waits for these.
  std::atomic<int> foreign_enqueues_{0};
  std::atomic<unsigned> foreign_pins_{0};  // round-robin for pinned spawns from outside

  std::atomic<thread_id> next_id_{1};

  // Family: parent/child links; orphans pass to root_ (or the virtual root,
  // parent == null). A spinlock: every spawn and exit takes it briefly, and a
  // sleeping mutex turned contention between two workers into futex calls.
  mutable spinlock family_lock_;
  tcb* root_ = nullptr;
  bool root_next_ = false;
  tcb* vroot_first_child_ = nullptr;
  // This runtime in weft_debug_root's list (core/debug_root.hpp), for debuggers.
  weft_debug_runtime debug_node_{};
  // join_any waiters of every thread; waiter::data names the parent waiting.
  wait_queue join_any_q_;
  // Joiners, hashed by thread id (Go's semtable idea): a queue per TCB would
  // cost 24 bytes in every thread for a wait that most threads never see.
  static constexpr std::size_t join_buckets = 64;
  wait_queue join_table_[join_buckets];

  // Clock origins: wall time and ticks sampled together at start, for
  // converting tick stamps to system_clock times and for stats()' uptime.
  std::int64_t wall0_ns_ = 0;
  std::uint64_t ticks0_ = 0;
  std::uint64_t initial_burst_ticks_ = 0;  // options.initial_burst in ticks: tau(0)

  // Fills i from t's metrics; family lock held. `now`: ticks(); `ns`: ns per tick.
  void fill_info(thread_info& i, tcb* t, std::uint64_t now, double ns) const;
  std::chrono::system_clock::time_point wall_at(std::uint64_t tick, double ns) const noexcept;
  static void check_options(const options& o);
};

// True if the ended thread t ended with an exception that must not go
// unobserved: any but weft::error(canceled), the normal end of a thread
// whose blocking call was woken by a stop request (core/stop.hpp).
bool ended_with_error(tcb* t) noexcept;

// Prints a thread's exception that no one will join, and aborts.
[[noreturn]] void report_unobserved(tcb* t) noexcept;

// The runtime of the caller (green thread), else the only live one; null if none or ambiguous.
runtime_impl* runtime_for_caller() noexcept;

}  // namespace weft::detail
