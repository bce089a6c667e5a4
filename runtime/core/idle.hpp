// The idle protocol: which workers spin looking for work, which sleep, and
// who wakes whom. After Go's proc.go (spinning Ms, wakep, the "last spinner
// wakes another" rule) and Tokio's idle.rs (named transitions).
//
// Why spin at all: a futex or ring wake-up costs a few microseconds on both
// sides, so a worker that drained its queue while another keeps producing
// would otherwise sleep and be woken once per burst. Why cap spinners at half
// the busy workers: more spinners only steal each other's cache lines.
// Rejected: waking a worker for every push (a broadcast storm: every spawn
// burst woke all workers), and waking only when more work is visible after a
// spinner finds some (a cross-worker ping-pong then waited for a real kernel
// wake-up on every hand-over: 25 us became 640 us, measured).
//
// State. Runtime-wide (class idle_protocol): nspinning_, the workers looking
// for work while awake; nidle_ and the list idle_, the workers that published
// that they are about to sleep or sleep. Per worker (struct idle_slot):
// `spinning` (the owner's view of whether it is counted in nspinning_),
// `handed_spinning` (a waker counted it as a spinner when it woke it),
// `wake_word` and `sleeping` (the handshake of its own sleep).
//
// The worker's side, in steps (core/worker_loop.hpp, find_runnable):
//   W1  Nothing runnable locally: try_start_spinning() makes it a spinner if
//       at most half the busy workers (those off the idle list, spinners
//       included) spin. "At most", not Go's "fewer than": with two workers
//       both may spin, so a ping-pong across them finds its partner spinning
//       rather than asleep in the kernel (BM_Wake_CrossWorker 1.8 us against
//       11-13 us with "fewer than"). A spinner steals and polls for spin_ns
//       (50 us), yielding its core between rounds, so the cost is bounded.
//   W2  Found work while spinning: found_work() drops its count; the last
//       spinner calls notify_work() (N1-N6), so the next hand-over finds a
//       spinner instead of a sleeper.
//   W3  Found nothing: transition_to_parked() puts it on the idle list
//       (nidle_ + 1), drops spinning (nspinning_ - 1), then a seq_cst fence F1.
//   W4  After F1 it looks once more at every run queue, its inbox, its due
//       timers and its poller's completions. Work seen:
//       transition_from_parked(), back to W1.
//   W5  park(): until wake_word.exchange(0) returns 1 or the deadline
//       passes: sleeping = where it is about to sleep (seq_cst), then the
//       exchange, then sleeps there. Where: on a futex on wake_word while
//       its poller is quiet (nothing in flight can finish), else in the
//       poller's wait. A futex wake is the kernel's cheapest cross-thread
//       wake-up; the poller's is an eventfd write that the ring turns into a
//       completion (2x slower for a ping-pong between two workers, measured).
//   W6  Awake: transition_from_parked() takes it off the list (unless a waker
//       did, N5); at W1 take_handed_spinning() makes it a spinner if a waker
//       counted it as one (exchange, acquire: pairs with N6's release).
//
// The waker's side, notify_work(), called after any push of runnable work
// that the pusher will not run itself:
//   N1  The work is published (the run queue's release store, a lock).
//   N2  seq_cst fence F2.
//   N3  nidle_ == 0 or nspinning_ != 0: return; a spinner will find it.
//   N4  CAS nspinning_ 0 -> 1: one waker at a time claims the right to wake;
//       a failed CAS means another waker or a new spinner has it covered.
//   N5  Pops a worker from the idle list (none: undoes N4).
//   N6  handed_spinning = true (release), then unpark(): wake_word.exchange(1)
//       (seq_cst); if it was 0, loads `sleeping` (seq_cst): futex_wake on
//       wake_word if the worker sleeps there, the poller's wake() (an
//       eventfd write) if it sleeps in the poller, nothing if awake.
//
// Why a queued thread is never left while every worker sleeps: F1 and F2
// are seq_cst fences, so one comes first in their single total order. If F2
// is first, the parker's W4 loads see the work published before F2. If F1
// is first, the waker's N3 loads see the parker's W3 stores: nidle_ > 0 and
// its spinning count gone, so the waker wakes someone (or sees another
// spinner, to which the same argument applies when it parks).
// Why a wake-up of one worker is never lost: W5 stores `sleeping` and then
// exchanges wake_word; N6 exchanges wake_word and then loads `sleeping`, all
// seq_cst. Either the sleeper's exchange sees 1 (it does not sleep), or the
// waker's load sees where the sleeper is (or is about to be) and wakes it
// there: a futex_wait on wake_word returns at once once it is 1, and the
// poller's wake() persists (a readable eventfd) until its next wait returns.
// The sleeper re-stores `sleeping` before each exchange, so a waker whose
// exchange comes after it sees that round's place.
//
// I/O completions need no fence: the kernel posts them where the sleeping
// worker waits, so its wait returns at once, and a busy worker polls its
// poller in find_runnable, while spinning, and every few picks.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace weft::detail {

