// The blocking primitives between green threads: mutex, condition
// variable, counting semaphore, latch, wait group, event; their timeouts and
// their argument checks.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;
using clk = std::chrono::steady_clock;

class SyncTest : public WorkerCount {};
WEFT_WORKER_COUNTS(SyncTest);

// Timeouts are checked against generous upper bounds: these tests prove a
// timed wait ends, not how precisely (that is the benchmarks' job).
constexpr auto slack = absurdly_late;

// ---------------------------------------------------------------- mutex

TEST_P(SyncTest, MutexExcludesWithUniqueLock) {
  long counter = 0;
  weft::run(opts(), [&] {
    weft::mutex m;
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 32; ++i)
      ts.push_back(weft::spawn([&] {
        for (int k = 0; k < 500; ++k) {
          std::unique_lock lk(m);
          long v = counter;
          if (k % 16 == 0) weft::this_thread::yield();  // hold it across a switch
          counter = v + 1;
        }
      }));
    for (auto& t : ts) t.join();
  });
  EXPECT_EQ(counter, 32 * 500);
}

TEST_P(SyncTest, ScopedLockTakesTwoMutexesWithoutDeadlock) {
  long a = 0, b = 0;
  weft::run(opts(), [&] {
    weft::mutex ma, mb;
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 16; ++i)
      ts.push_back(weft::spawn([&, i] {
        for (int k = 0; k < 300; ++k) {
          // Opposite orders: std::scoped_lock's try-and-back-off must cope.
          if (i % 2) {
            std::scoped_lock lk(ma, mb);
            ++a, ++b;
          } else {
            std::scoped_lock lk(mb, ma);
            ++a, ++b;
          }
          if (k % 8 == 0) weft::this_thread::yield();
        }
      }));
    for (auto& t : ts) t.join();
  });
  EXPECT_EQ(a, 16 * 300);
  EXPECT_EQ(b, 16 * 300);
}

TEST_P(SyncTest, TryLockAndTryLockFor) {
  weft::run(opts(), [] {
    weft::mutex m;
    weft::event locked, release;
    auto holder = weft::spawn([&] {
      std::lock_guard lk(m);
      locked.set();
      release.wait();
    });
    locked.wait();
    EXPECT_FALSE(m.try_lock());
    auto t0 = clk::now();
    EXPECT_FALSE(m.try_lock_for(10ms));
    auto waited = clk::now() - t0;
    EXPECT_GE(waited, 10ms);
    EXPECT_LT(waited, 10ms + slack);
    EXPECT_FALSE(m.try_lock_until(clk::now() + 2ms));
    EXPECT_FALSE(m.try_lock_for(0ms));
    // A timed lock that the holder releases in time succeeds.
    auto late = weft::spawn([&] {
      weft::this_thread::sleep_for(5ms);
      release.set();
    });
    EXPECT_TRUE(m.try_lock_for(absurdly_late));
    m.unlock();
    holder.join();
    late.join();
    EXPECT_TRUE(m.try_lock());
    m.unlock();
  });
}

TEST_P(SyncTest, TimedOutLockersDoNotBreakTheMutex) {
  long counter = 0;
  weft::run(opts(), [&] {
    weft::mutex m;
    std::atomic<long> timeouts{0};
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 16; ++i)
      ts.push_back(weft::spawn([&] {
        for (int k = 0; k < 200; ++k) {
          if (m.try_lock_for(20us)) {
            ++counter;
            if (k % 4 == 0) weft::this_thread::yield();
            m.unlock();
          } else {
            timeouts.fetch_add(1);
            std::lock_guard lk(m);
            ++counter;
          }
        }
      }));
    for (auto& t : ts) t.join();
  });
  EXPECT_EQ(counter, 16 * 200);
}

// ---------------------------------------------------------------- condition variable

