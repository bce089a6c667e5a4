// snapshot(): every field of the TCB as a `ps` for green threads sees it.
#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;
using weft::thread_state;
using weft::wait_reason;

class SnapshotTest : public WorkerCount {};
WEFT_WORKER_COUNTS(SnapshotTest);

TEST_P(SnapshotTest, IdentityFields) {
  weft::run(opts(), [this] {
    weft::spawn_attrs a;
    a.name = "worker-bee";
    a.priority = 12;
    a.pinned = true;
    weft::event release;
    auto before = std::chrono::system_clock::now();
    auto t = weft::spawn([&] { release.wait(); }, a);
    auto after = std::chrono::system_clock::now();
    ASSERT_TRUE(reaches(t.id(), thread_state::blocked));
    auto i = info_of(t.id());
    ASSERT_TRUE(i.has_value());
    EXPECT_EQ(i->id, t.id());
    EXPECT_EQ(i->name, "worker-bee");
    EXPECT_EQ(i->priority, 12);
    EXPECT_TRUE(i->pinned);
    EXPECT_EQ(i->parent, weft::this_thread::id());
    EXPECT_TRUE(i->children.empty());
    // created_at comes from the cycle counter: allow for its conversion.
    EXPECT_GE(i->created_at, before - 50ms);
    EXPECT_LE(i->created_at, after + 50ms);
    EXPECT_GE(i->worker, 0);
    // One of the workers, or a spare a hand-off started (under sanitizers a
    // worker's kernel thread can sleep past the hand-off threshold).
    EXPECT_LT(i->worker, static_cast<int>(weft::stats().workers.size()));
    release.set();
    t.join();
    auto me = info_of(weft::this_thread::id());
    ASSERT_TRUE(me.has_value());
    EXPECT_EQ(me->name, "main");
    EXPECT_EQ(me->state, thread_state::running);
    EXPECT_FALSE(me->pinned);
    EXPECT_EQ(me->worker, weft::this_thread::worker_index());
  });
}

TEST_P(SnapshotTest, ParentAndChildren) {
  weft::run(opts(), [] {
    weft::event release;
    std::vector<weft::thread<void>> kids;
    for (int i = 0; i < 3; ++i) kids.push_back(weft::spawn([&] { release.wait(); }));
    auto snap = weft::snapshot();
    auto me = find_info(snap, weft::this_thread::id());
    ASSERT_TRUE(me.has_value());
    std::vector<weft::thread_id> want{kids[0].id(), kids[1].id(), kids[2].id()};
    std::vector<weft::thread_id> got = me->children;
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want);
    for (auto& k : kids) EXPECT_EQ(find_info(snap, k.id())->parent, weft::this_thread::id());
    // The root of run() has no green parent.
    EXPECT_EQ(me->parent, 0u);
    release.set();
    for (auto& k : kids) k.join();
    EXPECT_TRUE(info_of(weft::this_thread::id())->children.empty());
  });
}

TEST_P(SnapshotTest, SnapshotIsSortedAndComplete) {
  weft::runtime rt(opts());
  weft::event release;
  std::vector<weft::thread<void>> ts;
  for (int i = 0; i < 100; ++i) ts.push_back(weft::spawn_in(rt, [&] { release.wait(); }));
  auto snap = rt.snapshot();
  ASSERT_EQ(snap.size(), 100u);
  for (std::size_t i = 0; i + 1 < snap.size(); ++i) EXPECT_LT(snap[i].id, snap[i + 1].id);
  for (auto& t : ts) EXPECT_TRUE(find_info(snap, t.id()).has_value());
  release.set();
  for (auto& t : ts) t.join();
  EXPECT_TRUE(eventually([&] { return rt.snapshot().empty(); }));
}

// A thread that spins without ever switching (it is alone on its worker, so
// its yields return at once) is exactly the one a `ps` must show on its worker.
TEST_P(SnapshotTest, RunTimeGrowsForASpinningThread) {
  weft::runtime rt(opts());
  std::atomic<bool> stop{false};
  auto t = weft::spawn_in(rt, [&] {
    while (!stop.load()) {
      auto until = std::chrono::steady_clock::now() + 1ms;
      while (std::chrono::steady_clock::now() < until) {
      }
      weft::this_thread::yield();
    }
  });
  struct stopper {
    std::atomic<bool>& stop;
    ~stopper() { stop.store(true); }  // a failed assertion must not leave it spinning forever
  } guard{stop};
  weft::thread_id id = t.id();
  ASSERT_TRUE(eventually([&] { return find_info(rt.snapshot(), id)->state == weft::thread_state::running; }));
  auto first = *find_info(rt.snapshot(), id);
  EXPECT_TRUE(eventually([&] { return find_info(rt.snapshot(), id)->run_time >= first.run_time + 20ms; }))
      << "run_time stuck at " << find_info(rt.snapshot(), id)->run_time.count() << " ns";
}

TEST_P(SnapshotTest, SwitchesCountForYieldingThreads) {
  weft::runtime rt(opts());
  std::atomic<bool> stop{false};
  // Two yielders on one worker (pinned together) switch to each other.
  weft::spawn_attrs a;
  a.pinned = true;
  auto t = weft::spawn_in(rt, [&] {
    auto other = weft::spawn([&] {
      while (!stop.load()) weft::this_thread::yield();
    }, a);
    while (!stop.load()) weft::this_thread::yield();
    other.join();
  }, a);
  struct stopper {
    std::atomic<bool>& stop;
    ~stopper() { stop.store(true); }
  } guard{stop};
  weft::thread_id id = t.id();
  EXPECT_TRUE(eventually([&] { return find_info(rt.snapshot(), id)->switches >= 100; }));
}

