// The worker's scheduling paths, written once over the runtime's policy Q.
//
// Glossary: a *worker* is a kernel thread; a *green thread* is a TCB plus a
// stack; the worker's own stack runs the *scheduler context*, which finds
// work, steals and sleeps.
//
// Why a template. The yield path is a few loads and stores between two
// register switches; a virtual call into the policy for every pop and push
// cost more than the FIFO ring itself. So these paths are instantiated per
// policy (each policy's .cpp names worker_loop<itself>::ops, see
// core/policy.hpp) with Q's operations inlined, and the worker reaches them
// through one table (worker::ops_): a single predicted indirect call per
// yield, park or exit. Every worker of a runtime has the same policy type,
// which is what makes queue_of() below sound.
//
// Switching. A thread that yields, parks or exits picks its successor itself
// (pick_local: pinned inbox, local queue, and the global queue every 64th
// time so it cannot starve) and switches straight to it: one context switch
// per hand-over, not two through the scheduler context. Only when nothing is
// runnable locally does it switch to the scheduler context, which steals
// from other workers or goes to sleep (core/idle.hpp, steps W1-W6).
//
// The post-switch action. A thread cannot publish "I am ready" or "I am
// blocked" (or release its wait queue's lock) before its registers are
// saved, or another worker could resume it half-saved. So the switch carries
// a post_action that the *next* context runs first thing (after_switch), on
// the same worker, once the old context is complete. Boost.Fiber and Go
// (gopark's unlockf) do the same.
//
// Migration. A green thread may resume on another worker than it left, so
// nothing here may keep a worker reference across context_switch: the
// switch hands back the worker that resumed the caller, and other code re-
// reads current_worker(), a non-inlined accessor with a compiler barrier
// that the optimizer cannot fold across calls (the LLVM 98479 trap).
#pragma once

#include <concepts>
#include <cstdint>

#include <sched.h>

#include "base/clock.hpp"
#include "base/sanitizer.hpp"
#include "context/context.hpp"
#include "core/idle.hpp"
#include "core/policy.hpp"
#include "core/runtime_impl.hpp"
#include "core/tcb.hpp"
#include "core/worker.hpp"

namespace weft::detail {

// What worker_loop needs of a policy beyond the virtual interface: its queue
// operations as non-virtual members of a final class, so they inline.
template <class Q>
concept loop_policy = std::derived_from<Q, policy> && std::is_final_v<Q> &&
                      requires(Q& q, tcb* t, enqueue_kind k) {
                        { q.push(t, k) } -> std::same_as<bool>;
                        { q.pop() } -> std::same_as<tcb*>;
                        { q.spill() } -> std::same_as<tcb*>;
                        { q.steal_into(q) } -> std::same_as<tcb*>;
                        { q.empty() } -> std::same_as<bool>;
                      };

// Periodic chores of the switch path run every 16th pick: due timers and
// I/O completions (a clock read and a ring check per switch would double the
// cost of a yield), and every 4th round (64 picks) the global queue is looked
// at before the local one, so local ping-pong cannot starve it (Go does the
// same every 61 picks). A countdown, not a modulo: fewer instructions.
inline constexpr std::uint32_t chore_period = 16;
inline constexpr std::uint32_t global_first_rounds = 4;
// How long a spinner keeps looking for work before it sleeps (idle.hpp W1).
// 50 us is ~10 futex round trips: long enough to ride out a producer's gaps,
// short enough that an idle runtime burns nothing measurable (it spins once
// after each burst, then sleeps). Between rounds the spinner yields its
// core: when there are more runnable kernel threads than cores (a worker
// just woken, or another process), a spinner that kept the core would delay
// exactly the thread that has the work (measured: a cross-worker wake took
// the whole 50 us without the yield).
inline constexpr std::int64_t spin_ns = 50000;

template <class Q>
struct worker_loop {
  static_assert(loop_policy<Q>);

  // Every worker of the runtime holds a Q (one policy per runtime).
  static Q& queue_of(worker& w) noexcept { return static_cast<Q&>(*w.runq); }

  // ---------------------------------------------------------------- switch

  static void check_canary(tcb* t) noexcept {
    if (!t->stk_guarded() && t->stk_lo && !stack_pool::canary_intact(t->stk()))
      report_stack_overflow(overflow_subject_of(t));
  }