TEST_P(SyncTest, ConditionVariableProducerConsumer) {
  long consumed_sum = 0;
  weft::run(opts(), [&] {
    weft::mutex m;
    weft::condition_variable not_empty, not_full;
    std::vector<int> buf;
    bool done = false;
    constexpr int items = 5000;
    std::vector<weft::thread<long>> consumers;
    for (int c = 0; c < 4; ++c)
      consumers.push_back(weft::spawn([&] {
        long sum = 0;
        for (;;) {
          std::unique_lock lk(m);
          not_empty.wait(lk, [&] { return !buf.empty() || done; });
          if (buf.empty()) return sum;
          sum += buf.back();
          buf.pop_back();
          not_full.notify_one();
        }
      }));
    auto producer = weft::spawn([&] {
      for (int i = 1; i <= items; ++i) {
        std::unique_lock lk(m);
        not_full.wait(lk, [&] { return buf.size() < 8; });
        buf.push_back(i);
        not_empty.notify_one();
      }
      std::lock_guard lk(m);
      done = true;
      not_empty.notify_all();
    });
    producer.join();
    for (auto& c : consumers) consumed_sum += c.join();
  });
  EXPECT_EQ(consumed_sum, 5000L * 5001 / 2);
}

TEST_P(SyncTest, ConditionVariableNotifyAllWakesEveryone) {
  weft::run(opts(), [] {
    weft::mutex m;
    weft::condition_variable cv;
    bool go = false;
    std::atomic<int> waiting{0}, woke{0};
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 50; ++i)
      ts.push_back(weft::spawn([&] {
        std::unique_lock lk(m);
        waiting.fetch_add(1);
        cv.wait(lk, [&] { return go; });
        woke.fetch_add(1);
      }));
    ASSERT_TRUE(eventually([&] { return waiting.load() == 50; }));
    {
      std::lock_guard lk(m);
      go = true;
    }
    cv.notify_all();
    for (auto& t : ts) t.join();
    EXPECT_EQ(woke.load(), 50);
  });
}

TEST_P(SyncTest, ConditionVariableTimeouts) {
  weft::run(opts(), [] {
    weft::mutex m;
    weft::condition_variable cv;
    std::unique_lock lk(m);
    auto t0 = clk::now();
    EXPECT_EQ(cv.wait_for(lk, 10ms), std::cv_status::timeout);
    auto waited = clk::now() - t0;
    EXPECT_GE(waited, 10ms);
    EXPECT_LT(waited, 10ms + slack);
    EXPECT_TRUE(lk.owns_lock());
    EXPECT_FALSE(cv.wait_for(lk, 5ms, [] { return false; }));
    EXPECT_TRUE(cv.wait_for(lk, 5ms, [] { return true; }));
    EXPECT_EQ(cv.wait_until(lk, clk::now() + 3ms), std::cv_status::timeout);
    EXPECT_FALSE(cv.wait_until(lk, clk::now() - 1ms, [] { return false; }));
    EXPECT_EQ(cv.wait_for(lk, 0ms), std::cv_status::timeout);
    EXPECT_TRUE(lk.owns_lock());
  });
}

TEST_P(SyncTest, ConditionVariableNotifiedBeforeTheTimeout) {
  weft::run(opts(), [] {
    weft::mutex m;
    weft::condition_variable cv;
    bool flag = false;
    auto notifier = weft::spawn([&] {
      weft::this_thread::sleep_for(2ms);
      std::lock_guard lk(m);
      flag = true;
      cv.notify_one();
    });
    std::unique_lock lk(m);
    EXPECT_TRUE(cv.wait_for(lk, 10s, [&] { return flag; }));
    lk.unlock();
    notifier.join();
  });
}

TEST_P(SyncTest, ConditionVariableRejectsAnUnlockedLock) {
  weft::run(opts(), [] {
    weft::mutex m;
    weft::condition_variable cv;
    std::unique_lock lk(m, std::defer_lock);
    EXPECT_WEFT_ERROR(cv.wait(lk), weft::errc::invalid_state);
    EXPECT_WEFT_ERROR(cv.wait_for(lk, 1ms), weft::errc::invalid_state);
  });
}

// ---------------------------------------------------------------- semaphore

