// suspend()/resume() of ready, blocked and running threads on 1, 2 and 4
// workers, from green and foreign threads, and racing the thread's own
// progress.
#include <atomic>
#include <thread>

#include "test_support.hpp"

namespace {

using namespace weft_test;
using weft::thread_state;

class SuspendTest : public WorkerCount {};
WEFT_WORKER_COUNTS(SuspendTest);

// A suspended thread makes no progress: its counter stays put.
void expect_frozen(const std::atomic<long>& counter) {
  long before = counter.load();
  weft::this_thread::sleep_for(3ms);
  EXPECT_EQ(counter.load(), before);
}

TEST_P(SuspendTest, YieldingThreadStopsAndContinues) {
  weft::runtime rt(opts());
  std::atomic<long> count{0};
  std::atomic<bool> stop{false};
  auto t = weft::spawn_in(rt, [&] {
    while (!stop.load()) {
      count.fetch_add(1);
      weft::this_thread::yield();
    }
  });
  ASSERT_TRUE(eventually([&] { return count.load() > 10; }));
  // On one worker it is ready or running right now; suspend takes either.
  weft::suspend(t.id());
  ASSERT_TRUE(reaches(t.id(), thread_state::suspended_ready));
  expect_frozen(count);
  weft::resume(t.id());
  long at_resume = count.load();
  ASSERT_TRUE(eventually([&] { return count.load() > at_resume + 10; }));
  stop.store(true);
  t.join();
}

TEST_P(SuspendTest, BlockedThreadStaysSuspendedAfterItsWakeUp) {
  weft::runtime rt(opts());
  weft::counting_semaphore sem(0);
  std::atomic<long> got{0};
  auto t = weft::spawn_in(rt, [&] {
    for (int i = 0; i < 3; ++i) {
      sem.acquire();
      got.fetch_add(1);
    }
  });
  ASSERT_TRUE(reaches(t.id(), thread_state::blocked));
  weft::suspend(t.id());
  EXPECT_EQ(state_of(t.id()), thread_state::suspended_blocked);
  sem.release();  // the unit is handed to the suspended waiter
  ASSERT_TRUE(reaches(t.id(), thread_state::suspended_ready));
  expect_frozen(got);
  EXPECT_EQ(got.load(), 0);
  weft::resume(t.id());
  ASSERT_TRUE(eventually([&] { return got.load() == 1; }));
  sem.release(2);
  t.join();
  EXPECT_EQ(got.load(), 3);
}

TEST_P(SuspendTest, SleepingThreadsTimerFiresWhileSuspended) {
  weft::runtime rt(opts());
  // The timer must come while the thread is suspended. A run where it came
  // first (this thread was descheduled for the whole sleep before suspend()
  // reached it) proves nothing and is repeated with a longer sleep.
  for (auto nap = 50ms;; nap *= 2) {
    ASSERT_LT(nap, absurdly_late) << "the sleep always ended before suspend() reached it";
    std::atomic<bool> woke{false};
    auto t = weft::spawn_in(rt, [&woke, nap] {
      weft::this_thread::sleep_for(nap);
      woke.store(true);
    });
    weft::thread_id id = t.id();
    ASSERT_TRUE(eventually([&] { return woke.load() || state_of(id) == thread_state::blocked; }));
    bool in_time = false;
    try {
      weft::suspend(id);
      // Still suspended_blocked after suspend() returned: the timer was pending.
      in_time = state_of(id) == thread_state::suspended_blocked;
      if (!in_time) weft::resume(id);
    } catch (const weft::error& e) {  // it ended meanwhile: nothing else refuses the calls
      EXPECT_TRUE(woke.load()) << e.what();
    }
    if (!in_time) {
      t.join();
      continue;
    }
    // The timer comes while suspended: it becomes suspended_ready, not ready.
    EXPECT_TRUE(reaches(id, thread_state::suspended_ready));
    // Given time to run, it must not (a short sleep can only hide a failure).
    weft::this_thread::sleep_for(20ms);
    EXPECT_FALSE(woke.load());
    weft::resume(id);
    t.join();
    EXPECT_TRUE(woke.load());
    break;
  }
}

// The caller is a foreign thread, so the target keeps its worker running.
TEST_P(SuspendTest, RunningThreadSuspendsAtItsNextSwitch) {
  weft::runtime rt(opts());
  std::atomic<bool> spinning{false};
  std::atomic<bool> stop_spinning{false};
  std::atomic<bool> after_yield{false};
  auto t = weft::spawn_in(rt, [&] {
    spinning.store(true);
    while (!stop_spinning.load()) {
    }
    weft::this_thread::yield();  // the suspension takes effect here
    after_yield.store(true);
  });
  ASSERT_TRUE(eventually([&] { return spinning.load(); }));
  EXPECT_EQ(state_of(t.id()), thread_state::running);
  weft::suspend(t.id());
  // Still running until it switches.
  EXPECT_EQ(state_of(t.id()), thread_state::running);
  stop_spinning.store(true);
  ASSERT_TRUE(reaches(t.id(), thread_state::suspended_ready));
  EXPECT_FALSE(after_yield.load());
  weft::resume(t.id());
  t.join();
  EXPECT_TRUE(after_yield.load());
}

TEST_P(SuspendTest, RunningThreadSuspendedWhileItParksBecomesSuspendedBlocked) {
  weft::runtime rt(opts());
  std::atomic<bool> spinning{false};
  std::atomic<bool> stop_spinning{false};
  std::atomic<bool> done{false};
  weft::event ev;
  auto t = weft::spawn_in(rt, [&] {
    spinning.store(true);
    while (!stop_spinning.load()) {
    }
    ev.wait();
    done.store(true);
  });
  ASSERT_TRUE(eventually([&] { return spinning.load(); }));
  weft::suspend(t.id());
  stop_spinning.store(true);
  ASSERT_TRUE(reaches(t.id(), thread_state::suspended_blocked));
  ev.set();
  ASSERT_TRUE(reaches(t.id(), thread_state::suspended_ready));
  EXPECT_FALSE(done.load());
  weft::resume(t.id());
  t.join();
  EXPECT_TRUE(done.load());
}

TEST_P(SuspendTest, ResumeBeforeTheNextSwitchCancelsAPendingSuspend) {
  weft::runtime rt(opts());
  std::atomic<bool> spinning{false};
  std::atomic<bool> stop_spinning{false};
  std::atomic<long> count{0};
  auto t = weft::spawn_in(rt, [&] {
    spinning.store(true);
    while (!stop_spinning.load()) {
    }
    for (int i = 0; i < 100; ++i) {
      count.fetch_add(1);
      weft::this_thread::yield();
    }
  });
  ASSERT_TRUE(eventually([&] { return spinning.load(); }));
  weft::suspend(t.id());
  weft::resume(t.id());
  stop_spinning.store(true);
  t.join();  // would hang if the suspension had stuck
  EXPECT_EQ(count.load(), 100);
}

TEST_P(SuspendTest, SelfSuspendResumedByAGreenThread) {
  weft::run(opts(), [] {
    std::atomic<int> step{0};
    auto t = weft::spawn([&] {
      step.store(1);
      weft::this_thread::suspend();
      step.store(2);
    });
    ASSERT_TRUE(reaches(t.id(), thread_state::suspended_ready));
    EXPECT_EQ(step.load(), 1);
    weft::resume(t.id());
    t.join();
    EXPECT_EQ(step.load(), 2);
  });
}

TEST_P(SuspendTest, ResumeOfANotSuspendedThreadIsInvalidState) {
  weft::runtime rt(opts());
  weft::event ev;
  auto t = weft::spawn_in(rt, [&] { ev.wait(); });
  ASSERT_TRUE(reaches(t.id(), thread_state::blocked));
  EXPECT_WEFT_ERROR(weft::resume(t.id()), weft::errc::invalid_state);
  weft::suspend(t.id());
  EXPECT_WEFT_ERROR(weft::suspend(t.id()), weft::errc::invalid_state);
  weft::resume(t.id());
  EXPECT_WEFT_ERROR(weft::resume(t.id()), weft::errc::invalid_state);
  ev.set();
  t.join();
}

TEST_P(SuspendTest, ThisThreadSuspendFromAForeignThreadIsNoRuntime) {
  EXPECT_WEFT_ERROR(weft::this_thread::suspend(), weft::errc::no_runtime);
}

TEST_P(SuspendTest, PinnedThreadResumesOnItsWorker) {
  weft::runtime rt(opts());
  weft::spawn_attrs a;
  a.pinned = true;
  std::atomic<int> first_worker{-1};
  std::atomic<bool> moved{false};
  auto t = weft::spawn_in(
      rt,
      [&] {
        first_worker.store(weft::this_thread::worker_index());
        for (int i = 0; i < 20; ++i) {
          weft::this_thread::suspend();
          if (weft::this_thread::worker_index() != first_worker.load()) moved.store(true);
        }
      },
      a);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(reaches(t.id(), thread_state::suspended_ready));
    weft::resume(t.id());
  }
  t.join();
  EXPECT_FALSE(moved.load());
}