  // Ends the running thread's burst at `now` (its switch-out, a lone yield):
  // its run and ready time, burst count and prediction (core/run_stats.hpp),
  // and the worker's busy time. `now` becomes the next burst's start.
  __attribute__((always_inline)) static void end_burst(worker& w, tcb* t, std::uint64_t now) noexcept {
    std::uint64_t start = w.burst_start_.load(std::memory_order_relaxed);
    t->stats.load(std::memory_order_relaxed)->end_burst(start, now, w.alpha_q16_);
    run_stats::add(w.busy_ticks_, now - start);
  }

  // Switches from `from` (null: the scheduler context) to `next` (null: the
  // scheduler context); returns, once `from` runs again, the worker that
  // resumed it. `w` is stale after this returns. The one tick read of the
  // switch ends from's burst and starts next's. A dying thread's last burst
  // was charged by finish(), which moved its record off the stack.
  __attribute__((always_inline)) static worker* switch_to(worker& w, tcb* from, tcb* next, bool from_dying) noexcept {
    std::uint64_t now = ticks();
    if (from) {
      if (from_dying) {
        run_stats::add(w.busy_ticks_, now - w.burst_start_.load(std::memory_order_relaxed));
      } else {
        end_burst(w, from, now);
        run_stats::add(from->stats.load(std::memory_order_relaxed)->switches, 1);
      }
      run_stats::add(w.switches_, 1);
      check_canary(from);
    }
    w.mark_burst_start(now, next != nullptr);
    w.current = next;
    context& from_ctx = from ? from->ctx : w.sched_ctx_;
    context& to_ctx = next ? next->ctx : w.sched_ctx_;
    // The exceptions this context is handling stay with it (base/eh_state.hpp).
    // Saved before the sanitizer hook: for a dying thread that hook frees
    // ASan's fake stack, where this local may live.
    eh_state saved = *w.eh_;
    san_before_switch(from ? from->san : w.sched_san_, next ? next->san : w.sched_san_, from_dying);
    auto* resumed = static_cast<worker*>(context_switch(from_ctx, to_ctx, &w));
    *resumed->eh_ = saved;
    return resumed;
  }

  // A yielding thread goes back to the run queue once it is saved. run_post
  // recognizes this action and inlines it: it is half of every yield.
  __attribute__((always_inline)) static void requeue(worker& w, tcb* prev) noexcept {
    if (prev->suspend_req.load(std::memory_order_acquire) && take_out_suspended(prev)) return;
    prev->state.store(st(thread_state::ready), std::memory_order_release);
    if (!queue_of(w).push(prev, enqueue_kind::yielded)) push_local(w, prev, enqueue_kind::yielded);
  }
  static void post_requeue(worker& w, tcb* prev, void*) { requeue(w, prev); }
  static void post_exit(worker& w, tcb* prev, void*) { w.rt.retire(w, prev); }

  __attribute__((always_inline)) static void run_post(worker& w) noexcept {
    san_after_switch(w.current ? w.current->san : w.sched_san_);
    post_action p = w.post_;
    if (!p.fn) return;
    w.post_.fn = nullptr;
    if (p.fn == &post_requeue) requeue(w, p.prev);
    else p.fn(w, p.prev, p.arg);
  }
  static void after_switch(worker& w) { run_post(w); }

  // ---------------------------------------------------------------- pick

  // Claims t (ready -> running) and gives it a stack; false if t was
  // disposed of instead (suspended, or no stack).
  __attribute__((always_inline)) static bool prepare(worker& w, tcb* t) noexcept {
    if (__builtin_expect(state_of(t->state.load(std::memory_order_relaxed)) != thread_state::ready ||
                             t->suspend_req.load(std::memory_order_acquire) || !t->stk_lo,
                         0))
      return w.prepare_slow(t);
    // Nobody else writes the state of a thread we dequeued. A pinned thread
    // reaches here only on its own worker (or before its first run).
    t->state.store(st(thread_state::running), std::memory_order_relaxed);
    t->last_worker.store(&w, std::memory_order_relaxed);
    return true;
  }

  // The common case inline: no chores due, no pinned arrivals, the local
  // queue has a thread that can run as it is. Everything else is pick_slow's.
  __attribute__((always_inline)) static tcb* pick_local(worker& w, bool allow_timers) noexcept {
    if (__builtin_expect(--w.chores_ == 0 || w.inbox_has_work(), 0)) return pick_slow(w, allow_timers, nullptr);
    tcb* t = queue_of(w).pop();
    if (__builtin_expect(t != nullptr && !t->pinned, 1)) {
      if (prepare(w, t)) return t;
      t = nullptr;  // prepare disposed of it (suspended, or no stack)
    }
    return pick_slow(w, allow_timers, t);
  }