TEST_P(SyncTest, SemaphoreBoundsConcurrency) {
  weft::run(opts(), [] {
    weft::counting_semaphore sem(3);
    std::atomic<int> inside{0}, peak{0};
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 40; ++i)
      ts.push_back(weft::spawn([&] {
        for (int k = 0; k < 20; ++k) {
          sem.acquire();
          int now = inside.fetch_add(1) + 1;
          int p = peak.load();
          while (now > p && !peak.compare_exchange_weak(p, now)) {
          }
          weft::this_thread::yield();
          inside.fetch_sub(1);
          sem.release();
        }
      }));
    for (auto& t : ts) t.join();
    EXPECT_LE(peak.load(), 3);
    EXPECT_GE(peak.load(), 1);
    EXPECT_EQ(sem.available(), 3);
  });
}

TEST_P(SyncTest, SemaphoreReleaseManyWakesMany) {
  weft::run(opts(), [] {
    weft::counting_semaphore sem(0);
    std::atomic<int> passed{0};
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 100; ++i)
      ts.push_back(weft::spawn([&] {
        sem.acquire();
        passed.fetch_add(1);
      }));
    weft::this_thread::sleep_for(1ms);
    sem.release(60);
    ASSERT_TRUE(eventually([&] { return passed.load() == 60; }));
    weft::this_thread::sleep_for(2ms);
    EXPECT_EQ(passed.load(), 60);
    sem.release(45);
    for (auto& t : ts) t.join();
    EXPECT_EQ(passed.load(), 100);
    EXPECT_EQ(sem.available(), 5);
  });
}

TEST_P(SyncTest, SemaphoreTimeouts) {
  weft::run(opts(), [] {
    weft::counting_semaphore sem(1);
    EXPECT_TRUE(sem.try_acquire());
    EXPECT_FALSE(sem.try_acquire());
    auto t0 = clk::now();
    EXPECT_FALSE(sem.try_acquire_for(10ms));
    auto waited = clk::now() - t0;
    EXPECT_GE(waited, 10ms);
    EXPECT_LT(waited, 10ms + slack);
    EXPECT_FALSE(sem.try_acquire_until(clk::now() + 2ms));
    auto releaser = weft::spawn([&] {
      weft::this_thread::sleep_for(2ms);
      sem.release();
    });
    EXPECT_TRUE(sem.try_acquire_for(10s));
    releaser.join();
    EXPECT_EQ(sem.available(), 0);
  });
}

// ---------------------------------------------------------------- latch, wait group

TEST_P(SyncTest, LatchOpensAtZero) {
  weft::run(opts(), [] {
    weft::latch l(10);
    std::atomic<int> arrived{0};
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 10; ++i)
      ts.push_back(weft::spawn([&] {
        arrived.fetch_add(1);
        l.arrive_and_wait();
        EXPECT_EQ(arrived.load(), 10);  // nobody passes before everyone arrived
      }));
    l.wait();
    EXPECT_TRUE(l.try_wait());
    for (auto& t : ts) t.join();
    l.wait();  // stays open
  });
}

TEST_P(SyncTest, LatchTimeoutAndBadArguments) {
  weft::run(opts(), [] {
    weft::latch l(2);
    EXPECT_FALSE(l.try_wait());
    auto t0 = clk::now();
    EXPECT_FALSE(l.wait_for(5ms));
    EXPECT_GE(clk::now() - t0, 5ms);
    EXPECT_WEFT_ERROR(l.count_down(3), weft::errc::invalid_argument);
    EXPECT_WEFT_ERROR(l.count_down(-1), weft::errc::invalid_argument);
    l.count_down(2);
    EXPECT_TRUE(l.wait_for(0ms));
    EXPECT_WEFT_ERROR(weft::latch(-1), weft::errc::invalid_argument);
    weft::latch zero(0);
    EXPECT_TRUE(zero.try_wait());
    zero.wait();
  });
}

TEST_P(SyncTest, WaitGroupIsReusable) {
  weft::run(opts(), [] {
    weft::wait_group wg;
    std::atomic<int> done{0};
    for (int round = 1; round <= 3; ++round) {
      for (int i = 0; i < 20; ++i) {
        wg.add();
        weft::spawn([&] {
          weft::this_thread::yield();
          done.fetch_add(1);
          wg.done();
        }).detach();
      }
      wg.wait();
      EXPECT_EQ(done.load(), 20 * round);
      EXPECT_EQ(wg.count(), 0);
    }
  });
}

