// The per-worker timer heap (core/timer_heap.hpp) driven directly, without a
// runtime: waiters with deadlines are added, cancelled and fired; fire()
// reports a fired waiter through its owner (a dummy TCB that never runs).
// Ends with random operations against a std::multimap model and a cancel
// racing fire from another kernel thread.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "core/park.hpp"
#include "core/tcb.hpp"
#include "core/timer_heap.hpp"

namespace {

using weft::detail::tcb;
using weft::detail::timer_heap;
using weft::detail::wake_status;
using weft::detail::waiter;

constexpr std::size_t npos = static_cast<std::size_t>(-1);

#if defined(__SANITIZE_THREAD__)
constexpr int scale_down = 10;
#else
constexpr int scale_down = 1;
#endif

// n waiters, waiter i owned by dummy TCB i.
class waiters {
 public:
  explicit waiters(std::size_t n) : w_(new waiter[n]), t_(new tcb[n]) {
    for (std::size_t i = 0; i < n; ++i) w_[i].owner = &t_[i];
  }
  waiter& operator[](std::size_t i) { return w_[i]; }
  // Re-arms waiter i for another add (a fresh park would make a new one).
  waiter& arm(std::size_t i, std::int64_t deadline) {
    w_[i].status.store(static_cast<std::uint32_t>(wake_status::pending));
    w_[i].deadline = deadline;
    return w_[i];
  }
  std::size_t index(const tcb* t) const { return static_cast<std::size_t>(t - t_.get()); }
  std::vector<std::size_t> indices(const std::vector<tcb*>& ts) const {
    std::vector<std::size_t> out;
    for (tcb* t : ts) out.push_back(index(t));
    return out;
  }

 private:
  std::unique_ptr<waiter[]> w_;
  std::unique_ptr<tcb[]> t_;
};

std::vector<std::size_t> fire(timer_heap& h, std::int64_t now, const waiters& ws) {
  std::vector<tcb*> out;
  h.fire(now, out);
  return ws.indices(out);
}

std::vector<std::size_t> sorted(std::vector<std::size_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(TimerHeap, EmptyHasNoDeadline) {
  timer_heap h;
  waiters ws(1);
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.next_deadline(), -1);
  EXPECT_TRUE(fire(h, INT64_MAX, ws).empty());
  h.cancel(ws[0]);  // never added: nothing happens
  EXPECT_TRUE(h.empty());
}

TEST(TimerHeap, NextDeadlineIsTheEarliest) {
  timer_heap h;
  waiters ws(4);
  auto* owner = reinterpret_cast<weft::detail::worker*>(&h);  // only recorded, never used
  h.add(ws.arm(0, 300), owner);
  EXPECT_EQ(ws[0].timer_owner, owner);
  EXPECT_FALSE(h.empty());
  EXPECT_EQ(h.next_deadline(), 300);
  h.add(ws.arm(1, 500), nullptr);
  EXPECT_EQ(h.next_deadline(), 300);
  h.add(ws.arm(2, 100), nullptr);
  EXPECT_EQ(h.next_deadline(), 100);
  h.add(ws.arm(3, 0), nullptr);
  EXPECT_EQ(h.next_deadline(), 0);
}

TEST(TimerHeap, FiresWhatIsDueInDeadlineOrder) {
  timer_heap h;
  waiters ws(6);
  for (std::size_t i : {3u, 0u, 5u, 1u, 4u, 2u}) h.add(ws.arm(i, 10 * static_cast<std::int64_t>(i + 1)), nullptr);
  EXPECT_TRUE(fire(h, 9, ws).empty()) << "fired before its deadline";
  EXPECT_EQ(fire(h, 30, ws), (std::vector<std::size_t>{0, 1, 2})) << "a deadline equal to now is due";
  EXPECT_EQ(h.next_deadline(), 40);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ws[i].load(), wake_status::timed_out);
    EXPECT_EQ(ws[i].heap_index, npos);
  }
  EXPECT_EQ(ws[3].load(), wake_status::pending);
  EXPECT_EQ(fire(h, 1000, ws), (std::vector<std::size_t>{3, 4, 5}));
  EXPECT_TRUE(h.empty());
  EXPECT_TRUE(fire(h, 2000, ws).empty()) << "fired twice";
}

