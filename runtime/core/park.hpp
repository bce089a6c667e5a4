// Layer 4: the one park/unpark mechanism.
//
// Every blocking primitive (mutex, condition variable, semaphore, join,
// sleep, and later channels and I/O) blocks the same way:
//
//   1. lock the primitive's wait_queue, check the condition;
//   2. if it must wait, link a `waiter` (on the waiting thread's own stack)
//      into the queue and call park(), still holding the lock;
//   3. park() switches away and only *then* releases the queue lock (the
//      post-switch action), so a waker that takes the lock always finds a
//      fully parked thread: no lost wake-ups, no resuming a half-saved one.
//
// A waker takes the lock, unlinks a waiter, claims it (status CAS pending ->
// claimed), may hand it a value through `data`, releases the lock, and calls
// complete(), which publishes `notified` and makes the thread ready. A timer
// that fires (pending -> timed_out) or a cancellation (pending -> canceled)
// races the waker through the same CAS; exactly one wins. A timed-out or
// canceled waiter unlinks itself under the lock when it resumes.
//
// Cancellation (park_cancellable) is the one waker that is neither the
// queue's lock holder nor the thread's own worker: a std::stop_callback,
// run by whoever requests stop, on any thread, maybe while the waiter is
// still on its way to the switch. So winning the CAS is not enough to make
// the thread ready: the thread must be parked (state blocked, registers
// saved). Both sides "arrive" on the waiter (`arrivals`): the callback after
// its CAS, the post-switch action after publishing `blocked`; the second to
// arrive makes the thread ready. The timer path needs no such handshake only
// because its owner worker fires it, necessarily after the switch-out. The
// callback's destructor, on the woken thread, waits for a callback still
// running elsewhere: that keeps the waiter (on the thread's stack) alive
// until the callback is done with it.
//
// The same waiter works for a foreign kernel thread (tcb == null): it sleeps
// on a futex on the status word instead of switching, so primitives can be
// shared between green threads and plain std::threads.
//
// Rejected: a per-TCB semaphore ("park token") as in Go's older sync code: it
// needs a second handshake for timeouts and does not carry a value.
#pragma once

#include <atomic>
#include <cstdint>

#include "base/spinlock.hpp"
#include "weft/detail/wait_queue.hpp"
#include "weft/thread_info.hpp"

namespace weft::detail {

struct tcb;
class worker;

enum class wake_status : std::uint32_t { pending, claimed, notified, timed_out, canceled };

struct waiter {
  waiter* next = nullptr;
  waiter* prev = nullptr;
  bool linked = false;
  tcb* owner = nullptr;  // null: a foreign kernel thread
  std::atomic<std::uint32_t> status{static_cast<std::uint32_t>(wake_status::pending)};
  void* data = nullptr;      // primitive-specific payload (value slot, request)
  std::uintptr_t value = 0;  // primitive-specific scalar (count, branch index)
  // Timer bookkeeping (timer_heap.hpp).
  std::int64_t deadline = -1;
  std::size_t heap_index = static_cast<std::size_t>(-1);
  worker* timer_owner = nullptr;
  // Cancellation handshake (see above): the stop callback and the parking
  // side each add one; whoever adds second makes the thread ready.
  std::atomic<std::uint8_t> arrivals{0};