TEST_P(SyncTest, WaitGroupTimeoutAndBadArguments) {
  weft::run(opts(), [] {
    weft::wait_group wg;
    EXPECT_TRUE(wg.wait_for(0ms));
    wg.add(2);
    EXPECT_FALSE(wg.wait_for(5ms));
    EXPECT_WEFT_ERROR(wg.add(-3), weft::errc::invalid_argument);
    EXPECT_EQ(wg.count(), 2);
    wg.add(-2);
    EXPECT_TRUE(wg.wait_for(1ms));
    EXPECT_WEFT_ERROR(wg.done(), weft::errc::invalid_argument);
  });
}

// ---------------------------------------------------------------- event

TEST_P(SyncTest, EventReleasesAllWaitersAndStaysSet) {
  weft::run(opts(), [] {
    weft::event ev;
    std::atomic<int> passed{0};
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 30; ++i)
      ts.push_back(weft::spawn([&] {
        ev.wait();
        passed.fetch_add(1);
      }));
    weft::this_thread::sleep_for(1ms);
    EXPECT_EQ(passed.load(), 0);
    ev.set();
    for (auto& t : ts) t.join();
    EXPECT_EQ(passed.load(), 30);
    EXPECT_TRUE(ev.is_set());
    ev.wait();  // set: returns at once
    ev.reset();
    EXPECT_FALSE(ev.is_set());
    EXPECT_FALSE(ev.wait_for(2ms));
  });
}

TEST_P(SyncTest, EventTimeoutsEndOnTime) {
  weft::run(opts(), [] {
    weft::event ev;
    auto t0 = clk::now();
    EXPECT_FALSE(ev.wait_for(10ms));
    auto waited = clk::now() - t0;
    EXPECT_GE(waited, 10ms);
    EXPECT_LT(waited, 10ms + slack);
    auto setter = weft::spawn([&] {
      weft::this_thread::sleep_for(2ms);
      ev.set();
    });
    EXPECT_TRUE(ev.wait_for(10s));
    setter.join();
  });
}

// Many waiters time out while others are woken: the timeout/wake race
// (park.hpp's status CAS) must give each waiter exactly one outcome.
TEST_P(SyncTest, TimeoutsRacingWakeUps) {
  weft::run(opts(), [] {
    weft::counting_semaphore sem(0);
    std::atomic<int> acquired{0}, timed_out{0};
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 200; ++i)
      ts.push_back(weft::spawn([&, i] {
        if (sem.try_acquire_for(std::chrono::microseconds(50 + 10 * (i % 20)))) acquired.fetch_add(1);
        else timed_out.fetch_add(1);
      }));
    for (int i = 0; i < 100; ++i) {
      sem.release();
      if (i % 10 == 0) weft::this_thread::sleep_for(20us);
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(acquired.load() + timed_out.load(), 200);
    // Every unit went to exactly one thread or stayed in the semaphore.
    EXPECT_EQ(acquired.load() + sem.available(), 100);
  });
}

// ---------------------------------------------------------------- lifetime

// Go's pattern: the waiter owns the primitive and frees it as soon as its
// wait returns, while the releasing thread may still be inside
// done()/count_down()/set(). The waiter polls (timed waits of zero), which
// is when it sees "done" earliest; heap objects make a late touch by the
// releaser visible to ASan (use after free) and TSan (race with free).
// Rounds run for a fixed time, not a fixed count: each needs the releaser
// thread scheduled, which on a loaded machine can take a time slice.
template <class T, class Release, class Poll>
void free_right_after_release(Release release, Poll poll) {
  std::atomic<T*> handoff{nullptr};
  std::atomic<bool> stop{false};
  std::thread releaser([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      if (T* p = handoff.exchange(nullptr, std::memory_order_acq_rel)) release(*p);
      else std::this_thread::yield();
    }
  });
  auto end = clk::now() + 300ms;
  for (int r = 0; r < 20000 && clk::now() < end; ++r) {
    auto p = std::make_unique<T>();
    handoff.store(p.get(), std::memory_order_release);
    // Spin first (the earliest look at "done" is the one that races), then
    // let the releaser have the core.
    for (int spins = 0; !poll(*p); ++spins)
      if (spins > 20000) std::this_thread::yield();
  }
  stop.store(true);
  releaser.join();
}

