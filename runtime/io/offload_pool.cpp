// The offload pool behind weft::blocking().
//
// A process-wide pool of kernel threads, started on demand up to
// max_threads, each stopping after idle_timeout without work. A caller
// locks its job's wait queue, enqueues the job and parks on that queue
// (park releases the lock only after the switch), and the pool thread that
// ran the job claims and completes the waiter under the same lock -- so a
// job that finishes at once can never wake a caller that has not parked
// yet. It is park.hpp's protocol with the job as the wait queue. (complete()
// from a pool thread is a foreign enqueue: the runtime's shutdown waits for
// it to finish, see scheduler::enqueue.)
//
// Limits, and what happens at them:
//   - every thread busy, fewer than max_threads: start one more;
//   - max_threads busy: the job waits in the queue;
//   - max_queued jobs waiting: the caller is held back, parked on the
//     admission queue, until a thread takes a job (back-pressure, no error);
//   - no thread at all and none can be started (pthread_create fails):
//     weft::error(resource_exhausted) to the caller.
//
// Withdrawable jobs (offload.hpp, file I/O with a deadline or a cancel) park
// on a queue of their own choosing (`home`, the file handle's, so cancel()
// can wake them) with their job as the waiter's key, and may take the job
// back while it is still queued (`started` is false under the pool lock).
// The thread that ran such a job sets `finished` and claims the caller's
// waiter in one hold of home's lock; the caller returns only after seeing
// `finished` under that lock, so the thread's unlock is its last touch of
// the job and of the queue.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "base/clock.hpp"
#include "io/offload.hpp"
#include "core/park.hpp"
#include "weft/error.hpp"
#include "weft/io/blocking.hpp"
#include "core/worker.hpp"

namespace weft::detail {
namespace {

// An idle offload thread stops after this long: long enough to absorb bursts
// of DNS lookups, short enough not to keep 64 idle threads around.
constexpr auto idle_timeout = std::chrono::seconds(10);

class offload_pool {
 public:
  ~offload_pool() {
    std::unique_lock lk(mu_);
    stopping_ = true;
    cv_.notify_all();
    // Threads are detached; wait until the last one has left its loop.
    exited_.wait(lk, [&] { return threads_ == 0; });
  }

  // Parks the caller while the queue is full (back-pressure); 0, or
  // -ETIMEDOUT / -ECANCELED when the deadline or the stop came first (with
  // `cancellable`, a stop request on the calling green thread too).
  int wait_for_room(std::int64_t deadline = -1, offload_stop stop = {}, bool cancellable = false) {
    if (has_room()) return 0;
    held_back_.fetch_add(1, std::memory_order_relaxed);
    int res = 0;
    for (;;) {
      waiter w = make_waiter();
      wq_lock(admission_);
      if (has_room()) {
        wq_unlock(admission_);
        break;
      }
      // Checked under the lock that offload_wake_held_back() takes after the stop.
      if (stop.stopped()) res = -ECANCELED;
      else if (deadline >= 0 && now_ns() >= deadline) res = -ETIMEDOUT;
      if (res != 0) {
        wq_unlock(admission_);
        break;
      }
      wq_push(admission_, w);
      wake_status s = cancellable ? park_cancellable(admission_, w, deadline, wait_reason::blocking_call)
                                  : park(admission_, w, deadline, wait_reason::blocking_call);
      if (s == wake_status::canceled) {
        res = -ECANCELED;
        break;
      }
    }
    held_back_.fetch_sub(1, std::memory_order_relaxed);
    return res;
  }

  // Takes job back unless a thread has started it; true if it was withdrawn.
  bool withdraw(blocking_job& job) {
    std::unique_lock lk(mu_);
    if (job.started) return false;
    blocking_job* prev = nullptr;
    for (blocking_job* j = head_; j != &job; j = j->next) prev = j;
    (prev ? prev->next : head_) = job.next;
    if (tail_ == &job) tail_ = prev;
    queued_.fetch_sub(1, std::memory_order_release);
    bool held = held_back_.load(std::memory_order_relaxed) > 0;
    lk.unlock();
    if (held) wake_all(admission_);  // a slot came free
    return true;
  }

