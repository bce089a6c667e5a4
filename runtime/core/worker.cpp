// The worker loop and the switch paths.
//
// Glossary: a *worker* is a kernel thread; a *green thread* is a TCB plus a
// stack; the worker's own stack runs the *scheduler context*, which finds
// work, steals and sleeps.
//
// Switching. A thread that yields, parks or exits picks its successor itself
// (pick_local: pinned inbox, local queue, and the global queue every 64th
// time so it cannot starve) and switches straight to it: one context switch
// per hand-over, not two through the scheduler context. Only when nothing is
// runnable locally does it switch to the scheduler context, which steals
// from other workers or goes to sleep.
//
// The post-switch action. A thread cannot publish "I am ready" or "I am
// blocked" (or release its wait queue's lock) before its registers are
// saved, or another worker could resume it half-saved. So the switch carries
// a post_action that the *next* context runs first thing (after_switch), on
// the same worker, once the old context is complete. Boost.Fiber and Go
// (gopark's unlockf) do the same.
//
// Migration. A green thread may resume on another worker than it left, so
// nothing here may keep `this` across context_switch: code after a switch
// re-reads current_worker(), a non-inlined accessor with a compiler barrier
// that the optimizer cannot fold across calls (the LLVM 98479 trap).
//
// Idling, after Go's proc.go. A worker that finds nothing locally becomes a
// *spinner* (at most half the busy workers spin at once), tries to steal for
// a few rounds, then publishes itself as idle, drops spinning, issues a full
// fence and re-checks every queue before sleeping in its I/O engine
// (core/poller.hpp; the io layer's engine: io_uring_enter or epoll_wait). A submitter pushes work,
// issues a full fence, and wakes one idle worker only if no worker is
// spinning (notify: wake_word, then the engine's eventfd). One of the two
// fences always sees the other's write, so a queued thread is never left
// while every worker sleeps. I/O completions need no fence: the kernel
// posts them where the sleeping worker waits, so its wait returns at once,
// and a busy worker polls its engine in find_runnable, while spinning, and
// every few picks on the switch path (with the timers). A woken
// worker starts as a spinner; when the last spinner finds work it wakes
// another, which spreads a burst over all workers without a broadcast.
#include "core/worker.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <pthread.h>
#include <sched.h>

#include "base/clock.hpp"
#include "base/futex.hpp"
#include "stack/overflow.hpp"
#include "policy/fifo.hpp"
#include "core/runtime_impl.hpp"
#include "core/tcb.hpp"
#include "weft/this_thread.hpp"

