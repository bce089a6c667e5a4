// Thread lifetime and the queues between workers_.
//
// Lifetime of a TCB. spawn allocates TCB and task together (tcb_create),
// admits it as ready (no stack yet: a thread in `created`/first `ready` costs
// only its TCB), and a worker gives it a pooled stack when it first runs.
// When the function returns, finish() publishes `terminated`, wakes joiners
// and the parent's join_any, and passes children to the root; the exiting
// thread then switches away and the next context's retire() returns the
// stack to the worker's cache. Two references keep the TCB: the handle's
// (dropped by join/detach) and the thread's own (dropped by retire).
//
// Shutdown, in steps:
//   1. shutdown() waits until the live count (top bit excluded) is zero;
//      every spawn adds to it first, so nothing can sneak in unseen.
//   2. It sets the stopped bit with a CAS from exactly 0; a spawn that raced
//      in makes the CAS fail and step 1 repeats.
//   3. A spawn that sees the bit undoes its increment and throws shut_down.
//   4. Every worker is notified, sees stopped() in find_runnable and returns
//      from its loop; shutdown() joins the kernel threads.
#include "core/runtime_impl.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <bit>
#include <new>

#include "base/clock.hpp"
#include "base/fatal.hpp"
#include "base/futex.hpp"
#include "base/log.hpp"
#include "stack/overflow.hpp"
#include "core/park.hpp"
#include "core/stop.hpp"
#include "core/tcb.hpp"
#include "core/thread_label.hpp"
#include "weft/error.hpp"

namespace weft::detail {
namespace {

std::mutex g_runtimes_mu;
std::vector<runtime_impl*> g_runtimes;

std::int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void thread_entry(void* arg, void* resumer) {
  // A new thread handles no exceptions: the context it came from keeps its
  // own (base/eh_state.hpp).
  static_cast<worker*>(resumer)->reset_eh_state();
  static_cast<worker*>(resumer)->after_switch();
  tcb* t = static_cast<tcb*>(arg);
  t->rt().first_run(*static_cast<worker*>(resumer), t);
  t->task()->run();
  t->rt().finish(t);
  current_worker()->exit_current();
}

}  // namespace

bool ended_with_error(tcb* t) noexcept {
  std::exception_ptr e = t->task()->error;
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const error& x) {
    return x.code() != errc::canceled;
  } catch (...) {
  }
  return true;
}