  void wake_held_back() noexcept {
    if (held_back_.load(std::memory_order_relaxed) > 0) wake_all(admission_);
  }

  // Queues job unless the queue filled up again meanwhile (then false).
  bool try_submit(blocking_job& job) {
    std::unique_lock lk(mu_);
    if (queued_.load(std::memory_order_relaxed) >= max_queued_.load(std::memory_order_relaxed)) return false;
    enqueue_locked(job, lk);
    return true;
  }

  void set_limits(const blocking_limits& l) {
    {
      std::lock_guard lk(mu_);
      limits_ = l;
      max_queued_.store(l.max_queued, std::memory_order_relaxed);
    }
    wake_all(admission_);
  }

  blocking_limits limits() {
    std::lock_guard lk(mu_);
    return limits_;
  }

  blocking_stats stats() {
    std::lock_guard lk(mu_);
    return {threads_, busy_, queued_.load(std::memory_order_relaxed), held_back_.load(std::memory_order_relaxed)};
  }

 private:
  bool has_room() const noexcept {
    return queued_.load(std::memory_order_acquire) < max_queued_.load(std::memory_order_relaxed);
  }

  void enqueue_locked(blocking_job& job, std::unique_lock<std::mutex>& lk) {
    job.next = nullptr;
    job.started = false;
    if (tail_) tail_->next = &job;
    else head_ = &job;
    tail_ = &job;
    queued_.fetch_add(1, std::memory_order_relaxed);
    if (idle_ > 0) {
      cv_.notify_one();
      return;
    }
    if (threads_ >= limits_.max_threads) return;  // a busy thread takes it later
    try {
      std::thread([this] { loop(); }).detach();
      ++threads_;
    } catch (const std::system_error& e) {
      if (threads_ > 0) return;  // the existing threads will get to it
      // Nobody can run it: take it back and tell the caller.
      unlink_tail(job);
      lk.unlock();
      throw error(errc::resource_exhausted, std::string("weft::blocking: cannot start an offload thread: ") + e.what());
    }
  }

  void unlink_tail(blocking_job& job) {
    blocking_job* prev = nullptr;
    for (blocking_job* j = head_; j != &job; j = j->next) prev = j;
    if (prev) prev->next = nullptr;
    else head_ = nullptr;
    tail_ = prev;
    queued_.fetch_sub(1, std::memory_order_relaxed);
  }

  void loop() {
    std::unique_lock lk(mu_);
    for (;;) {
      while (!head_ && !stopping_) {
        ++idle_;
        bool woke = cv_.wait_for(lk, idle_timeout, [&] { return head_ || stopping_; });
        --idle_;
        if (!woke) break;
      }
      if (!head_) break;  // idle too long, or the pool is going away
      blocking_job* job = head_;
      head_ = job->next;
      if (!head_) tail_ = nullptr;
      queued_.fetch_sub(1, std::memory_order_release);
      job->started = true;
      ++busy_;
      bool held = held_back_.load(std::memory_order_relaxed) > 0;
      lk.unlock();
      if (held) wake_all(admission_);
      job->run(job);
      if (job->home) {
        finish_withdrawable(*job);
      } else {
        // The caller parked with job->q locked: claiming waits until it is
        // parked. A caller whose wait was canceled meanwhile finds
        // `finished` under the same lock (offload()).
        wq_lock(job->q);
        job->finished = true;
        waiter* w = wq_claim_first(job->q);
        wq_unlock(job->q);
        if (w) complete(*w);  // job is gone after this
      }
      lk.lock();
      --busy_;
    }
    --threads_;
    if (threads_ == 0) exited_.notify_all();
  }