  wake_status load() const noexcept { return static_cast<wake_status>(status.load(std::memory_order_acquire)); }
};

// Makes a waiter for the calling context (green thread or foreign thread).
waiter make_waiter() noexcept;

// A queue's lock is bit 0 of its word; a primitive may keep its own state in
// the other bits (mutex and semaphore do), so every call here preserves them.
// While bit 0 is set only the holder changes the word: a primitive's
// lock-free paths compare-and-swap from values with bit 0 clear.
// Takes the lock if it is free at this moment (may fail spuriously).
inline bool wq_try_lock(wait_queue& q) noexcept {
  std::uint64_t w = q.lock.load(std::memory_order_relaxed);
  return !(w & wait_queue::lock_bit) &&
         q.lock.compare_exchange_weak(w, w | wait_queue::lock_bit, std::memory_order_acquire, std::memory_order_relaxed);
}
inline void wq_lock(wait_queue& q) noexcept {
  for (unsigned spins = 0;; ++spins) {
    if (wq_try_lock(q)) return;
    // Holders never sleep while holding it; yield the core only when a
    // holder was descheduled by the kernel.
    if (spins < 128) cpu_relax();
    else {
      sched_yield();
      spins = 0;
    }
  }
}
// wq_lock for locks that several workers hammer in a loop (a channel's):
// after a failed look it backs off exponentially, so the holder keeps the
// cache line through its next operations instead of losing it on every
// cycle. Measured with 4 producers and 4 consumers on one channel over 2
// workers: 73 -> 27 ns per message (park.cpp).
void wq_lock_backoff(wait_queue& q) noexcept;
inline void wq_unlock(wait_queue& q) noexcept {
  q.lock.store(q.lock.load(std::memory_order_relaxed) & ~wait_queue::lock_bit, std::memory_order_release);
}

// Queue operations; the caller holds the lock.
void wq_push(wait_queue& q, waiter& w) noexcept;
// At the front: for a waiter that has waited before (a woken mutex waiter that lost).
void wq_push_front(wait_queue& q, waiter& w) noexcept;
void wq_unlink(wait_queue& q, waiter& w) noexcept;
inline bool wq_empty(const wait_queue& q) noexcept { return q.head == nullptr; }

// Unlinks and claims the first waiter that is still pending; null if none.
waiter* wq_claim_first(wait_queue& q) noexcept;

// Claims w for waking (pending -> claimed); false if a timeout won.
inline bool try_claim(waiter& w) noexcept {
  auto expected = static_cast<std::uint32_t>(wake_status::pending);
  return w.status.compare_exchange_strong(expected, static_cast<std::uint32_t>(wake_status::claimed),
                                          std::memory_order_acq_rel, std::memory_order_acquire);
}

// Finishes a wake of a claimed waiter; call it without holding the queue lock
// where possible. The waiter may be gone as soon as this returns.
void complete(waiter& w) noexcept;

// Wakes every waiter of q (takes the lock itself, in batches); returns how many.
std::size_t wake_all(wait_queue& q) noexcept;
// Wakes every waiter of q whose data == key; returns how many.
std::size_t wake_all_matching(wait_queue& q, const void* key) noexcept;
// Wakes the first pending waiter of q; false if there was none.
bool wake_one(wait_queue& q) noexcept;

// For primitives a waiter may free as soon as it sees them done (event,
// latch, wait group; Go's WaitGroup pattern): the caller holds q's lock and
// has just published "done" under it. Claims every waiter in this one lock
// hold and unlocks; that unlock is the caller's last touch of the primitive
// (complete() touches only waiters). Returns how many were woken.
inline std::size_t wake_all_and_unlock(wait_queue& q) noexcept {
  waiter* head = nullptr;
  waiter** tail = &head;
  std::size_t n = 0;
  for (waiter* w; (w = wq_claim_first(q)) != nullptr; ++n) {
    *tail = w;  // unlinked: its `next` is ours to chain with
    tail = &w->next;
  }
  wq_unlock(q);
  while (waiter* w = head) {
    head = w->next;  // read first: w may be gone once completed
    complete(*w);
  }
  return n;
}

// Called by a waiter that saw such a primitive done, maybe before the
// publisher released q's lock: once this returns the publisher has, so the
// caller may free the primitive.
inline void settle(wait_queue& q) noexcept {
  wq_lock(q);
  wq_unlock(q);
}

// Parks the caller (w linked into q, q locked) until woken or until
// deadline_ns (steady clock; < 0 = none). Releases q's lock. Returns notified
// or timed_out. On timed_out the waiter is no longer linked.
wake_status park(wait_queue& q, waiter& w, std::int64_t deadline_ns, wait_reason reason);

// Parks with no queue: only the deadline (or a direct complete()) wakes it.
wake_status park_until(waiter& w, std::int64_t deadline_ns, wait_reason reason);

// As park() and park_until(), but a stop request on the calling green thread
// (core/stop.hpp) wakes it too: returns canceled then, with the waiter
// unlinked, and at once, without parking, if stop was already requested. A
// thread without a stop state, and a foreign kernel thread, park as with
// park(). Only for waits whose wakers take q's lock or run on the thread's
// own worker (timers): the cancel handshake relies on nobody else making
// the thread ready between its switch-out and the end of the post-switch action.
wake_status park_cancellable(wait_queue& q, waiter& w, std::int64_t deadline_ns, wait_reason reason);
wake_status park_until_cancellable(waiter& w, std::int64_t deadline_ns, wait_reason reason);

// Converts a relative timeout to a deadline; throws weft::error on a negative one.
std::int64_t deadline_after(std::int64_t timeout_ns, const char* what);

}  // namespace weft::detail

namespace weft::detail {

// The waiting side of every "wait until a condition holds" primitive (latch,
// wait group, event): the condition is re-checked under the queue lock, and
// whoever makes it true must call wake_all(q) afterwards. False on timeout.
template <class Done>
bool wait_for_condition(wait_queue& q, Done done, std::int64_t deadline_ns, wait_reason reason) {
  if (done()) return true;
  waiter w = make_waiter();
  wq_lock(q);
  if (done()) {
    wq_unlock(q);
    return true;
  }
  wq_push(q, w);
  return park(q, w, deadline_ns, reason) == wake_status::notified || done();
}

// As wait_for_condition, cancellable: notified when done, timed_out, or
// canceled (a stop request on the caller came first and the condition still
// does not hold: a condition that became true meanwhile wins).
template <class Done>
wake_status wait_for_condition_cancellable(wait_queue& q, Done done, std::int64_t deadline_ns, wait_reason reason) {
  if (done()) return wake_status::notified;
  waiter w = make_waiter();
  wq_lock(q);
  if (done()) {
    wq_unlock(q);
    return wake_status::notified;
  }
  wq_push(q, w);
  wake_status s = park_cancellable(q, w, deadline_ns, reason);
  return s == wake_status::notified || done() ? wake_status::notified : s;
}

}  // namespace weft::detail