[[noreturn]] void report_unobserved(tcb* t) noexcept {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(t->task()->error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  char label[128];
  thread_label(label, sizeof label, t);
  WEFT_FATAL("%s ended with an uncaught exception that nobody joins: %s", label, what.c_str());
}

std::size_t tcb_task_offset(std::size_t task_align) noexcept {
  std::size_t a = std::max(task_align, alignof(tcb));
  return (sizeof(tcb) + a - 1) / a * a;
}

// The options the constructor does not check on its way (workers_for, stack_size).
void runtime_impl::check_options(const options& o) {
  if (!(o.burst_alpha >= 0.0 && o.burst_alpha <= 1.0))
    throw error(errc::invalid_argument, "options.burst_alpha: must be in 0..1, got " + std::to_string(o.burst_alpha));
  if (o.stall_threshold.count() < 0)
    throw error(errc::invalid_argument,
                "options.stall_threshold: must not be negative, got " + std::to_string(o.stall_threshold.count()) + " ms");
  if (o.stall_threshold.count() != 0 && !monitor::signal_usable(o.stall_signal))
    throw error(errc::invalid_argument, "options.stall_signal: signal " + std::to_string(o.stall_signal) +
                                            " cannot carry stall reports (want a catchable signal that is not a fault, "
                                            "e.g. SIGURG or SIGRTMIN+n)");
  if (o.dump_signal != 0 && !monitor::signal_usable(o.dump_signal))
    throw error(errc::invalid_argument, "options.dump_signal: signal " + std::to_string(o.dump_signal) +
                                            " cannot ask for a thread dump (want 0 for none, or a catchable signal "
                                            "that is not a fault, e.g. SIGQUIT)");
  if (o.dump_signal != 0 && o.stall_threshold.count() != 0 && o.dump_signal == o.stall_signal)
    throw error(errc::invalid_argument, "options.dump_signal: signal " + std::to_string(o.dump_signal) +
                                            " is options.stall_signal too; the two need different signals");
  if (o.handoff_threshold.count() < 0)
    throw error(errc::invalid_argument, "options.handoff_threshold: must not be negative, got " +
                                            std::to_string(o.handoff_threshold.count()) + " ms");
  if (o.max_spare_workers > 1024)
    throw error(errc::invalid_argument,
                "options.max_spare_workers: at most 1024, got " + std::to_string(o.max_spare_workers));
  if (o.initial_burst.count() < 0)
    throw error(errc::invalid_argument,
                "options.initial_burst: must not be negative, got " + std::to_string(o.initial_burst.count()) + " us");
}

// options.workers, checked; 0 means one per CPU.
unsigned runtime_impl::workers_for(const options& o) {
  unsigned n = o.workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  if (n > 1024) throw error(errc::invalid_argument, "options.workers: at most 1024 workers, got " + std::to_string(n));
  return n;
}

runtime_impl::runtime_impl(const options& o, runtime_parts p)
    : opts((check_options(o), o)), parts(p), stacks(o.stack_size, o.max_guarded_stacks), idle(workers_for(o)) {
  unsigned n = idle.workers();
  if (o.stack_size > (std::size_t{1} << 30))
    throw error(errc::invalid_argument, "options.stack_size: at most 1 GiB, got " + std::to_string(o.stack_size));
  overflow_guard_install(&describe_running_thread);
  set_fatal_context(&describe_for_fatal);
  tick_clock_init();
  ticks0_ = ticks();
  wall0_ns_ = wall_now_ns();
  initial_burst_ticks_ = ns_to_ticks(std::chrono::duration_cast<std::chrono::nanoseconds>(o.initial_burst).count());
  worker_capacity_ = n + o.max_spare_workers;
  workers_ = std::make_unique<std::unique_ptr<worker>[]>(worker_capacity_);
  for (unsigned i = 0; i < n; ++i) workers_[i] = std::make_unique<worker>(*this, i);
  nworkers_.store(n, std::memory_order_release);
  WEFT_LOG_DEBUG("core", "runtime created: %u workers, %zu-byte stacks by default", n, stacks.default_size());
}

runtime_impl::~runtime_impl() {
  shutdown();
  debug_unregister(debug_node_);
  std::lock_guard lk(g_runtimes_mu);
  g_runtimes.erase(std::remove(g_runtimes.begin(), g_runtimes.end(), this), g_runtimes.end());
}

void runtime_impl::start() {
  try {
    for (unsigned i = 0; i < worker_count(); ++i) workers_[i]->start();
    start_monitor();
    if (opts.dump_signal != 0) dump_listener_ = std::make_unique<dump_listener>(*this, opts.dump_signal);
  } catch (const std::system_error& e) {
    life_.fetch_or(stopped_bit);
    for (unsigned i = 0; i < worker_count(); ++i) workers_[i]->notify();
    for (unsigned i = 0; i < worker_count(); ++i) workers_[i]->join_thread();
    throw error(errc::resource_exhausted, std::string("cannot start worker threads: ") + e.what());
  }
  debug_node_.threads = &vroot_first_child_;
  debug_node_.workers = worker_count();
  debug_register(debug_node_);
  std::lock_guard lk(g_runtimes_mu);
  g_runtimes.push_back(this);
}

void runtime_impl::shutdown() {
  if (current_worker() && &current_worker()->rt == this)
    throw error(errc::deadlock, "runtime::shutdown: called from one of its own green threads");
  for (;;) {
    {
      std::unique_lock lk(life_mu_);
      life_cv_.wait(lk, [&] { return (life_.load() & ~stopped_bit) == 0; });
    }
    std::uint64_t expected = 0;
    if (life_.compare_exchange_strong(expected, stopped_bit) || (expected & stopped_bit)) break;
  }
  // A foreign waker may still be notifying a worker about a thread that has
  // since ended; it is a few instructions from done and never blocks.
  while (foreign_enqueues_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  // Kept until every thread ended: a program hung in shutdown is what a dump is for.
  dump_listener_.reset();
  stop_monitor();  // no spare starts after this
  for (unsigned i = 0; i < worker_count(); ++i) workers_[i]->notify();
  for (unsigned i = 0; i < worker_count(); ++i) workers_[i]->join_thread();
}

worker* runtime_impl::activate_spare(const worker& stuck) {
  unsigned n = worker_count();
  // A dormant worker waiting in its scheduler context (burst word even):
  // not one whose own handed-off thread still runs on it.
  for (unsigned i = 0; i < n; ++i) {
    worker& w = *workers_[i];
    if (&w == &stuck || w.active() || (w.burst_start() & 1)) continue;
    if (!w.try_activate()) continue;
    w.notify();
    handoffs_.fetch_add(1, std::memory_order_relaxed);
    return &w;
  }
  if (n == worker_capacity_ || spare_failed_) return nullptr;
  try {
    auto w = std::make_unique<worker>(*this, n);
    w->start();
    workers_[n] = std::move(w);
  } catch (const std::exception& e) {
    spare_failed_ = true;
    log_emit(log_level::warn, "core", "cannot start a spare worker for hand-offs (%s); stuck workers stay stuck",
             e.what());
    return nullptr;
  }
  nworkers_.store(n + 1, std::memory_order_release);
  handoffs_.fetch_add(1, std::memory_order_relaxed);
  WEFT_LOG_DEBUG("core", "spare worker %u started for a hand-off", n);
  return workers_[n].get();
}

void runtime_impl::start_monitor() {
  if (opts.stall_threshold.count() == 0 && opts.handoff_threshold.count() == 0) return;
  monitor_ = std::make_unique<monitor>(*this, opts.stall_threshold, opts.stall_signal, opts.handoff_threshold);
  monitor_ptr_.store(monitor_.get(), std::memory_order_seq_cst);
}

void runtime_impl::stop_monitor() noexcept {
  if (!monitor_) return;
  // Dekker with on_signal (monitor.cpp): a handler either counted itself in
  // before the pointer was cleared, and is waited for, or sees null.
  monitor_ptr_.store(nullptr, std::memory_order_seq_cst);
  while (in_monitor_handler.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  monitor_.reset();
}

// ---------------------------------------------------------------- lifetime

tcb* runtime_impl::create(const spawn_attrs& attrs, std::size_t task_size, std::size_t task_align) {
  if (attrs.priority < -64 || attrs.priority > 64)
    throw error(errc::invalid_argument, "spawn: priority must be in -64..64, got " + std::to_string(attrs.priority));
  if (attrs.expected_burst.count() < 0)
    throw error(errc::invalid_argument,
                "spawn: expected_burst must not be negative, got " + std::to_string(attrs.expected_burst.count()) + " us");
  if (attrs.stack_size != 0 && (attrs.stack_size < 16 * 1024 || attrs.stack_size > (std::size_t{1} << 30)))
    throw error(errc::invalid_argument,
                "spawn: stack_size must be 0 (default) or 16 KiB..1 GiB, got " + std::to_string(attrs.stack_size));
  if (life_.fetch_add(1, std::memory_order_acq_rel) & stopped_bit) {
    life_.fetch_sub(1, std::memory_order_acq_rel);
    throw error(errc::shut_down, "spawn: the runtime is shut down");
  }
  std::size_t off = tcb_task_offset(task_align);
  std::size_t align = std::max(task_align, alignof(tcb));
  unsigned cls = tcb_depot::class_of(off + task_size, align);
  worker* here = current_worker();
  if (here && &here->rt != this) here = nullptr;
  void* mem = !cls ? ::operator new(off + task_size, std::align_val_t{align}, std::nothrow)
              : here ? here->tcbs_.take(cls)
                     : tcbs.take(cls);
  if (!mem) {
    if (((life_.fetch_sub(1) - 1) & ~stopped_bit) == 0) {
      std::lock_guard lk(life_mu_);
      life_cv_.notify_all();
    }
    throw error(errc::resource_exhausted, "spawn: out of memory for a thread control block");
  }
  tcb* t = ::new (mem) tcb();
  t->align_shift = static_cast<std::uint8_t>(std::countr_zero(align));
  t->mem_flags = static_cast<std::uint8_t>(cls << 2);
  t->id = next_id_.fetch_add(1, std::memory_order_relaxed);
  // From outside, a pinned thread gets a worker in turn, so pinned work
  // spawned by a foreign thread spreads over the runtime; others start on
  // worker 0's queue and go wherever they are stolen.
  worker* home = here;
  if (!home)
    home = workers_[attrs.pinned ? foreign_pins_.fetch_add(1, std::memory_order_relaxed) % active_target() : 0].get();
  t->last_worker.store(home, std::memory_order_relaxed);
  if (!attrs.name.empty() || attrs.expected_burst.count() > 0) {
    try {
      tcb_ext& e = t->ext_or_create();
      e.name = attrs.name;
      e.expected_burst = ns_to_ticks(std::chrono::duration_cast<std::chrono::nanoseconds>(attrs.expected_burst).count());
    } catch (const std::bad_alloc&) {
      free_memory(t);
      if (((life_.fetch_sub(1) - 1) & ~stopped_bit) == 0) {
        std::lock_guard lk(life_mu_);
        life_cv_.notify_all();
      }
      throw error(errc::resource_exhausted, "spawn: out of memory for the thread's name");
    }
  }
  t->priority = static_cast<std::int8_t>(attrs.priority);
  t->pinned = attrs.pinned;
  t->stk_size = static_cast<std::uint32_t>(attrs.stack_size);
  t->created_ticks = ticks();
  if (attrs.start_suspended) {
    t->suspend_req.store(true, std::memory_order_relaxed);
    t->state.store(st(thread_state::suspended_ready) | off_queue, std::memory_order_relaxed);
  }

  tcb* self = current_tcb();
  {
    std::lock_guard lk(family_lock_);
    link_child(self && &self->rt() == this ? self : root_, t);
    if (root_next_) {
      root_next_ = false;
      root_ = t;
    }
  }
  return t;
}

void runtime_impl::admit(tcb* t) noexcept {
  std::uint32_t expected = st(thread_state::created);
  if (t->state.compare_exchange_strong(expected, st(thread_state::ready), std::memory_order_acq_rel))
    enqueue(t, enqueue_kind::spawned);
}

void runtime_impl::make_ready(tcb* t) noexcept {
  std::uint32_t s = t->state.load(std::memory_order_acquire);
  for (;;) {
    thread_state ts = state_of(s);
    if (ts == thread_state::blocked) {
      // Its waker owns it now (it won the waiter's CAS): blocked time ends
      // here, ready time starts. A blocked thread has run, so has a record.
      t->stats.load(std::memory_order_relaxed)->end_blocked(ticks());
      if (t->state.compare_exchange_weak(s, st(thread_state::ready), std::memory_order_acq_rel)) {
        enqueue(t, enqueue_kind::woken);
        return;
      }
    } else {
      WEFT_FATAL("waking green thread %llu in state %s", static_cast<unsigned long long>(t->id), to_string(ts));
    }
  }
}

void runtime_impl::enqueue(tcb* t, enqueue_kind kind) noexcept {
  worker* w = current_worker();
  bool foreign = !w || &w->rt != this;
  // Counted before t becomes runnable: t can end only after that, so a
  // shutdown that saw the live count reach zero also sees this count.
  if (foreign) foreign_enqueues_.fetch_add(1, std::memory_order_seq_cst);
  worker* home = t->last_worker.load(std::memory_order_relaxed);
  if (t->pinned && home) {
    home->push_inbox(t);
  } else if (!foreign) {
    w->push_local(t, kind);
  } else {
    t->next = nullptr;
    global_push_list(t);
    idle.notify_work();
  }
  if (foreign) foreign_enqueues_.fetch_sub(1, std::memory_order_release);
}

void runtime_impl::init_context(tcb* t) noexcept {
  // The metrics record takes the stack's highest bytes, in the page every
  // thread touches (core/run_stats.hpp); the frames start below it.
  char* rec = t->stk_lo + t->stk_size - run_stats_reserve;
#ifdef WEFT_ASAN
  t->san.stack_lo = t->stk_lo;
  t->san.stack_size = t->stk_size;
  // A pooled stack still carries the shadow of the frames its last thread
  // abandoned when it switched away for good: clear it before the first
  // write (context_make's), or ASan reports it (a false stack-use-after-scope;
  // the dying thread's switch_to keeps a local near the top, base/eh_state.hpp).
  __asan_unpoison_memory_region(t->stk_lo, t->stk_size);
#endif
  context_make(t->ctx, rec, t->stk_size - run_stats_reserve, &thread_entry, t);
#ifdef WEFT_TSAN
  t->san.fiber = __tsan_create_fiber(0);
#endif
  run_stats* r = ::new (rec) run_stats();
  r->since.store(t->created_ticks, std::memory_order_relaxed);  // ready since it arrived
  r->predicted.store(first_prediction(t), std::memory_order_relaxed);
  t->stats.store(r, std::memory_order_release);  // snapshots may read it from now on
}

void runtime_impl::first_run(worker& w, tcb* t) noexcept {
  t->stats.load(std::memory_order_relaxed)->first_run.store(w.burst_start() | 1, std::memory_order_relaxed);
}

void runtime_impl::fail_start(worker&, tcb* t) noexcept {
  try {
    throw error(errc::resource_exhausted,
                thread_label(t) + ": no stack could be mapped (memory or vm.max_map_count exhausted)");
  } catch (...) {
    t->task()->error = std::current_exception();
  }
  finish(t);
  release(t);
}

void runtime_impl::finish(tcb* t) noexcept {
  destroy_locals(t);
  unlink_stop_from_parent(t);
  // The metrics outlive the stack, which retire() gives back: move them to
  // a pooled block, with the last burst ending now (the switch away will
  // charge only the worker). Without memory for the block they read as zero.
  std::uint64_t now = ticks();
  worker* w = current_worker();
  if (w && &w->rt != this) w = nullptr;
  run_stats* live = t->stats.load(std::memory_order_relaxed);
  unsigned cls = tcb_depot::class_of(sizeof(run_stats), alignof(run_stats));
  void* mem = w ? w->tcbs_.take(cls) : tcbs.take(cls);
  run_stats* rec = mem ? ::new (mem) run_stats() : nullptr;
  if (rec) {
    if (live) {
      if (w && w->current == t) live->end_burst(w->burst_start(), now, w->alpha_q16_);
      rec->copy_from(*live);
    } else {  // never ran (no stack could be had): it waited from arrival to now
      rec->since.store(now, std::memory_order_relaxed);
      rec->ready.store(now > t->created_ticks ? now - t->created_ticks : 0, std::memory_order_relaxed);
      rec->predicted.store(first_prediction(t), std::memory_order_relaxed);
    }
    rec->completion.store(now | 1, std::memory_order_relaxed);
  }
  if (w) w->count_completed();
  {
    // Children, live or finished, pass to the root before anyone can see t
    // terminated: whoever joins t then finds them re-parented. t cannot gain
    // children meanwhile, only a running thread spawns its own.
    std::lock_guard lk(family_lock_);
    t->stats.store(rec, std::memory_order_release);  // no snapshot reads the stack's record after this
    if (root_ == t) root_ = nullptr;
    tcb* heir = root_;
    while (tcb* c = t->first_child) {
      unlink_child(c);
      link_child(heir, c);
    }
  }
  wait_queue& jq = join_queue(t);
  wq_lock(jq);
  t->state.store(st(thread_state::terminated), std::memory_order_release);
  bool detached = t->detached;
  wq_unlock(jq);
  {
    // After `terminated`: a parent in join_any that wakes must find t ended.
    std::lock_guard lk(family_lock_);
    if (!t->reaped) wake_join_any(t->parent);
  }
  wake_all_matching(jq, t);
  if (detached && ended_with_error(t)) report_unobserved(t);
  if (((life_.fetch_sub(1, std::memory_order_acq_rel) - 1) & ~stopped_bit) == 0) {
    std::lock_guard lk(life_mu_);
    life_cv_.notify_all();
  }
}

void runtime_impl::retire(worker& w, tcb* t) noexcept {
  w.stacks_.give(t->stk());
  t->set_stk({});
#ifdef WEFT_TSAN
  __tsan_destroy_fiber(t->san.fiber);
  t->san.fiber = nullptr;
#endif
  release(t);
}

void runtime_impl::abandon(tcb* t) noexcept {
  free_tcb(t, false);
  if (((life_.fetch_sub(1, std::memory_order_acq_rel) - 1) & ~stopped_bit) == 0) {
    std::lock_guard lk(life_mu_);
    life_cv_.notify_all();
  }
}

void runtime_impl::release(tcb* t) noexcept {
  if (t->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) free_tcb(t, true);
}

void runtime_impl::free_tcb(tcb* t, bool has_task) noexcept {
  {
    std::lock_guard lk(family_lock_);
    // A thread is freed only after it finished, so its children have moved on.
    unlink_child(t);
  }
  if (has_task) t->task()->~task_base();
  delete t->ext.load(std::memory_order_relaxed);
  // A freed thread has finished (its record is finish()'s pooled block) or
  // never ran (none).
  if (run_stats* r = t->stats.load(std::memory_order_relaxed)) {
    r->~run_stats();
    unsigned cls = tcb_depot::class_of(sizeof(run_stats), alignof(run_stats));
    worker* here = current_worker();
    if (here && &here->rt == this) here->tcbs_.give(cls, r);
    else tcbs.give(cls, r);
  }
  free_memory(t);
}

void runtime_impl::free_memory(tcb* t) noexcept {
  std::size_t align = t->alloc_align();
  unsigned cls = t->pool_class();
  t->~tcb();
  if (!cls) {
    ::operator delete(static_cast<void*>(t), std::align_val_t{align});
    return;
  }
  worker* here = current_worker();
  if (here && &here->rt == this) here->tcbs_.give(cls, t);
  else tcbs.give(cls, t);
}

// ---------------------------------------------------------------- family

void runtime_impl::link_child(tcb* parent, tcb* child) noexcept {
  child->parent = parent;
  tcb*& head = child_head(parent);
  child->sib_prev = nullptr;
  child->sib_next = head;
  if (head) head->sib_prev = child;
  head = child;
}

void runtime_impl::unlink_child(tcb* child) noexcept {
  if (child->sib_prev) child->sib_prev->sib_next = child->sib_next;
  else child_head(child->parent) = child->sib_next;
  if (child->sib_next) child->sib_next->sib_prev = child->sib_prev;
  child->sib_prev = child->sib_next = nullptr;
}

void runtime_impl::wake_join_any(tcb* parent) noexcept {
  // Few threads ever wait in join_any, so one shared queue filtered by
  // parent costs less than a queue in every TCB.
  wake_all_matching(join_any_q_, parent);
}

void runtime_impl::reap(tcb* t) noexcept {
  std::lock_guard lk(family_lock_);
  t->reaped = true;
}

std::size_t runtime_impl::free_unjoined() {
  std::vector<tcb*> left;
  {
    std::lock_guard lk(family_lock_);
    walk([&](tcb* t) { left.push_back(t); });
  }
  for (tcb* t : left)
    if (ended_with_error(t)) report_unobserved(t);
  // Children first (the reverse of a pre-order walk): a TCB is unlinked
  // from a parent that is still there.
  for (auto it = left.rbegin(); it != left.rend(); ++it) free_tcb(*it, true);
  return left.size();
}

thread_id runtime_impl::join_any(tcb* self) {
  for (;;) {
    std::unique_lock lk(family_lock_);
    bool any = false;
    for (tcb* c = child_head(self); c; c = c->sib_next) {
      if (c->reaped) continue;
      any = true;
      if (c->load_state() == thread_state::terminated) {
        c->reaped = true;
        return c->id;
      }
    }
    if (!any) throw error(errc::no_child, "join_any: the calling thread has no child left to wait for");
    waiter w = make_waiter();
    w.data = self;
    wq_lock(join_any_q_);
    wq_push(join_any_q_, w);
    lk.unlock();
    if (park_cancellable(join_any_q_, w, -1, wait_reason::join_any) == wake_status::canceled)
      throw error(errc::canceled, "join_any: stop was requested on the calling thread");
  }
}

// ---------------------------------------------------------------- queues

void runtime_impl::global_push_list(tcb* head) noexcept {
  tcb* tail = head;
  std::size_t n = 1;
  while (tail->next) {
    tail = tail->next;
    ++n;
  }
  std::lock_guard lk(global_mu_);
  if (global_tail_) global_tail_->next = head;
  else global_head_ = head;
  global_tail_ = tail;
  global_size_.fetch_add(n, std::memory_order_release);
}

tcb* runtime_impl::global_pop_into(worker& w) noexcept {
  if (!global_nonempty()) return nullptr;
  std::lock_guard lk(global_mu_);
  std::size_t size = global_size_.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  // Take a fair share (Go's globrunqget): enough to keep this worker busy
  // without starving the others, capped at half a local ring.
  std::size_t want = std::min<std::size_t>(size / active_target() + 1, 128);
  tcb* first = global_head_;
  global_head_ = first->next;
  std::size_t taken = 1;
  while (taken < want && global_head_) {
    tcb* t = global_head_;
    // Read before the push: a queue may link its threads through `next`
    // too (the priority policy's lists), so after it the field is the queue's.
    tcb* after = t->next;
    if (!w.runq->push(t, enqueue_kind::spawned)) break;  // local ring full: leave the rest
    global_head_ = after;
    ++taken;
  }
  if (!global_head_) global_tail_ = nullptr;
  global_size_.fetch_sub(taken, std::memory_order_release);
  first->next = nullptr;
  return first;
}

// ---------------------------------------------------------------- registry

template <class Visit>
void runtime_impl::walk(Visit visit) const {
  // Pre-order walk of the family tree without recursion (a million threads
  // may be one level deep or a million deep).
  tcb* node = vroot_first_child_;
  while (node) {
    visit(node);
    if (node->first_child) {
      node = node->first_child;
      continue;
    }
    while (node && !node->sib_next) node = node->parent;
    if (node) node = node->sib_next;
  }
}

std::chrono::system_clock::time_point runtime_impl::wall_at(std::uint64_t tick, double ns) const noexcept {
  auto wall = wall0_ns_ + static_cast<std::int64_t>(static_cast<double>(static_cast<std::int64_t>(tick - ticks0_)) * ns);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(wall)));
}

void runtime_impl::fill_info(thread_info& i, tcb* t, std::uint64_t now, double ns) const {
  auto dur = [ns](std::uint64_t dt) {
    return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(dt) * ns));
  };
  auto after = [](std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; };  // clamped a - b
  i.id = t->id;
  i.name = t->name_or_empty();
  i.state = t->load_state();
  i.priority = t->priority;
  i.parent = t->parent ? t->parent->id : 0;
  for (tcb* c = t->first_child; c; c = c->sib_next)
    if (!c->reaped) i.children.push_back(c->id);
  std::uint64_t arrival = t->created_ticks;
  i.created_at = wall_at(arrival, ns);
  worker* h = t->last_worker.load(std::memory_order_relaxed);
  i.effective_priority = h ? h->runq->effective_priority(*t, now_ns()) : t->priority;
  std::uint64_t run = 0, ready = 0, blocked = 0;
  // Swapped only under the family lock, which the caller holds (tcb.hpp).
  if (const run_stats* r = t->stats.load(std::memory_order_acquire)) {
    run = r->run.load(std::memory_order_relaxed);
    ready = r->ready.load(std::memory_order_relaxed);
    blocked = r->blocked.load(std::memory_order_relaxed);
    std::uint64_t since = r->since.load(std::memory_order_relaxed);
    std::uint64_t first = r->first_run.load(std::memory_order_relaxed);
    std::uint64_t done = r->completion.load(std::memory_order_relaxed);
    if (done == 0) {
      // Add the span in progress. A thread seen mid-switch may be off by
      // that switch; the clamps keep every figure sane.
      switch (i.state) {
        case thread_state::running: {
          std::uint64_t start = h ? h->burst_start() : now;
          ready += after(start, since);
          run += after(now, start);
          break;
        }
        case thread_state::blocked:
        case thread_state::suspended_blocked: blocked += after(now, since); break;
        default: ready += after(now, since); break;
      }
    }
    i.has_run = first != 0;
    if (i.has_run) {
      i.first_run_at = wall_at(first, ns);
      i.response = dur(after(first, arrival));
    }
    if (done != 0) {
      i.completed_at = wall_at(done, ns);
      i.turnaround = dur(after(done, arrival));
    }
    i.bursts = r->bursts.load(std::memory_order_relaxed);
    i.last_burst = dur(r->last_burst.load(std::memory_order_relaxed));
    i.predicted_burst = dur(r->predicted.load(std::memory_order_relaxed));
    i.switches = r->switches.load(std::memory_order_relaxed);
    i.preemptions = r->preemptions.load(std::memory_order_relaxed);
  } else {
    // Never ran: it has waited ready since it arrived (or, after running out
    // of memory at its end, nothing is known).
    if (i.state != thread_state::terminated) ready = after(now, arrival);
    i.predicted_burst = dur(first_prediction(t));
  }
  i.run_time = dur(run);
  i.ready_time = dur(ready);
  i.blocked_time = dur(blocked);
  i.waiting_for = i.state == thread_state::blocked || i.state == thread_state::suspended_blocked
                      ? t->reason.load(std::memory_order_relaxed)
                      : wait_reason::none;
  // home is set at spawn; a thread that never ran has no worker yet.
  i.worker = h && (i.has_run || i.state == thread_state::running) ? static_cast<int>(h->index) : -1;
  i.pinned = t->pinned;
}

