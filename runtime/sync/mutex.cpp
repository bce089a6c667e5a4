// Slow paths of weft::mutex: barging with one woken waiter at a time, and a
// hand-off mode against starvation (after Go's sync.Mutex, src/sync/mutex.go).
//
// The word. The mutex state shares one word with its wait queue's lock bit:
//   locked    owned; in hand-off mode always set (ownership passes directly)
//   waiting   the queue may hold waiters (cleared when it is seen empty)
//   woken     one waiter is awake and competing for the mutex (an unlocker
//             woke it, or it spins), so an unlock need not wake another
//   starving  hand-off mode
//   lock_bit  the queue lock (park.hpp): while it is set only its holder
//             changes the word, so every lock-free step below is a CAS from
//             a value with lock_bit clear, and the holder's final store
//             writes the new state and releases the queue at once.
//
// Why `woken`, and why the fast paths (mutex.hpp) ignore the waiter bits:
// the slow mode of BM_Mutex_Contended (issue 11). With 1000 threads on 2
// workers the queue is never empty. The old fast paths were CASes from a
// zero word, so every lock and unlock took its slow path, and every unlock
// that saw `waiting` woke a waiter, even while the one it woke last had not
// run yet: a claim, a make_ready and an idle-worker notify per increment.
// Each woken waiter landed in the unlocker's run queue, where the other
// worker (spinning idle, core/idle.hpp) stole it and ran it beside the
// owner, so the mutex's cache line moved between the cores all the time; a
// run that fell into that state stayed there (55-150 ns per increment on
// this loaded box, 400-900 ns on ~2 CPUs reported from a quiet one, against
// 17-25 ns for runs that never did). Now a free mutex is taken inline
// whatever the waiter bits say, and one waiter is woken per turn of the
// woken bit, as glibc's mutex wakes one futex sleeper per contended
// acquisition: 14-16 ns of CPU per increment in every run, against
// std::mutex's 18-24 ns beside it.
//
// lock_slow, in steps:
//   L1  Spin (only where it can pay: a foreign kernel thread, or a green
//       thread with more than one worker and nothing else to run here; never
//       in hand-off mode): take the mutex the moment it is free; set `woken`
//       if there are waiters and nobody else holds it, so the owner's unlock
//       does not wake a thread we are about to beat.
//   L2  Take the queue lock. Give back `woken` if this call holds it (it is
//       now either taking the mutex or parking).
//   L3  Free: take it in the store that drops the queue lock. (Never in
//       hand-off mode: that keeps `locked` set.)
//   L4  Owned: if this call has waited 1 ms or more, set `starving`. Link a
//       waiter: at the back on the first park, at the front after a wake-up
//       (it has waited longest), set `waiting`, park (park drops the queue
//       lock once this thread is saved).
//   L5  Woken with the mutex handed over (waiter::data set): it is ours;
//       the unlocker already left hand-off mode if that was due.
//   L6  Woken without it: this call now holds `woken`; back to L1.
//   A timed-out waiter unlinks itself (park.cpp); it never held `woken`.
//
// unlock_slow, in steps:
//   U1  Not starving, and no waiters or one already woken: CAS `locked`
//       away and return. (The common contended case: one CAS.)
//   U2  Otherwise take the queue lock.
//   U3  Hand-off mode: claim the front waiter, mark it handed, and keep
//       `locked` set: ownership passes without ever being free, so no
//       newcomer or try_lock can get in between. Leave hand-off mode if the
//       waiter waited less than 1 ms (the queue is moving again) or was the
//       last one. No waiter left (all timed out): leave hand-off mode and
//       free the mutex.
//   U4  Normal mode: claim the front waiter, set `woken`, clear `locked`.
//   U5  One release store writes the state and drops the queue lock; it is
//       unlock's last touch of the mutex (glibc bug 13690: the next owner
//       may destroy the mutex at once). complete() then touches only the
//       waiter.
//
// Rejected: handing off on every unlock (strict FIFO): each increment would
// cost a switch and, across workers, a wake-up; barging is what makes a
// contended mutex fast, and hand-off mode only caps its unfairness. Rejected:
// spinning while this worker has other threads to run: the owner may be one
// of them (one worker), and otherwise they are likely contenders too; they
// run and park in the time a spin takes, and the mutex's cache line stays
// with the owner. (Go's canSpin has the same rule. BM_Mutex_Contended did
// not tell spinning, no spinning and spinning only before the first park
// apart: 14.6-22.4 ns CPU per increment for all three, interleaved.)
#include "weft/mutex.hpp"