  // `first`: a pinned thread the fast path dequeued, or null.
  __attribute__((noinline)) static tcb* pick_slow(worker& w, bool allow_timers, tcb* first) noexcept {
    if (__builtin_expect(!w.active(), 0)) {
      // Handed off while its thread sat in a foreign call: stop picking; the
      // scheduler context's rest() passes the queue on.
      if (w.chores_ == 0) w.chores_ = chore_period;
      if (first) push_local(w, first, enqueue_kind::yielded);
      return nullptr;
    }
    bool global_first = false;
    if (w.chores_ == 0) {
      w.chores_ = chore_period;
      if (allow_timers) {
        w.run_timers();
        // Not on the park path: the parking thread's own CQE must wait until it is parked.
        w.driver->poll();
      }
      global_first = ++w.chore_rounds_ % global_first_rounds == 0;
    }
    for (tcb* t = first;; t = nullptr) {
      if (!t && w.inbox_has_work()) t = w.pop_inbox();
      if (!t && global_first) t = w.rt.global_pop_into(w);
      if (!t) t = queue_of(w).pop();
      if (!t) t = w.rt.global_pop_into(w);
      if (!t) return nullptr;
      if (send_pinned_home(w, t)) continue;
      if (prepare(w, t)) return t;
    }
  }

  // A pinned thread found on another worker's way goes to its own worker.
  static bool send_pinned_home(worker& w, tcb* t) noexcept {
    if (!t->pinned) return false;
    worker* own = t->last_worker.load(std::memory_order_relaxed);
    if (!own || own == &w) return false;
    own->push_inbox(t);
    return true;
  }

  static tcb* steal_work(worker& w) noexcept {
    runtime_impl& rt = w.rt;
    unsigned n = rt.worker_count();
    unsigned start = static_cast<unsigned>(ticks() % n);
    for (unsigned i = 0; i < n; ++i) {
      worker& v = rt.worker_at((start + i) % n);
      if (&v == &w || queue_of(v).empty()) continue;
      while (tcb* t = queue_of(v).steal_into(queue_of(w))) {
        if (send_pinned_home(w, t)) continue;
        if (prepare(w, t)) return t;
        if (tcb* u = pick_local(w, false)) return u;
      }
    }
    return nullptr;
  }

  // ---------------------------------------------------------------- entry points

  static void push_local(worker& w, tcb* t, enqueue_kind kind) noexcept {
    // From the scheduler context with an empty queue (a thread readied by
    // this worker's own poll or timers), this worker runs t next: waking
    // another would only make it spin and sleep again, which at one
    // connection doubled the CPU of every round trip. A second thread, or
    // one readied while a green thread runs, is worth a helper.
    Q& q = queue_of(w);
    bool busy = kind != enqueue_kind::yielded && (w.current != nullptr || !q.empty());
    while (!q.push(t, kind)) {
      // Full: move half to the global queue, where idle workers find it.
      if (tcb* batch = q.spill()) w.rt.global_push_list(batch);
    }
    if (busy) w.rt.idle.notify_work();
  }

  // The chores are due at the next pick, and the one making it is a parking
  // thread, which may not run them (its own timer or completion could ready
  // it before it is parked): are there any to run? Without this, threads
  // that only ever park (a channel ping-pong) starved every sleeper and
  // reader on their worker, since the chores ran only on yields.
  static bool chores_need_scheduler(worker& w) noexcept {
    std::int64_t due = w.timers.next_deadline();
    return (due >= 0 && due <= now_ns()) || w.driver->may_have_events();
  }

  static void switch_out(worker& w, post_action post, bool allow_timers) {
    tcb* cur = w.current;
    // Through the scheduler context, which runs the chores first, when they
    // are due and this thread may not run them: one extra switch per
    // chore_period parks, and only when there is something to do.
    tcb* next = !allow_timers && __builtin_expect(w.chores_ == 1, 0) && chores_need_scheduler(w)
                    ? nullptr
                    : pick_local(w, allow_timers);
    post.prev = cur;
    w.post_ = post;
    run_post(*switch_to(w, cur, next, false));
  }