std::vector<thread_info> runtime_impl::snapshot() const {
  std::vector<thread_info> out;
  double ns = ns_per_tick();
  std::lock_guard fl(family_lock_);
  std::uint64_t now = ticks();
  walk([&](tcb* t) {
    thread_info i;
    fill_info(i, t, now, ns);
    out.push_back(std::move(i));
  });
  std::sort(out.begin(), out.end(), [](const thread_info& a, const thread_info& b) { return a.id < b.id; });
  return out;
}

thread_info runtime_impl::info_of(tcb* t) const {
  thread_info i;
  double ns = ns_per_tick();
  std::lock_guard fl(family_lock_);
  fill_info(i, t, ticks(), ns);
  return i;
}

bool runtime_impl::running_on(unsigned index, std::uint64_t burst, thread_id& id, std::string& name) const {
  const worker* w = workers_[index].get();
  bool found = false;
  std::lock_guard fl(family_lock_);  // no TCB is freed while it is held
  walk([&](tcb* t) {
    if (found || t->last_worker.load(std::memory_order_relaxed) != w ||
        state_of(t->state.load(std::memory_order_acquire)) != thread_state::running)
      return;
    id = t->id;
    name = t->name_or_empty();
    found = true;
  });
  return found && w->burst_start() == burst;
}