  // Publishes `finished` and claims the caller (the waiter keyed by job, if
  // parked) in one lock hold; the unlock is the last touch of job and home.
  static void finish_withdrawable(blocking_job& job) noexcept {
    wait_queue& home = *job.home;
    wq_lock(home);
    job.finished = true;
    waiter* claimed = nullptr;
    for (waiter* w = home.head; w; w = w->next) {
      if (w->data != &job) continue;
      wq_unlink(home, *w);
      if (try_claim(*w)) claimed = w;
      break;  // the caller parks with one waiter at a time
    }
    wq_unlock(home);
    if (claimed) complete(*claimed);
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable exited_;
  blocking_job* head_ = nullptr;
  blocking_job* tail_ = nullptr;
  std::atomic<std::size_t> queued_{0};  // written under mu_, read by has_room()
  std::atomic<std::size_t> max_queued_{blocking_limits{}.max_queued};
  std::atomic<std::size_t> held_back_{0};  // read without the lock by wake_held_back()
  unsigned threads_ = 0;
  unsigned idle_ = 0;
  unsigned busy_ = 0;
  bool stopping_ = false;
  blocking_limits limits_;
  wait_queue admission_;
};

offload_pool& pool() {
  static offload_pool p;
  return p;
}

}  // namespace

void offload(blocking_job& job) {
  offload_pool& p = pool();
  waiter w = make_waiter();
  job.finished = false;
  for (;;) {
    if (p.wait_for_room(-1, {}, true) != 0)
      throw error(errc::canceled, "blocking: stop was requested on the calling thread before the call started");
    wq_lock(job.q);
    bool queued;
    try {
      queued = p.try_submit(job);
    } catch (...) {
      wq_unlock(job.q);
      throw;
    }
    if (queued) break;
    wq_unlock(job.q);
  }
  wq_push(job.q, w);
  if (park_cancellable(job.q, w, -1, wait_reason::blocking_call) != wake_status::canceled) return;
  // A stop request: take the job back if no thread has started it (it then never runs)...
  if (p.withdraw(job))
    throw error(errc::canceled, "blocking: stop was requested on the calling thread before the call started");
  // ...else wait for its end, however late: it uses the caller's captures.
  waiter again = make_waiter();
  wq_lock(job.q);
  if (job.finished) {
    wq_unlock(job.q);
    return;
  }
  wq_push(job.q, again);
  park(job.q, again, -1, wait_reason::blocking_call);
}

bool offload_inline() noexcept { return current_tcb() == nullptr; }

int offload_until(blocking_job& job, wait_queue& home, std::int64_t deadline, offload_stop stop) {
  offload_pool& p = pool();
  job.home = &home;
  job.finished = false;
  for (;;) {
    if (int e = p.wait_for_room(deadline, stop); e != 0) return e;
    if (p.try_submit(job)) break;
  }
  bool waiting_for_thread = true;  // false once giving up failed: the job runs
  for (;;) {
    waiter w = make_waiter();
    w.data = &job;
    wq_lock(home);
    if (job.finished) {
      wq_unlock(home);
      return 0;
    }
    if (waiting_for_thread && (stop.stopped() || (deadline >= 0 && now_ns() >= deadline))) {
      wq_unlock(home);
      if (p.withdraw(job)) return stop.stopped() ? -ECANCELED : -ETIMEDOUT;
      waiting_for_thread = false;
      continue;
    }
    wq_push(home, w);
    park(home, w, waiting_for_thread ? deadline : -1, wait_reason::blocking_call);
  }
}

void offload_wake_held_back() noexcept { pool().wake_held_back(); }

}  // namespace weft::detail

namespace weft {

void set_blocking_limits(const blocking_limits& limits) {
  if (limits.max_threads == 0 || limits.max_queued == 0)
    throw error(errc::invalid_argument, "set_blocking_limits: max_threads and max_queued must be at least 1");
  detail::pool().set_limits(limits);
}

blocking_limits get_blocking_limits() { return detail::pool().limits(); }

blocking_stats get_blocking_stats() { return detail::pool().stats(); }

}  // namespace weft