// Suspends and resumes a thread that blocks and wakes on its own as fast
// as possible: every interleaving of the two state machines must end with
// the thread completing all of its work.
TEST_P(SuspendTest, SuspendResumeRacesWithBlockingAndWaking) {
  weft::runtime rt(opts());
  weft::mutex m;
  weft::condition_variable cv;
  long token = 0;
  constexpr long rounds = 2000;
  auto ping = weft::spawn_in(rt, [&] {
    for (long i = 0; i < rounds; ++i) {
      std::unique_lock lk(m);
      cv.wait(lk, [&] { return token % 2 == 0; });
      ++token;
      cv.notify_all();
    }
  });
  auto pong = weft::spawn_in(rt, [&] {
    for (long i = 0; i < rounds; ++i) {
      std::unique_lock lk(m);
      cv.wait(lk, [&] { return token % 2 == 1; });
      ++token;
      cv.notify_all();
    }
  });
  weft::thread_id id = ping.id();
  std::thread controller([&] {
    // Either call may only fail because the thread ended (a running thread
    // with a pending suspension may finish before it switches).
    auto ended = [&](const weft::error& e) {
      bool ok = e.code() == weft::errc::no_such_thread || state_of(id) == thread_state::terminated;
      EXPECT_TRUE(ok) << e.what();
    };
    for (int i = 0; i < 300; ++i) {
      try {
        weft::suspend(id);
        std::this_thread::yield();
        weft::resume(id);
      } catch (const weft::error& e) {
        ended(e);
        return;
      }
    }
  });
  controller.join();
  ping.join();
  pong.join();
  EXPECT_EQ(token, 2 * rounds);
}

}  // namespace