runtime_stats runtime_impl::stats() const {
  runtime_stats s;
  double ns = ns_per_tick();
  std::uint64_t now = ticks();
  s.uptime = std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(now - ticks0_) * ns));
  double up = static_cast<double>(s.uptime.count());
  unsigned nw = worker_count();
  s.workers.reserve(nw);
  for (unsigned i = 0; i < nw; ++i) {
    const worker* w = workers_[i].get();
    worker_stats ws;
    ws.index = w->index;
    std::uint64_t busy = w->busy_ticks_.load(std::memory_order_relaxed);
    std::uint64_t start = w->burst_start();
    if ((start & 1) && now > start) busy += now - start;  // a burst in progress (worker.hpp)
    ws.busy = std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(busy) * ns));
    ws.utilisation = up > 0 ? std::clamp(static_cast<double>(ws.busy.count()) / up, 0.0, 1.0) : 0.0;
    ws.switches = w->switches_.load(std::memory_order_relaxed);
    ws.completed = w->completed_.load(std::memory_order_relaxed);
    s.switches += ws.switches;
    s.completed += ws.completed;
    s.utilisation += ws.utilisation;
    s.workers.push_back(ws);
  }
  if (!s.workers.empty()) s.utilisation /= static_cast<double>(s.workers.size());
  s.completed_per_second = up > 0 ? static_cast<double>(s.completed) * 1e9 / up : 0.0;
  s.handoffs = handoffs();
  return s;
}