TEST_P(SnapshotTest, RunTimeIsNotChargedWhileBlocked) {
  // No time bound (a loaded machine can deschedule the worker mid-run): a
  // blocked thread's run time must simply not move while it stays blocked.
  weft::runtime rt(opts());
  auto release = std::make_shared<weft::event>();
  auto t = weft::spawn_in(rt, [release] { release->wait(); });
  weft::thread_id id = t.id();
  ASSERT_TRUE(eventually([&] { return find_info(rt.snapshot(), id)->state == thread_state::blocked; }));
  auto before = *find_info(rt.snapshot(), id);
  EXPECT_GE(before.switches, 1u);
  for (int i = 0; i < 50; ++i) std::this_thread::yield();
  auto after = *find_info(rt.snapshot(), id);
  EXPECT_EQ(after.state, thread_state::blocked);
  EXPECT_EQ(after.run_time, before.run_time);
  release->set();
  t.join();
}

// cpu_time, the deprecated former name of run_time, reads the same value.
TEST_P(SnapshotTest, DeprecatedCpuTimeIsRunTime) {
  weft::runtime rt(opts());
  std::atomic<bool> stop{false};
  auto t = weft::spawn_in(rt, [&] {
    while (!stop.load()) weft::this_thread::yield();
  });
  struct stopper {
    std::atomic<bool>& stop;
    ~stopper() { stop.store(true); }
  } guard{stop};
  weft::thread_id id = t.id();
  ASSERT_TRUE(eventually([&] { return find_info(rt.snapshot(), id)->run_time > 0ns; }));
  weft::thread_info i = *find_info(rt.snapshot(), id);
  weft::thread_info copy = i;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  EXPECT_EQ(i.cpu_time, i.run_time);
  EXPECT_EQ(copy.cpu_time, i.run_time);
#pragma GCC diagnostic pop
}

TEST_P(SnapshotTest, NeverRunThreadHasNoWorker) {
  weft::runtime rt(opts());
  weft::spawn_attrs a;
  a.start_suspended = true;
  auto t = weft::spawn_in(rt, [] {}, a);
  auto i = *find_info(rt.snapshot(), t.id());
  EXPECT_EQ(i.worker, -1);
  EXPECT_EQ(i.switches, 0u);
  EXPECT_EQ(i.run_time, 0ns);
  weft::resume(t.id());
  t.join();
}

// Blocks a thread in each primitive and checks the reason the snapshot gives.
TEST_P(SnapshotTest, WaitReasons) {
  weft::run(opts(), [] {
    weft::mutex m;
    weft::condition_variable cv;
    weft::counting_semaphore sem(0);
    weft::latch l(1);
    weft::wait_group wg;
    wg.add();
    weft::event ev;
    bool cv_flag = false;

    m.lock();
    auto on_mutex = weft::spawn([&] { std::lock_guard lk(m); });
    std::atomic<bool> stop_sleeping{false};
    // Sleeps until released, not for a time: it is seen asleep however late
    // the check below comes.
    auto on_sleep = weft::spawn([&] {
      while (!stop_sleeping.load()) weft::this_thread::sleep_for(10ms);
    });
    auto on_cv = weft::spawn([&] {
      std::unique_lock lk(m, std::defer_lock);
      // Wait until main lets go of m for cv's sake.
      lk.lock();
      cv.wait(lk, [&] { return cv_flag; });
    });
    auto on_sem = weft::spawn([&] { sem.acquire(); });
    auto on_latch = weft::spawn([&] { l.wait(); });
    auto on_wg = weft::spawn([&] { wg.wait(); });
    auto on_event = weft::spawn([&] { ev.wait(); });
    auto on_join = weft::spawn([&] {
      auto inner = weft::spawn([&] { ev.wait(); });
      inner.join();
    });
    auto on_join_any = weft::spawn([&] {
      weft::spawn([&] { ev.wait(); }).detach();
      auto kid = weft::spawn([&] { ev.wait(); });
      weft::join_any();
      kid.join();
    });

    auto reason_is = [](weft::thread_id id, wait_reason r) {
      return eventually([&] {
        auto i = info_of(id);
        return i && i->state == thread_state::blocked && i->waiting_for == r;
      });
    };
    EXPECT_TRUE(reason_is(on_mutex.id(), wait_reason::mutex));
    EXPECT_TRUE(reason_is(on_sleep.id(), wait_reason::sleep));
    EXPECT_TRUE(reason_is(on_sem.id(), wait_reason::semaphore));
    EXPECT_TRUE(reason_is(on_latch.id(), wait_reason::latch));
    EXPECT_TRUE(reason_is(on_wg.id(), wait_reason::wait_group));
    EXPECT_TRUE(reason_is(on_event.id(), wait_reason::event));
    EXPECT_TRUE(reason_is(on_join.id(), wait_reason::join));
    EXPECT_TRUE(reason_is(on_join_any.id(), wait_reason::join_any));
    m.unlock();
    EXPECT_TRUE(reason_is(on_cv.id(), wait_reason::condition));

    // A suspended blocked thread keeps its reason.
    weft::suspend(on_event.id());
    auto i = info_of(on_event.id());
    EXPECT_EQ(i->state, thread_state::suspended_blocked);
    EXPECT_EQ(i->waiting_for, wait_reason::event);
    weft::resume(on_event.id());

    // Release everything; woken threads no longer show a reason.
    {
      std::lock_guard lk(m);
      cv_flag = true;
    }
    cv.notify_all();
    sem.release();
    l.count_down();
    wg.done();
    ev.set();
    stop_sleeping.store(true);
    on_mutex.join();
    on_cv.join();
    on_sem.join();
    on_latch.join();
    on_wg.join();
    on_event.join();
    on_join.join();
    on_join_any.join();
    on_sleep.join();
  });
}

}  // namespace