TEST(TimerHeap, EqualDeadlinesFireTogetherOnce) {
  timer_heap h;
  waiters ws(40);
  // 0..9 at 100, 10..29 at 200, 30..39 at 100 again (added last).
  for (std::size_t i = 0; i < 40; ++i) h.add(ws.arm(i, i >= 10 && i < 30 ? 200 : 100), nullptr);
  // The heap is not stable: among equal deadlines the order is unspecified.
  std::vector<std::size_t> first = fire(h, 150, ws);
  std::vector<std::size_t> expected;
  for (std::size_t i = 0; i < 10; ++i) expected.push_back(i);
  for (std::size_t i = 30; i < 40; ++i) expected.push_back(i);
  EXPECT_EQ(sorted(first), expected);
  EXPECT_EQ(h.next_deadline(), 200);
  std::vector<std::size_t> second = fire(h, 200, ws);
  expected.clear();
  for (std::size_t i = 10; i < 30; ++i) expected.push_back(i);
  EXPECT_EQ(sorted(second), expected);
  EXPECT_TRUE(h.empty());
}

TEST(TimerHeap, CancelRemovesAnyEntry) {
  timer_heap h;
  waiters ws(16);
  for (std::size_t i = 0; i < 16; ++i) h.add(ws.arm(i, 1000 - 10 * static_cast<std::int64_t>(i)), nullptr);
  // The root (earliest, 15), a leaf, and entries in between.
  for (std::size_t i : {15u, 0u, 7u, 8u, 3u}) {
    h.cancel(ws[i]);
    EXPECT_EQ(ws[i].heap_index, npos);
    EXPECT_EQ(ws[i].load(), wake_status::pending) << "cancel changes only the heap";
  }
  h.cancel(ws[7]);  // twice: nothing happens
  EXPECT_EQ(h.next_deadline(), 1000 - 10 * 14);
  EXPECT_EQ(fire(h, 2000, ws), (std::vector<std::size_t>{14, 13, 12, 11, 10, 9, 6, 5, 4, 2, 1}));
  EXPECT_TRUE(h.empty());
  h.cancel(ws[1]);  // after it fired: nothing happens
}