tcb* runtime_impl::find_and_ref(thread_id id) {
  tcb* found = nullptr;
  {
    std::lock_guard fl(family_lock_);
    walk([&](tcb* t) {
      if (found || t->id != id) return;
      // A linked TCB has at least one reference unless it is being freed.
      std::uint32_t r = t->refs.load(std::memory_order_relaxed);
      while (r != 0 && !t->refs.compare_exchange_weak(r, r + 1, std::memory_order_acq_rel)) {
      }
      if (r != 0) found = t;
    });
  }
  if (!found) throw error(errc::no_such_thread, "no live green thread has id " + std::to_string(id));
  return found;
}

std::vector<tcb*> runtime_impl::ref_all() {
  std::vector<tcb*> out;
  std::lock_guard fl(family_lock_);
  walk([&](tcb* t) {
    std::uint32_t r = t->refs.load(std::memory_order_relaxed);
    while (r != 0 && !t->refs.compare_exchange_weak(r, r + 1, std::memory_order_acq_rel)) {
    }
    if (r != 0) out.push_back(t);  // zero: being freed
  });
  return out;
}

runtime_impl* runtime_for_caller() noexcept {
  if (worker* w = current_worker()) return &w->rt;
  std::lock_guard lk(g_runtimes_mu);
  return g_runtimes.size() == 1 ? g_runtimes[0] : nullptr;
}

}  // namespace weft::detail