struct one_latch : weft::latch {
  one_latch() : weft::latch(1) {}
};
struct one_group : weft::wait_group {
  one_group() { add(1); }
};

TEST(SyncLifetime, EventMayBeFreedWhenTheWaitReturns) {
  free_right_after_release<weft::event>(
      [](weft::event& e) { e.set(); }, [](weft::event& e) { return e.wait_for(0ns); });
}

TEST(SyncLifetime, LatchMayBeFreedWhenTheWaitReturns) {
  free_right_after_release<one_latch>(
      [](one_latch& l) { l.count_down(); }, [](one_latch& l) { return l.wait_for(0ns); });
}

TEST(SyncLifetime, WaitGroupMayBeFreedWhenTheWaitReturns) {
  free_right_after_release<one_group>(
      [](one_group& g) { g.done(); }, [](one_group& g) { return g.wait_for(0ns); });
}

// The lock-free looks promise the same as a returning wait.
TEST(SyncLifetime, EventMayBeFreedOnceIsSetSaysSo) {
  free_right_after_release<weft::event>([](weft::event& e) { e.set(); }, [](weft::event& e) { return e.is_set(); });
}

TEST(SyncLifetime, LatchMayBeFreedOnceTryWaitSaysSo) {
  free_right_after_release<one_latch>([](one_latch& l) { l.count_down(); },
                                      [](one_latch& l) { return l.try_wait(); });
}

TEST(SyncLifetime, WaitGroupMayBeFreedOnceCountIsZero) {
  free_right_after_release<one_group>([](one_group& g) { g.done(); },
                                      [](one_group& g) { return g.count() == 0; });
}

// sem_post's promise (glibc bug 12674): the thread that takes the unit may
// destroy the semaphore while release() is still returning.
struct zero_sem : weft::counting_semaphore {
  zero_sem() : weft::counting_semaphore(0) {}
};
TEST(SyncLifetime, SemaphoreMayBeFreedByTheAcquirerRightAfterRelease) {
  free_right_after_release<zero_sem>([](zero_sem& s) { s.release(); }, [](zero_sem& s) { return s.try_acquire(); });
}

// A reference-counted object guarded by its own mutex: the last user frees
// it right after unlocking, which POSIX and std::mutex users rely on (glibc
// bug 13690 was a mutex that touched itself after the releasing store). The
// race window is a few instructions, so this reproduces only occasionally
// on a broken mutex; under ASan it shows as a heap-use-after-free in
// mutex::unlock. Kernel threads, so the three users really run in parallel.
TEST(SyncLifetime, MutexMayBeFreedByTheLastUserRightAfterUnlock) {
  struct shared_obj {
    weft::mutex m;
    int refs = 3;
  };
  auto end = clk::now() + 1s;
  for (int round = 0; round < 20000 && clk::now() < end; ++round) {
    auto* o = new shared_obj;
    auto user = [o] {
      bool last;
      {
        std::lock_guard lk(o->m);
        last = --o->refs == 0;
      }
      if (last) delete o;
    };
    std::thread a(user), b(user), c(user);
    a.join();
    b.join();
    c.join();
  }
}

// The same between green threads, blocking waits instead of polls.
TEST_P(SyncTest, WaitGroupLatchEventMayBeFreedWhenTheWaitReturns) {
  weft::run(opts(), [] {
    for (int round = 0; round < 3000 / spawn_scale_down; ++round) {
      auto wg = std::make_unique<weft::wait_group>();
      auto l = std::make_unique<weft::latch>(1);
      auto ev = std::make_unique<weft::event>();
      wg->add(1);
      weft::spawn([w = wg.get(), lp = l.get(), e = ev.get()] {
        w->done();
        lp->count_down();
        e->set();
      }).detach();
      wg->wait();
      wg.reset();
      l->wait();
      l.reset();
      ev->wait();
      ev.reset();
    }
  });
}