TEST(TimerHeap, ClaimedWaiterIsDroppedNotReported) {
  // A waker claimed it first: fire removes it without timing it out.
  timer_heap h;
  waiters ws(3);
  for (std::size_t i = 0; i < 3; ++i) h.add(ws.arm(i, 10), nullptr);
  ASSERT_TRUE(weft::detail::try_claim(ws[1]));
  EXPECT_EQ(sorted(fire(h, 10, ws)), (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(ws[1].load(), wake_status::claimed);
  EXPECT_TRUE(h.empty());
}

// Random adds (deadlines from a small range, so many are equal), cancels,
// fires at an advancing clock, and waiters a waker claims first; checked
// after every step against a multimap of deadline -> waiter.
TEST(TimerHeap, RandomOperationsMatchAMultimapModel) {
  constexpr std::size_t n = 512;
  timer_heap h;
  waiters ws(n);
  std::multimap<std::int64_t, std::size_t> model;
  std::vector<bool> in_heap(n, false), claimed(n, false);
  std::mt19937 rng(4321);
  std::int64_t now = 0;
  auto erase = [&](std::size_t i) {
    for (auto it = model.begin(); it != model.end(); ++it)
      if (it->second == i) {
        model.erase(it);
        return;
      }
    FAIL() << "waiter " << i << " not in the model";
  };
  const int ops = 100000 / scale_down;
  for (int op = 0; op < ops; ++op) {
    std::size_t i = rng() % n;
    unsigned dice = rng() % 100;
    if (dice < 50) {
      if (in_heap[i]) continue;
      std::int64_t d = now + static_cast<std::int64_t>(rng() % 64);
      h.add(ws.arm(i, d), nullptr);
      model.emplace(d, i);
      in_heap[i] = true;
      claimed[i] = false;
    } else if (dice < 70) {
      h.cancel(ws[i]);  // also when not in the heap
      if (in_heap[i]) erase(i);
      in_heap[i] = false;
    } else if (dice < 80) {
      if (!in_heap[i] || claimed[i]) continue;
      // Woken first: the waker claims, then the waiter cancels its timer
      // (park.cpp) -- or the timer fires first and drops it.
      ASSERT_TRUE(weft::detail::try_claim(ws[i]));
      claimed[i] = true;
      if (rng() % 2) {
        h.cancel(ws[i]);
        erase(i);
        in_heap[i] = false;
      }
    } else {
      now += static_cast<std::int64_t>(rng() % 16);
      std::vector<tcb*> out;
      h.fire(now, out);
      // Reported in deadline order, and exactly the due ones no waker claimed.
      std::int64_t prev = -1;
      for (tcb* t : out) {
        std::int64_t d = ws[ws.index(t)].deadline;
        ASSERT_LE(prev, d) << "op " << op << ": fired out of deadline order";
        prev = d;
      }
      std::vector<std::size_t> expected;
      for (auto it = model.begin(); it != model.end() && it->first <= now; it = model.erase(it)) {
        std::size_t j = it->second;
        in_heap[j] = false;
        if (claimed[j]) {
          ASSERT_EQ(ws[j].load(), wake_status::claimed) << "op " << op;
        } else {
          ASSERT_EQ(ws[j].load(), wake_status::timed_out) << "op " << op;
          expected.push_back(j);
        }
      }
      ASSERT_EQ(sorted(ws.indices(out)), sorted(expected)) << "op " << op;
    }
    ASSERT_EQ(h.next_deadline(), model.empty() ? -1 : model.begin()->first) << "op " << op;
  }
}

// The owner fires while another kernel thread wakes waiters first (claim,
// then cancel, as park.cpp does for a woken waiter): every waiter ends
// either reported by fire (timed_out) or claimed by the waker, never both,
// never neither.
TEST(TimerHeap, CancelRacingFireSettlesEachWaiterOnce) {
  constexpr std::size_t n = 2000 / scale_down;
  for (int round = 0; round < 5; ++round) {
    timer_heap h;
    waiters ws(n);
    for (std::size_t i = 0; i < n; ++i) h.add(ws.arm(i, static_cast<std::int64_t>(i)), nullptr);
    std::atomic<bool> go{false};
    std::vector<bool> claimed(n, false);
    std::thread waker([&] {
      while (!go.load()) std::this_thread::yield();
      for (std::size_t i = n; i-- > 0;) {  // from the far end, towards the firing
        if (weft::detail::try_claim(ws[i])) {
          claimed[i] = true;
          h.cancel(ws[i]);
        }
      }
    });
    std::vector<tcb*> out;
    go.store(true);
    for (std::int64_t now = 0; now < static_cast<std::int64_t>(n); now += 7) h.fire(now, out);
    waker.join();
    h.fire(INT64_MAX, out);
    EXPECT_TRUE(h.empty());
    std::vector<int> settled(n, 0);
    for (tcb* t : out) {
      std::size_t i = ws.index(t);
      ++settled[i];
      EXPECT_EQ(ws[i].load(), wake_status::timed_out);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (claimed[i]) ++settled[i];
      EXPECT_EQ(settled[i], 1) << "waiter " << i << (claimed[i] ? " claimed" : "");
    }
  }
}

}  // namespace