namespace weft::detail {

__attribute__((always_inline)) inline bool worker::push_yielded(tcb* t) noexcept {
  return fifo_ && fifo_->push(t, enqueue_kind::yielded);
}

namespace {

thread_local worker* tl_worker = nullptr;

// Periodic chores of the switch path run every 16th pick: due timers and
// I/O completions (a clock read and a ring check per switch would double the
// cost of a yield), and every 4th round (64 picks) the global queue is looked
// at before the local one, so local ping-pong cannot starve it (Go does the
// same every 61 picks). A countdown, not a modulo: fewer instructions.
constexpr std::uint32_t chore_period = 16;
constexpr std::uint32_t global_first_rounds = 4;
// How long a spinner keeps looking for work before it sleeps. A futex
// wake-up costs a few microseconds on both sides, so a worker that drains
// its queue while another keeps spawning would otherwise sleep and be woken
// once per spawn burst. 50 us is ~10 futex round trips: long enough to ride
// out a producer's gaps, short enough that an idle runtime burns nothing
// measurable (it spins once after each burst, then sleeps). Between rounds
// the spinner yields its core: when there are more runnable kernel threads
// than cores (a worker just woken by futex, or another process), a spinner
// that kept the core would delay exactly the thread that has the work
// (measured: a cross-worker wake took the whole 50 us without the yield).
constexpr std::int64_t spin_ns = 50000;

// A yielding thread goes back to the run queue once it is saved. after_switch
// recognizes this action and inlines it: it is half of every yield.
__attribute__((always_inline)) inline void requeue(worker& w, tcb* prev) {
  if (prev->suspend_req.load(std::memory_order_acquire) && take_out_suspended(prev)) return;
  prev->state.store(st(thread_state::ready), std::memory_order_release);
  if (!w.push_yielded(prev)) w.push_local(prev, enqueue_kind::yielded);
}

void post_requeue(worker& w, tcb* prev, void*) { requeue(w, prev); }

void post_exit(worker& w, tcb* prev, void*) { w.rt.retire(w, prev); }

}  // namespace

__attribute__((noinline)) worker* current_worker() noexcept {
  asm volatile("" ::: "memory");
  return tl_worker;
}

__attribute__((noinline)) tcb* current_tcb() noexcept {
  asm volatile("" ::: "memory");
  worker* w = tl_worker;
  return w ? w->current : nullptr;
}

worker::worker(runtime_impl& s, unsigned i) : rt(s), index(i), runq(s.parts.make_policy(s.opts)), stacks_(s.stacks), tcbs_(s.tcbs) {
  fifo_ = dynamic_cast<fifo_policy*>(runq.get());
  fired_.reserve(64);
  driver = s.parts.make_poller(*this);
}

worker::~worker() = default;

void worker::start() {
  thread_ = std::thread([this] { main(); });
}

void worker::join_thread() {
  if (thread_.joinable()) thread_.join();
}

void worker::main() {
  tl_worker = this;
  driver->start();
  overflow_guard_thread_init();
  char name[16];
  std::snprintf(name, sizeof name, "weft-w%u", index);
  pthread_setname_np(pthread_self(), name);
#ifdef WEFT_ASAN
  pthread_attr_t attr;
  pthread_getattr_np(pthread_self(), &attr);
  void* lo;
  std::size_t sz;
  pthread_attr_getstack(&attr, &lo, &sz);
  pthread_attr_destroy(&attr);
  sched_san_.stack_lo = lo;
  sched_san_.stack_size = sz;
#endif
#ifdef WEFT_TSAN
  sched_san_.fiber = __tsan_get_current_fiber();
#endif
  slice_start_.store(coarse_ns(), std::memory_order_relaxed);
  while (tcb* t = find_runnable()) {
    // The scheduler context never migrates: it is this kernel thread's own stack.
    switch_to(nullptr, t, false)->after_switch();
  }
  if (spinning) {
    spinning = false;
    rt.nspinning.fetch_sub(1);
  }
  overflow_guard_thread_fini();
  tl_worker = nullptr;
}

__attribute__((always_inline)) inline void worker::run_post() noexcept {
  san_after_switch(current ? current->san : sched_san_);
  post_action p = post_;
  if (!p.fn) return;
  post_.fn = nullptr;
  if (p.fn == &post_requeue) requeue(*this, p.prev);
  else p.fn(*this, p.prev, p.arg);
}

void worker::after_switch() noexcept { run_post(); }

overflow_subject overflow_subject_of(const tcb* t) noexcept {
  return {t->stk_lo, t->stk_size, t->stk_guarded(), t->id, t->name_or_empty()};
}

bool describe_running_thread(overflow_subject& s) noexcept {
  worker* w = tl_worker;
  if (!w || !w->current) return false;
  s = overflow_subject_of(w->current);
  return true;
}

inline void worker::check_canary(tcb* t) noexcept {
  if (!t->stk_guarded() && t->stk_lo && !stack_pool::canary_intact(t->stk()))
    report_stack_overflow(overflow_subject_of(t));
}

__attribute__((always_inline)) inline worker* worker::switch_to(tcb* from, tcb* next, bool from_dying) noexcept {
  std::int64_t now = coarse_ns();
  if (from) {
    from->cpu_ns.store(from->cpu_ns.load(std::memory_order_relaxed) + (now - slice_start_.load(std::memory_order_relaxed)),
                          std::memory_order_relaxed);
    from->switches.store(from->switches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    check_canary(from);
  }
  slice_start_.store(now, std::memory_order_relaxed);
  current = next;
  context& from_ctx = from ? from->ctx : sched_ctx_;
  context& to_ctx = next ? next->ctx : sched_ctx_;
  san_before_switch(from ? from->san : sched_san_, next ? next->san : sched_san_, from_dying);
  // `this` is stale once this returns: the caller continues on the worker
  // that resumed it, which the switch hands back.
  return static_cast<worker*>(context_switch(from_ctx, to_ctx, this));
}

void worker::switch_out(post_action post, bool allow_timers) {
  tcb* cur = current;
  tcb* next = pick_local(allow_timers);
  post.prev = cur;
  post_ = post;
  switch_to(cur, next, false)->run_post();
}

__attribute__((always_inline)) inline void worker::yield() {
  tcb* cur = current;
  if (cur->suspend_req.load(std::memory_order_relaxed)) {
    // suspend() of the running thread takes effect now, even with nothing else to run.
    switch_out({&post_requeue, nullptr, nullptr}, true);
    return;
  }
  tcb* next = pick_local(true);
  if (!next) return;  // alone on this worker: keep running
  post_ = {&post_requeue, cur, nullptr};
  switch_to(cur, next, false)->run_post();
}

}  // namespace weft::detail

// this_thread::yield lives here rather than in api.cpp so that the whole
// yield path (pick, switch, requeue) compiles into this one function.
void weft::this_thread::yield() noexcept {
  // Read once, before the switch; nothing after it uses it.
  weft::detail::worker* w = weft::detail::tl_worker;
  if (w && w->current) w->yield();
  else std::this_thread::yield();
}

namespace weft::detail {

void worker::exit_current() {
  tcb* cur = current;
  tcb* next = pick_local(true);
  post_ = {&post_exit, cur, nullptr};
  switch_to(cur, next, true);
  __builtin_unreachable();
}

void worker::push_local(tcb* t, enqueue_kind kind) noexcept {
  // From the scheduler context with an empty queue (a thread readied by this
  // worker's own poll or timers), this worker runs t next: waking another
  // would only make it spin and sleep again, which at one connection doubled
  // the CPU of every round trip. A second thread, or one readied while a
  // green thread runs, is worth a helper.
  bool busy = kind != enqueue_kind::yielded && (current != nullptr || !(fifo_ ? fifo_->empty() : runq->empty()));
  while (!(fifo_ ? fifo_->push(t, kind) : runq->push(t, kind))) {
    // Full: move half to the global queue, where idle workers find it.
    if (tcb* batch = runq->spill()) rt.global_push_list(batch);
  }
  if (busy) rt.wake_idle_if_needed();
}

void worker::push_inbox(tcb* t) noexcept {
  t->next = nullptr;
  inbox_lock_.lock();
  if (inbox_tail_) inbox_tail_->next = t;
  else inbox_head_ = t;
  inbox_tail_ = t;
  inbox_nonempty_.store(true, std::memory_order_seq_cst);
  inbox_lock_.unlock();
  if (current_worker() != this) notify();
}

void worker::notify() noexcept {
  if (wake_word.exchange(1, std::memory_order_seq_cst) == 0 && sleeping.load(std::memory_order_seq_cst))
    driver->wake();
}

void worker::sleep_until(std::int64_t deadline) noexcept {
  sleeping.store(true, std::memory_order_seq_cst);
  while (wake_word.exchange(0, std::memory_order_seq_cst) == 0) {
    if (deadline >= 0 && now_ns() >= deadline) break;
    if (driver->wait(deadline)) break;  // completions made threads ready
  }
  sleeping.store(false, std::memory_order_relaxed);
}

void worker::run_timers() noexcept {
  std::int64_t next = timers.next_deadline();
  if (next < 0) return;
  std::int64_t now = now_ns();
  if (next > now) return;
  fired_.clear();
  timers.fire(now, fired_);
  for (tcb* t : fired_) rt.make_ready(t);
}

__attribute__((always_inline)) inline bool worker::prepare(tcb* t) noexcept {
  if (__builtin_expect(state_of(t->state.load(std::memory_order_relaxed)) != thread_state::ready ||
                           t->suspend_req.load(std::memory_order_acquire) || !t->stk_lo,
                       0))
    return prepare_slow(t);
  // Nobody else writes the state of a thread we dequeued. A pinned thread
  // reaches here only on its home worker (or before its first run).
  t->state.store(st(thread_state::running), std::memory_order_relaxed);
  t->last_worker.store(this, std::memory_order_relaxed);
  return true;
}

__attribute__((noinline)) bool worker::prepare_slow(tcb* t) noexcept {
  if (state_of(t->state.load(std::memory_order_relaxed)) != thread_state::ready) {
    std::fprintf(stderr, "weft: internal error: thread %llu dequeued in state %s\n",
                 static_cast<unsigned long long>(t->id), to_string(state_of(t->state.load())));
    std::abort();
  }
  if (t->suspend_req.load(std::memory_order_acquire) && take_out_suspended(t)) return false;
  t->state.store(st(thread_state::running), std::memory_order_relaxed);
  if (!t->pinned || !t->last_worker.load(std::memory_order_relaxed)) t->last_worker.store(this, std::memory_order_relaxed);
  if (!t->stk_lo) {
    t->set_stk(stacks_.take(t->stk_size));
    if (!t->stk_lo) {
      rt.fail_start(*this, t);
      return false;
    }
    rt.init_context(t);
  }
  return true;
}

tcb* worker::pop_inbox() noexcept {
  inbox_lock_.lock();
  tcb* t = inbox_head_;
  if (t) {
    inbox_head_ = t->next;
    if (!inbox_head_) {
      inbox_tail_ = nullptr;
      inbox_nonempty_.store(false, std::memory_order_relaxed);
    }
  }
  inbox_lock_.unlock();
  return t;
}

// The common case inline: no chores due, no pinned arrivals, the local ring
// has a thread that can run as it is. Everything else is pick_slow's.
__attribute__((always_inline)) inline tcb* worker::pick_local(bool allow_timers) noexcept {
  if (__builtin_expect(--chores_ == 0 || inbox_nonempty_.load(std::memory_order_relaxed), 0))
    return pick_slow(allow_timers, nullptr);
  tcb* t = fifo_ ? fifo_->pop() : runq->pop();
  if (__builtin_expect(t != nullptr && !t->pinned, 1)) {
    if (prepare(t)) return t;
    t = nullptr;  // prepare disposed of it (suspended, or no stack)
  }
  return pick_slow(allow_timers, t);
}

// `first`: a pinned thread the fast path dequeued, or null.
__attribute__((noinline)) tcb* worker::pick_slow(bool allow_timers, tcb* first) noexcept {
  bool global_first = false;
  if (chores_ == 0) {
    chores_ = chore_period;
    if (allow_timers) {
      run_timers();
      driver->poll();  // not on the park path: the parking thread's own CQE must wait until it is parked
    }
    global_first = ++chore_rounds_ % global_first_rounds == 0;
  }
  for (tcb* t = first; ; t = nullptr) {
    if (!t && inbox_nonempty_.load(std::memory_order_relaxed)) t = pop_inbox();
    if (!t && global_first) t = rt.global_pop_into(*this);
    if (!t) t = fifo_ ? fifo_->pop() : runq->pop();
    if (!t) t = rt.global_pop_into(*this);
    if (!t) return nullptr;
    if (t->pinned) {
      worker* home = t->last_worker.load(std::memory_order_relaxed);
      if (home && home != this) {
        home->push_inbox(t);
        continue;
      }
    }
    if (prepare(t)) return t;
  }
}

tcb* worker::steal_work() noexcept {
  std::size_t n = rt.worker_count();
  std::size_t start = static_cast<std::size_t>(ticks() % n);
  for (std::size_t i = 0; i < n; ++i) {
    worker* v = &rt.worker_at(static_cast<unsigned>((start + i) % n));
    if (v == this || v->runq->empty()) continue;
    while (tcb* t = v->runq->steal_into(*runq)) {
      if (t->pinned && t->last_worker.load(std::memory_order_relaxed) && t->last_worker.load(std::memory_order_relaxed) != this) {
        t->last_worker.load(std::memory_order_relaxed)->push_inbox(t);
        continue;
      }
      if (prepare(t)) return t;
      if (tcb* u = pick_local(false)) return u;
    }
  }
  return nullptr;
}

tcb* worker::find_runnable() {
  for (;;) {
    if (handed_spinning.exchange(false, std::memory_order_acq_rel)) spinning = true;
    if (rt.stopped()) return nullptr;
    run_timers();
    driver->poll();
    tcb* t = pick_local(false);
    if (!t) {
      int busy = static_cast<int>(rt.worker_count()) - rt.nidle.load(std::memory_order_relaxed);
      if (!spinning && 2 * rt.nspinning.load(std::memory_order_relaxed) < busy) {
        spinning = true;
        rt.nspinning.fetch_add(1);
      }
      if (spinning) {
        std::int64_t until = now_ns() + spin_ns;
        while (!(t = steal_work()) && !(t = pick_local(false)) && !rt.stopped()) {
          driver->poll();
          if (now_ns() >= until) break;
          sched_yield();
        }
      }
    }
    if (t) {
      if (spinning) {
        spinning = false;
        // The last spinner hands spinning on (Go's rule), even when nothing
        // else is visible yet: the woken worker's kernel wake-up overlaps
        // with the work just found, so the next cross-worker hand-over finds
        // a spinner instead of a sleeper. Waking only when more work was
        // visible made a cross-worker ping-pong wait for a real kernel wake
        // on every hand-over: 25 us became 640 us on this loaded machine.
        if (rt.nspinning.fetch_sub(1) == 1) rt.wake_idle_if_needed();
      }
      return t;
    }
    // Go idle: publish, drop spinning, fence, re-check, sleep.
    rt.push_idle(this);
    if (spinning) {
      spinning = false;
      rt.nspinning.fetch_sub(1);
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (rt.work_visible(*this) || driver->has_completions() || rt.stopped()) {
      rt.remove_idle(this);
      continue;
    }
    sleep_until(timers.next_deadline());
    rt.remove_idle(this);
  }
}

}  // namespace weft::detail