class worker;

// One worker's part of the protocol; only idle_protocol touches it.
struct idle_slot {
  static constexpr std::uint32_t awake = 0, in_poller = 1, in_futex = 2;
  bool spinning = false;                     // owner only: counted in nspinning_
  std::atomic<bool> handed_spinning{false};  // N6 -> W6
  std::atomic<std::uint32_t> wake_word{0};   // 1: a wake-up is pending
  std::atomic<std::uint32_t> sleeping{0};    // W5: where it sleeps (awake, in_poller, in_futex)
};

class idle_protocol {
 public:
  explicit idle_protocol(unsigned nworkers) : nworkers_(static_cast<int>(nworkers)) { idle_.reserve(nworkers); }
  unsigned workers() const noexcept { return static_cast<unsigned>(nworkers_); }

  // W1: becomes a spinner if the cap allows; true if w now spins.
  bool try_start_spinning(worker& w) noexcept;
  // W2: w found work; the last spinner wakes another.
  void found_work(worker& w) noexcept;
  // W3: w publishes that it is about to sleep; ends with fence F1.
  void transition_to_parked(worker& w) noexcept;
  // W4/W6: w is awake and off the idle list.
  void transition_from_parked(worker& w) noexcept;
  // W6: at the top of the loop, adopt the spinning a waker handed over.
  static void take_handed_spinning(worker& w) noexcept;
  // A worker leaving its loop (shutdown) gives up its spinning count.
  void leave(worker& w) noexcept;
  // N1-N6: after publishing work; wakes one sleeper if nobody spins.
  void notify_work() noexcept;
  // Workers on the idle list (about to sleep or asleep).
  int parked() const noexcept { return nidle_.load(std::memory_order_seq_cst); }
  // 1 while the monitor sleeps because every worker is parked
  // (monitor.cpp, sleep_while_parked); a worker that wakes clears it and
  // wakes the monitor.
  std::atomic<std::uint32_t>& watcher_word() noexcept { return watcher_asleep_; }
  // A worker woke: wakes the monitor if it sleeps (W6, and a dormant worker
  // that runs a pinned thread).
  void wake_watcher() noexcept;

  // W5: sleeps in w's poller until unpark(w), the deadline (steady ns, < 0:
  // none) or completions. On w's own kernel thread.
  static void park(worker& w, std::int64_t deadline_ns) noexcept;
  // N6's second half: wakes w if it sleeps (any thread).
  static void unpark(worker& w) noexcept;

 private:
  const int nworkers_;
  std::atomic<int> nspinning_{0};
  std::atomic<int> nidle_{0};
  std::atomic<std::uint32_t> watcher_asleep_{0};
  std::mutex mu_;  // guards idle_
  std::vector<worker*> idle_;
};

}  // namespace weft::detail
