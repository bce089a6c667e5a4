// Layer 3: a green thread's scheduling metrics (the OS notes' per-process
// accounting): how long it ran, waited ready and waited blocked, its CPU
// bursts and the predicted length of the next one.
//
// Where they live. Not in the TCB: a parked thread must cost one stack page
// plus its TCB (docs/design.md), and these 88 bytes would have grown every
// TCB by two thirds. A thread that has run owns a stack whose top page it
// always touches, so the record sits in the highest 128 bytes of that stack
// (the context starts below it) and costs no memory at all. A thread that
// never ran has no record (its arrival is tcb::created_ticks, all else is
// zero). When a thread ends, finish() copies the record into a small block
// from the TCB pool, since its stack goes back to the pool at once; the
// block is freed with the TCB. tcb::stats points to whichever is current.
//
// Who writes (all in ticks, base/clock.hpp; converted when reported):
//   - the worker running the thread, at every switch-out and lone yield
//     (worker_loop::end_burst): one tick read for the whole switch;
//   - the waker, in make_ready (blocked -> ready), which owns the thread
//     then: blocked time ends, ready time starts;
//   - finish(), on the thread itself: the last burst, completion.
// Readers (snapshots, this_thread::info) load with relaxed order and may see
// a thread mid-switch: they clamp, and a running thread's figures are
// approximate by one switch.
//
// Time accounting: `since` is when the thread last stopped running or last
// became ready. At a switch-out, the wait that ended when the burst began
// was ready time (burst start - since), the burst is run time (now - burst
// start), and since = now. make_ready adds now - since to blocked and sets
// since = now. So every moment from arrival to completion is in exactly one
// of ready, blocked and run. A suspended thread counts as waiting in the
// state it was suspended from.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <utility>

namespace weft::detail {

struct run_stats {
  // Written at every switch-out: one cache line (the record is placed on a 64-byte boundary).
  std::atomic<std::uint64_t> since{0};
  std::atomic<std::uint64_t> run{0};
  std::atomic<std::uint64_t> ready{0};
  std::atomic<std::uint64_t> blocked{0};
  std::atomic<std::uint64_t> last_burst{0};
  std::atomic<std::uint64_t> predicted{0};  // tau: the next burst's estimate
  std::atomic<std::uint64_t> bursts{0};
  std::atomic<std::uint64_t> switches{0};
  // Written once or rarely.
  std::atomic<std::uint64_t> first_run{0};   // tick the first burst began; 0 = not yet
  std::atomic<std::uint64_t> completion{0};  // tick it ended; 0 = still live
  std::atomic<std::uint64_t> preemptions{0};  // forced switches; none until preemption lands
  // The wait queue of the thread's latest park (null: a sleep or a wait
  // with no queue), written by park(); only the thread dump reads it, and
  // only while the thread is blocked. Its address names the primitive (a
  // mutex's, a channel's queue sits inside it), the wait reason its kind.
  std::atomic<const void*> wait_on{nullptr};

  // A relaxed add by the single writer: a load and a store, no locked RMW.
  static void add(std::atomic<std::uint64_t>& a, std::uint64_t v) noexcept {
    a.store(a.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }
  // tau(n+1) = a*t(n) + (1-a)*tau(n), with a in 1/65536ths: tau + a*(t - tau),
  // rounded down to a tick. Integer and branch-free: it runs at every switch,
  // and in a ping-pong t - tau changes sign at random (a branch on it
  // mispredicted). d = hi * 2^16 + lo with lo in 0..65535 (an arithmetic
  // shift), so d*a/2^16 = hi*a + lo*a/2^16 without overflowing for any
  // burst under 2^47 ticks (~13 hours at 3 GHz).
  static std::uint64_t predict(std::uint64_t tau, std::uint64_t t, std::uint32_t alpha_q16) noexcept {
    std::int64_t d = static_cast<std::int64_t>(t - tau);
    std::int64_t a = alpha_q16;
    std::int64_t step = (d >> 16) * a + (((d & 0xffff) * a) >> 16);
    return tau + static_cast<std::uint64_t>(step);
  }
  // Ends a burst that began at `start` and ends at `now`.
  void end_burst(std::uint64_t start, std::uint64_t now, std::uint32_t alpha_q16) noexcept {
    std::uint64_t s = since.load(std::memory_order_relaxed);
    std::uint64_t d = now - start;
    if (start > s) add(ready, start - s);
    add(run, d);
    last_burst.store(d, std::memory_order_relaxed);
    predicted.store(predict(predicted.load(std::memory_order_relaxed), d, alpha_q16), std::memory_order_relaxed);
    add(bursts, 1);
    since.store(now, std::memory_order_relaxed);
  }
  // The thread's event came at `now` (make_ready): blocked time ends.
  void end_blocked(std::uint64_t now) noexcept {
    std::uint64_t s = since.load(std::memory_order_relaxed);
    if (now > s) add(blocked, now - s);
    since.store(now, std::memory_order_relaxed);
  }
  // A copy (for the record that outlives the stack); relaxed loads.
  void copy_from(const run_stats& o) noexcept {
    for (auto [d, s] : {std::pair{&since, &o.since}, {&run, &o.run}, {&ready, &o.ready}, {&blocked, &o.blocked},
                        {&last_burst, &o.last_burst}, {&predicted, &o.predicted}, {&bursts, &o.bursts},
                        {&switches, &o.switches}, {&first_run, &o.first_run}, {&completion, &o.completion},
                        {&preemptions, &o.preemptions}})
      d->store(s->load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
};

// The record's place at the top of a stack: 128 bytes, 64-aligned, so its
// hot first line never straddles two.
inline constexpr std::size_t run_stats_reserve = 128;
static_assert(sizeof(run_stats) <= run_stats_reserve);

}  // namespace weft::detail
