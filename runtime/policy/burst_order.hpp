// The ready queue of the policies that pick by each thread's predicted next
// CPU burst (the OS notes' SJF and HRRN): an array of entries under a
// spinlock. Each policy says which entry is best (sjf.cpp, hrrn.cpp);
// thieves take the best one, as an order cannot be split in halves.
//
// The prediction is tau(n+1) = a*t(n) + (1-a)*tau(n) over the thread's
// bursts (core/run_stats.hpp), tau(0) its spawn_attrs::expected_burst or
// options.initial_burst. It is read when the thread is queued: a queued
// thread does not run, so it cannot change until the thread is picked.
#pragma once

#include <atomic>
#include <cstdint>
#include <new>
#include <vector>

#include "base/clock.hpp"
#include "base/spinlock.hpp"
#include "core/policy.hpp"
#include "core/runtime_impl.hpp"
#include "core/tcb.hpp"
#include "core/worker_loop.hpp"

namespace weft::detail {

struct burst_entry {
  std::uint64_t burst;  // predicted next burst, ticks (at least 1)
  std::uint64_t since;  // ticks() when queued: the wait HRRN counts
  std::uint64_t seq;    // arrival order among equals
  tcb* t;
};

// Better(a, b, now): true if a should run before b.
template <class Better>
class burst_queue {
 public:
  // False when memory runs out (the core then spills to the global queue).
  bool push(tcb* t) noexcept {
    std::uint64_t burst = t->rt().predicted_burst(t);
    burst_entry e{burst ? burst : 1, ticks(), 0, t};
    lock_.lock();
    e.seq = seq_++;
    bool ok = true;
    try {
      entries_.push_back(e);
    } catch (const std::bad_alloc&) {
      ok = false;
    }
    if (ok) count_.fetch_add(1, std::memory_order_relaxed);
    lock_.unlock();
    return ok;
  }

  // The best entry's thread, or null.
  tcb* take_best() noexcept {
    if (empty()) return nullptr;
    std::uint64_t now = ticks();
    lock_.lock();
    tcb* t = nullptr;
    if (!entries_.empty()) {
      std::size_t best = 0;
      for (std::size_t i = 1; i < entries_.size(); ++i)
        if (Better{}(entries_[i], entries_[best], now)) best = i;
      t = entries_[best].t;
      entries_[best] = entries_.back();
      entries_.pop_back();
      count_.fetch_sub(1, std::memory_order_relaxed);
    }
    lock_.unlock();
    return t;
  }

  // After a failed push: the newer half, linked through tcb::next, for the global queue.
  tcb* spill() noexcept {
    lock_.lock();
    tcb* head = nullptr;
    std::size_t n = entries_.size() / 2;
    for (std::size_t i = 0; i < n; ++i) {
      tcb* t = entries_.back().t;
      entries_.pop_back();
      t->next = head;
      head = t;
    }
    count_.fetch_sub(n, std::memory_order_relaxed);
    lock_.unlock();
    return head;
  }

  bool empty() const noexcept { return count_.load(std::memory_order_relaxed) == 0; }

 private:
  spinlock lock_;
  std::vector<burst_entry> entries_;
  std::uint64_t seq_ = 0;
  std::atomic<std::size_t> count_{0};
};

// A policy ordered by Better (sjf.cpp, hrrn.cpp name theirs).
template <class Better>
class burst_policy final : public policy {
 public:
  bool push(tcb* t, enqueue_kind) noexcept override { return q_.push(t); }
  tcb* pop() noexcept { return q_.take_best(); }
  tcb* spill() noexcept { return q_.spill(); }
  tcb* steal_into(burst_policy&) noexcept { return q_.take_best(); }
  bool empty() const noexcept override { return q_.empty(); }
  const worker_ops& loop() const noexcept override { return worker_loop<burst_policy>::ops; }

 private:
  burst_queue<Better> q_;
};

}  // namespace weft::detail