#include "base/clock.hpp"
#include "core/park.hpp"
#include "core/policy.hpp"
#include "core/runtime_impl.hpp"
#include "core/worker.hpp"

namespace weft {

namespace {

using detail::wait_queue;

// Go's starvationThresholdNs: long against a critical section, short
// against anything a user would call a stall.
constexpr std::int64_t starve_ns = 1'000'000;

// L1's spin: Go's active_spin (4 rounds) of active_spin_cnt (30 pauses).
// ~3 us in this VM (a pause costs 24 ns here, measured): about what a park
// and a cross-worker wake-up cost, which is the point of spinning at all.
constexpr int spin_rounds = 4;
constexpr int pauses_per_round = 30;

// Whether L1 may spin: a green thread spins only if another worker can be
// running the owner and nothing else waits to run here.
bool may_spin() noexcept {
  detail::worker* w = detail::current_worker();
  if (!w || !w->current) return true;  // a foreign kernel thread
  return w->rt.worker_count() > 1 && w->runq->empty();
}

// waiter::data of a waiter that was handed the mutex (U3).
void* handed(detail::wait_queue& q) noexcept { return &q; }

}  // namespace

long long mutex::deadline_in(long long ns) { return detail::deadline_after(ns, "mutex::try_lock_for"); }

bool mutex::lock_slow(long long deadline) {
  using namespace detail;
  std::int64_t wait_start = 0;  // when this call first parked; 0: not yet
  bool awoke = false;           // this call holds `woken`
  for (;;) {
    // L1
    int spins = may_spin() ? spin_rounds : 0;
    for (std::uint64_t w = word().load(std::memory_order_relaxed);;) {
      if (w & starving) break;
      if (!(w & (locked | wait_queue::lock_bit))) {
        if (word().compare_exchange_weak(w, (w | locked) & ~(awoke ? woken : 0), std::memory_order_acquire,
                                         std::memory_order_relaxed))
          return true;
        continue;
      }
      if (spins-- == 0) break;
      if (!awoke && (w & (waiting | woken | wait_queue::lock_bit)) == waiting &&
          word().compare_exchange_weak(w, w | woken, std::memory_order_relaxed, std::memory_order_relaxed))
        awoke = true;
      for (int i = 0; i < pauses_per_round; ++i) cpu_relax();
      w = word().load(std::memory_order_relaxed);
    }
    // L2
    wq_lock(q_);
    std::uint64_t w = word().load(std::memory_order_relaxed);
    if (awoke) w &= ~woken;
    awoke = false;
    if (!(w & locked)) {  // L3
      word().store((w | locked) & ~wait_queue::lock_bit, std::memory_order_relaxed);
      return true;
    }
    // L4
    waiter wt = make_waiter();
    if (wait_start == 0) {
      wait_start = now_ns();
      wq_push(q_, wt);
    } else {
      if (now_ns() - wait_start >= starve_ns) w |= starving;
      wq_push_front(q_, wt);
    }
    wt.value = static_cast<std::uintptr_t>(wait_start);
    word().store(w | waiting, std::memory_order_relaxed);
    if (park(q_, wt, deadline, wait_reason::mutex) == wake_status::timed_out) return false;
    if (wt.data == handed(q_)) return true;  // L5
    awoke = true;                            // L6
  }
}

void mutex::unlock_slow() noexcept {
  using namespace detail;
  // U1
  for (std::uint64_t w = word().load(std::memory_order_relaxed);;) {
    if (w & (starving | wait_queue::lock_bit)) break;
    if ((w & (waiting | woken)) == waiting) break;
    if (word().compare_exchange_weak(w, w & ~locked, std::memory_order_release, std::memory_order_relaxed)) return;
  }
  // U2
  wq_lock(q_);
  std::uint64_t w = word().load(std::memory_order_relaxed);
  waiter* next = nullptr;
  if (w & starving) {  // U3
    next = wq_claim_first(q_);
    if (next) {
      next->data = handed(q_);
      bool last = wq_empty(q_);
      if (last || now_ns() - static_cast<std::int64_t>(next->value) < starve_ns) w &= ~starving;
      if (last) w &= ~waiting;
      word().store(w & ~wait_queue::lock_bit, std::memory_order_release);  // U5, still locked: next owns it
      complete(*next);
      return;
    }
    w &= ~starving;
  } else if ((w & (waiting | woken)) == waiting) {  // U4
    next = wq_claim_first(q_);
    if (next) w |= woken;
  }
  if (wq_empty(q_)) w &= ~waiting;
  word().store(w & ~(locked | wait_queue::lock_bit), std::memory_order_release);  // U5
  if (next) complete(*next);
}

}  // namespace weft