  static void yield(worker& w) {
    tcb* cur = w.current;
    if (cur->suspend_req.load(std::memory_order_relaxed)) {
      // suspend() of the running thread takes effect now, even with nothing else to run.
      switch_out(w, {&post_requeue, nullptr, nullptr}, true);
      return;
    }
    tcb* next = pick_local(w, true);
    if (!next && __builtin_expect(!w.active(), 0)) {
      // Dormant (handed off): this thread goes back to a queue that the
      // active workers take from, and the worker rests.
      switch_out(w, {&post_requeue, nullptr, nullptr}, true);
      return;
    }
    if (!next) {
      // Alone on this worker: keep running. The yield still ends a burst
      // (k yields make k+1 bursts, switched or not).
      std::uint64_t now = ticks();
      end_burst(w, cur, now);
      w.mark_burst_start(now, true);
      return;
    }
    w.post_ = {&post_requeue, cur, nullptr};
    run_post(*switch_to(w, cur, next, false));
  }

  static void exit_current(worker& w) {
    tcb* cur = w.current;
    tcb* next = pick_local(w, true);
    w.post_ = {&post_exit, cur, nullptr};
    switch_to(w, cur, next, true);
    __builtin_unreachable();
  }

  // ---------------------------------------------------------------- scheduler context

  // A dormant worker's scheduler context (see worker::active): hands its
  // ready threads to the active workers through the global queue, serves
  // its own timers and I/O (their threads follow the same way) and sleeps
  // until activated. Threads pinned to it run here all the same: they may
  // run nowhere else. Null when active again or on shutdown.
  static tcb* rest(worker& w) {
    w.rt.idle.leave(w);  // not a spinner, and never on the idle list
    for (;;) {
      if (w.rt.stopped() || w.active()) return nullptr;
      w.run_timers();
      w.driver->poll();
      pass_queue_on(w);
      while (tcb* t = w.pop_inbox()) {
        if (!prepare(w, t)) continue;
        w.rt.idle.wake_watcher();  // it may stall like any other
        return t;
      }
      if (w.active()) return nullptr;
      idle_protocol::park(w, w.timers.next_deadline());
    }
  }

  // Moves every thread of w's run queue to the global queue, pinned ones to
  // their inboxes, and wakes an active worker for them.
  static void pass_queue_on(worker& w) noexcept {
    tcb* head = nullptr;
    tcb* tail = nullptr;
    while (tcb* t = queue_of(w).pop()) {
      if (send_pinned_home(w, t)) continue;
      if (t->pinned) {
        w.push_inbox(t);  // pinned here: rest() runs it
        continue;
      }
      t->next = nullptr;
      if (tail) tail->next = t;
      else head = t;
      tail = t;
    }
    if (!head) return;
    w.rt.global_push_list(head);
    w.rt.idle.notify_work();
  }

  // The scheduler context's search, following idle.hpp's steps; blocks while
  // idle; null on shutdown.
  static tcb* find_runnable(worker& w) {
    idle_protocol& idle = w.rt.idle;
    for (;;) {
      idle_protocol::take_handed_spinning(w);  // W6
      if (w.rt.stopped()) return nullptr;
      if (__builtin_expect(!w.active(), 0)) {
        if (tcb* t = rest(w)) return t;
        continue;
      }
      w.run_timers();
      w.driver->poll();
      tcb* t = pick_local(w, false);
      if (!t && idle.try_start_spinning(w)) {  // W1
        std::int64_t until = now_ns() + spin_ns;
        while (!(t = steal_work(w)) && !(t = pick_local(w, false)) && !w.rt.stopped()) {
          w.driver->poll();
          if (now_ns() >= until) break;
          sched_yield();
        }
      }
      if (t) {
        idle.found_work(w);  // W2
        return t;
      }
      idle.transition_to_parked(w);  // W3, fence F1
      if (w.work_visible() || w.driver->has_completions() || w.rt.stopped()) {  // W4
        idle.transition_from_parked(w);
        continue;
      }
      idle_protocol::park(w, w.timers.next_deadline());  // W5
      idle.transition_from_parked(w);                    // W6
    }
  }

  static void run(worker& w) {
    while (tcb* t = find_runnable(w)) {
      // The scheduler context never migrates: it is this kernel thread's own stack.
      run_post(*switch_to(w, nullptr, t, false));
    }
    w.rt.idle.leave(w);
  }

  static constexpr worker_ops ops = {&run, &after_switch, &yield, &switch_out, &exit_current, &push_local};
};

}  // namespace weft::detail
