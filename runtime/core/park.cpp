// The park/unpark mechanism; see park.hpp for the protocol.
#include "core/park.hpp"

#include <stop_token>
#include <string>

#include <sched.h>

#include "base/clock.hpp"
#include "base/intrusive_list.hpp"
#include "base/futex.hpp"
#include "core/runtime_impl.hpp"
#include "core/stop.hpp"
#include "core/tcb.hpp"
#include "weft/error.hpp"
#include "core/worker.hpp"

namespace weft::detail {
namespace {

constexpr auto u(wake_status s) { return static_cast<std::uint32_t>(s); }

// Runs on the next context once the parking thread's registers are saved.
void post_park(worker&, tcb* prev, void* arg) {
  // A suspension requested meanwhile shows as suspended_blocked (tcb.hpp).
  prev->state.store(st(thread_state::blocked), std::memory_order_release);
  if (arg) wq_unlock(*static_cast<wait_queue*>(arg));
}

wake_status park_foreign(wait_queue* q, waiter& w, std::int64_t deadline) {
  if (q) wq_unlock(*q);
  for (;;) {
    std::uint32_t s = w.status.load(std::memory_order_acquire);
    if (s == u(wake_status::notified)) return wake_status::notified;
    if (s == u(wake_status::pending) && deadline >= 0 && now_ns() >= deadline) {
      if (w.status.compare_exchange_strong(s, u(wake_status::timed_out), std::memory_order_acq_rel)) {
        if (q) {
          wq_lock(*q);
          if (w.linked) wq_unlink(*q, w);
          wq_unlock(*q);
        }
        return wake_status::timed_out;
      }
      continue;
    }
    // A claimed waiter is about to be notified: wait without a deadline.
    futex_wait(w.status, s, s == u(wake_status::pending) ? deadline : -1);
  }
}

// The parked thread is back (woken, timed out or canceled): a waiter nobody
// claimed unlinks itself, a timer that did not fire is dropped.
wake_status after_park(tcb* self, wait_queue* q, waiter& w) {
  self->reason.store(wait_reason::none, std::memory_order_relaxed);
  wake_status s = w.load();
  if (s == wake_status::timed_out || s == wake_status::canceled) {
    if (q) {
      wq_lock(*q);
      if (w.linked) wq_unlink(*q, w);
      wq_unlock(*q);
    }
  }
  if (s != wake_status::timed_out && w.timer_owner) w.timer_owner->timers.cancel(w);
  return s;
}

wake_status park_green(worker* wk, tcb* self, wait_queue* q, waiter& w, std::int64_t deadline, wait_reason reason,
                       post_action post) {
  self->reason.store(reason, std::memory_order_relaxed);
  self->stats.load(std::memory_order_relaxed)->wait_on.store(q, std::memory_order_relaxed);
  if (deadline >= 0) {
    w.deadline = deadline;
    wk->timers.add(w, wk);
  }
  wk->switch_out(post, false);
  // Resumed, possibly on another worker.
  return after_park(self, q, w);
}

// ---- cancellation (park.hpp explains the handshake) ----

struct stoppable_park {
  wait_queue* q;
  waiter* w;
};

// The post-switch action of a cancellable park.
void post_park_stoppable(worker&, tcb* prev, void* arg) {
  auto* p = static_cast<stoppable_park*>(arg);
  // Read before arriving: once both have arrived the thread may run and
  // p, on its stack, be gone. Until then nothing else can wake it: wakers
  // need q's lock, which is still held here, and timers fire on this worker.
  wait_queue* q = p->q;
  waiter* w = p->w;
  prev->state.store(st(thread_state::blocked), std::memory_order_release);
  if (w->arrivals.fetch_add(1, std::memory_order_acq_rel) == 1) prev->rt().make_ready(prev);
  // If the canceler made it ready, it runs after_park, which waits for this lock.
  if (q) wq_unlock(*q);
}

// The stop callback: runs on the thread that requests stop (or inline in
// the constructor, on the waiting thread, if stop came just before).
struct cancel_waiter {
  waiter* w;
  void operator()() noexcept {
    auto expected = u(wake_status::pending);
    if (!w->status.compare_exchange_strong(expected, u(wake_status::canceled), std::memory_order_acq_rel,
                                           std::memory_order_acquire))
      return;  // a waker or the timer came first
    tcb* owner = w->owner;
    if (w->arrivals.fetch_add(1, std::memory_order_acq_rel) == 1) owner->rt().make_ready(owner);
  }
};

// Marks a waiter that will not park canceled (under q's lock if any, so no
// waker can claim it meanwhile) and unlinks it; false if a waker claimed it first.
bool cancel_unparked(wait_queue* q, waiter& w) {
  auto expected = u(wake_status::pending);
  if (!w.status.compare_exchange_strong(expected, u(wake_status::canceled), std::memory_order_acq_rel)) return false;
  if (q) {
    if (w.linked) wq_unlink(*q, w);
    wq_unlock(*q);
  }
  return true;
}

__attribute__((noinline)) wake_status park_stoppable(worker* wk, tcb* self, wait_queue* q, waiter& w,
                                                     std::int64_t deadline, wait_reason reason,
                                                     std::stop_source& src) {
  // Already requested: do not park at all.
  if (src.stop_requested() && cancel_unparked(q, w)) {
    self->reason.store(wait_reason::none, std::memory_order_relaxed);
    return wake_status::canceled;
  }
  std::stop_callback<cancel_waiter> cb(src.get_token(), cancel_waiter{&w});
  if (w.load() == wake_status::canceled) {
    // The callback won before the switch (a request that came just now, or
    // run inline by the constructor above). It arrives without making us
    // ready, as we never arrive: wait until it has, then leave unparked.
    while (w.arrivals.load(std::memory_order_acquire) == 0) cpu_relax();
    if (q) {
      if (w.linked) wq_unlink(*q, w);
      wq_unlock(*q);
    }
    return wake_status::canceled;
  }
  stoppable_park p{q, &w};
  return park_green(wk, self, q, w, deadline, reason, {&post_park_stoppable, nullptr, &p});
  // ~cb: deregisters, or waits until a callback running on another thread has returned.
}

template <bool Cancellable>
wake_status park_impl(wait_queue* q, waiter& w, std::int64_t deadline, wait_reason reason) {
  worker* wk = current_worker();
  if (!wk || !wk->current) return park_foreign(q, w, deadline);
  tcb* self = wk->current;
  if constexpr (Cancellable) {
    // The one branch a thread without a stop state pays.
    if (tcb_ext* e = self->ext.load(std::memory_order_acquire);
        __builtin_expect(e != nullptr, 0) && e->has_stop.load(std::memory_order_acquire))
      return park_stoppable(wk, self, q, w, deadline, reason, e->stop);
  }
  return park_green(wk, self, q, w, deadline, reason, {&post_park, nullptr, q});
}

}  // namespace

void wq_lock_backoff(wait_queue& q) noexcept {
  if (wq_try_lock(q)) return;
  // Up to 16 pauses between looks: a larger cap (64) gained a little more
  // throughput on a contended channel but made hand-overs late enough to
  // slow a contended mutex's slow path, which is why wq_lock itself keeps
  // plain spinning.
  unsigned backoff = 1;
  for (unsigned rounds = 0;; ++rounds) {
    for (unsigned i = 0; i < backoff; ++i) cpu_relax();
    if (wq_try_lock(q)) return;
    if (backoff < 16) backoff <<= 1;
    if (rounds >= 256) {
      // The holder was descheduled by the kernel: let it run.
      sched_yield();
      rounds = 0;
    }
  }
}

waiter make_waiter() noexcept {
  // A prvalue: waiters hold an atomic and are never copied or moved.
  return waiter{.owner = current_tcb()};
}

void wq_push(wait_queue& q, waiter& w) noexcept { ilist_push_back(q, w); }

void wq_push_front(wait_queue& q, waiter& w) noexcept { ilist_push_front(q, w); }

void wq_unlink(wait_queue& q, waiter& w) noexcept { ilist_unlink(q, w); }

waiter* wq_claim_first(wait_queue& q) noexcept {
  while (waiter* w = q.head) {
    wq_unlink(q, *w);
    if (try_claim(*w)) return w;
    // Lost to a timeout: that waiter unlinks nothing more and returns on its own.
  }
  return nullptr;
}

void complete(waiter& w) noexcept {
  tcb* owner = w.owner;
  w.status.store(u(wake_status::notified), std::memory_order_release);
  if (owner) owner->rt().make_ready(owner);
  else futex_wake(w.status, 1);
}

std::size_t wake_all(wait_queue& q) noexcept {
  std::size_t total = 0;
  for (;;) {
    // Batches keep the lock short even with a million waiters.
    waiter* batch[64];
    std::size_t n = 0;
    wq_lock(q);
    while (n < 64) {
      waiter* w = wq_claim_first(q);
      if (!w) break;
      batch[n++] = w;
    }
    wq_unlock(q);
    for (std::size_t i = 0; i < n; ++i) complete(*batch[i]);
    total += n;
    if (n < 64) return total;
  }
}

std::size_t wake_all_matching(wait_queue& q, const void* key) noexcept {
  std::size_t total = 0;
  for (;;) {
    waiter* batch[64];
    std::size_t n = 0;
    wq_lock(q);
    for (waiter* w = q.head; w && n < 64;) {
      waiter* next = w->next;
      if (w->data == key) {
        wq_unlink(q, *w);
        if (try_claim(*w)) batch[n++] = w;
      }
      w = next;
    }
    wq_unlock(q);
    for (std::size_t i = 0; i < n; ++i) complete(*batch[i]);
    total += n;
    if (n < 64) return total;
  }
}

bool wake_one(wait_queue& q) noexcept {
  wq_lock(q);
  waiter* w = wq_claim_first(q);
  wq_unlock(q);
  if (w) complete(*w);
  return w != nullptr;
}

wake_status park(wait_queue& q, waiter& w, std::int64_t deadline_ns, wait_reason reason) {
  return park_impl<false>(&q, w, deadline_ns, reason);
}

wake_status park_until(waiter& w, std::int64_t deadline_ns, wait_reason reason) {
  return park_impl<false>(nullptr, w, deadline_ns, reason);
}

wake_status park_cancellable(wait_queue& q, waiter& w, std::int64_t deadline_ns, wait_reason reason) {
  return park_impl<true>(&q, w, deadline_ns, reason);
}

wake_status park_until_cancellable(waiter& w, std::int64_t deadline_ns, wait_reason reason) {
  return park_impl<true>(nullptr, w, deadline_ns, reason);
}

std::int64_t deadline_after(std::int64_t timeout_ns, const char* what) {
  if (timeout_ns < 0)
    throw error(errc::invalid_argument, std::string(what) + ": negative timeout (" + std::to_string(timeout_ns) + " ns)");
  std::int64_t now = now_ns();
  return timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
}

}  // namespace weft::detail