// ---------------------------------------------------------------- bad timeouts

TEST_P(SyncTest, NegativeTimeoutsAreInvalidArguments) {
  weft::run(opts(), [] {
    weft::mutex m;
    weft::condition_variable cv;
    weft::counting_semaphore sem(0);
    weft::latch l(1);
    weft::wait_group wg;
    weft::event ev;
    // A free mutex must not hide the bad argument.
    EXPECT_WEFT_ERROR(m.try_lock_for(-1ms), weft::errc::invalid_argument);
    EXPECT_TRUE(m.try_lock());
    m.unlock();
    m.lock();  // so try_lock_for really reaches its slow path
    EXPECT_WEFT_ERROR(m.try_lock_for(-1ns), weft::errc::invalid_argument);
    m.unlock();
    {
      std::unique_lock lk(m);
      EXPECT_WEFT_ERROR(cv.wait_for(lk, -1ms), weft::errc::invalid_argument);
      EXPECT_TRUE(lk.owns_lock());
      EXPECT_WEFT_ERROR(cv.wait_for(lk, -5s, [] { return false; }), weft::errc::invalid_argument);
    }
    EXPECT_WEFT_ERROR(sem.try_acquire_for(-1ms), weft::errc::invalid_argument);
    weft::counting_semaphore one(1);  // a free unit must not hide the bad argument
    EXPECT_WEFT_ERROR(one.try_acquire_for(-1ms), weft::errc::invalid_argument);
    EXPECT_EQ(one.available(), 1);
    EXPECT_WEFT_ERROR(l.wait_for(-1ms), weft::errc::invalid_argument);
    EXPECT_WEFT_ERROR(wg.wait_for(-1ms), weft::errc::invalid_argument);
    EXPECT_WEFT_ERROR(ev.wait_for(-1ms), weft::errc::invalid_argument);
    EXPECT_WEFT_ERROR(weft::this_thread::sleep_for(-1ms), weft::errc::invalid_argument);
    EXPECT_WEFT_ERROR(weft::counting_semaphore(-1), weft::errc::invalid_argument);
    EXPECT_WEFT_ERROR(sem.release(-1), weft::errc::invalid_argument);
    // Nothing was left locked or queued by the rejected calls.
    EXPECT_TRUE(m.try_lock());
    m.unlock();
  });
}

TEST_P(SyncTest, SemaphoreCountIsBoundedByMax) {
  weft::run(opts(), [] {
    EXPECT_WEFT_ERROR(weft::counting_semaphore(weft::counting_semaphore::max() + 1), weft::errc::invalid_argument);
    weft::counting_semaphore full(weft::counting_semaphore::max());
    EXPECT_EQ(full.available(), weft::counting_semaphore::max());
    EXPECT_WEFT_ERROR(full.release(1), weft::errc::invalid_argument);
    EXPECT_EQ(full.available(), weft::counting_semaphore::max());  // the failed release added nothing
    EXPECT_TRUE(full.try_acquire());
    full.release(1);
    EXPECT_EQ(full.available(), weft::counting_semaphore::max());

    // Units handed to waiters never count against max(): a release that
    // overflows still wakes the waiters it could serve before it throws.
    weft::counting_semaphore sem(0);
    std::atomic<int> got{0};
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 3; ++i) ts.push_back(weft::spawn([&] {
      sem.acquire();
      ++got;
    }));
    auto parked = [] {
      int n = 0;
      for (auto& info : weft::snapshot()) n += info.waiting_for == weft::wait_reason::semaphore;
      return n;
    };
    while (parked() < 3) weft::this_thread::yield();
    // 3 units go to the waiters; the other max() + 1 cannot fit the count.
    EXPECT_WEFT_ERROR(sem.release(weft::counting_semaphore::max() + 4), weft::errc::invalid_argument);
    EXPECT_EQ(sem.available(), 0);
    for (auto& t : ts) t.join();
    EXPECT_EQ(got.load(), 3);
  });
}

}  // namespace
