// weft::mutex fairness (include/weft/mutex.hpp, runtime/sync/mutex.cpp):
// a waiter is not starved by threads that relock in a loop, hand-off mode
// keeps mutual exclusion, and try_lock and timed locks behave in it.
//
// No test bounds how long anything takes: a loaded machine delays every
// step. They wait for conditions (eventually(), events, joins); the only
// durations are lower bounds ("the waiter has waited at least 1 ms").
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace weft::detail {
// Reads the mutex's state word (a friend of weft::mutex).
struct mutex_probe {
  static bool starving(weft::mutex& m) { return m.word().load(std::memory_order_relaxed) & weft::mutex::starving; }
};
}  // namespace weft::detail

namespace {

using namespace weft_test;
using probe = weft::detail::mutex_probe;

class MutexFairness : public WorkerCount {};
INSTANTIATE_TEST_SUITE_P(Workers, MutexFairness, ::testing::Values(1u, 2u, 4u), worker_name);

// Longer than the 1 ms after which a woken waiter asks for hand-off mode.
constexpr auto past_threshold = 2ms;

// A hog that holds the mutex across a yield and relocks at once: the
// waiter runs only while the mutex is held (on one worker it never sees it
// free), so in a barging-only mutex it would lose every time.
struct hog {
  weft::mutex& m;
  std::atomic<bool>& stop;
  std::atomic<long>& rounds;
  void operator()() const {
    while (!stop.load(std::memory_order_relaxed)) {
      std::lock_guard lk(m);
      rounds.fetch_add(1, std::memory_order_relaxed);
      weft::this_thread::yield();
    }
  }
};

// The hog tests watch from the test's own kernel thread, outside the
// runtime: on one worker, a mutex without hand-off mode would keep that
// worker busy with the hog and the waiter forever, and the check must still
// be able to give up and stop the hog. On one worker only hand-off mode
// lets the waiter in; on more, the waiter running beside the hog may also
// catch the mutex free by chance, so there the test shows that a
// cross-worker waiter gets in, not that it needed hand-off mode.
TEST_P(MutexFairness, GreenWaiterIsNotStarvedByAHogThatRelocks) {
  weft::runtime rt(opts());
  weft::mutex m;
  std::atomic<bool> stop{false}, got{false};
  std::atomic<long> rounds{0};
  auto h = weft::spawn_in(rt, hog{m, stop, rounds});
  ASSERT_TRUE(eventually([&] { return rounds.load() > 10; }));
  auto waiter = weft::spawn_in(rt, [&] {
    std::lock_guard lk(m);
    got = true;
  });
  EXPECT_TRUE(eventually([&] { return got.load(); }));
  stop = true;
  h.join();
  waiter.join();
}

// The same with a plain kernel thread as the waiter: it parks on a futex and
// is woken from the hog's worker.
TEST_P(MutexFairness, ForeignWaiterIsNotStarvedByAHogThatRelocks) {
  weft::runtime rt(opts());
  weft::mutex m;
  std::atomic<bool> stop{false}, got{false};
  std::atomic<long> rounds{0};
  auto h = weft::spawn_in(rt, hog{m, stop, rounds});
  ASSERT_TRUE(eventually([&] { return rounds.load() > 10; }));
  std::thread waiter([&] {
    std::lock_guard lk(m);
    got = true;
  });
  EXPECT_TRUE(eventually([&] { return got.load(); }));
  stop = true;
  h.join();
  waiter.join();
}

// Many threads, critical sections long enough (a sleep now and then) that
// waiters pass the 1 ms threshold, so the mutex keeps switching between
// barging and hand-off. Mutual exclusion is checked by a non-atomic counter
// and an occupancy count; the run lasts until hand-off mode was seen from
// inside the critical section a number of times, not for a guessed time.
TEST_P(MutexFairness, HandOffKeepsMutualExclusion) {
  static constexpr int green = 48;
  static constexpr int foreign = 2;
  constexpr long min_rounds = 100;
  constexpr long handoffs_wanted = 20;
  long counter = 0;
  long total = 0;
  std::atomic<long> seen_starving{0};
  std::atomic<int> inside{0}, overlaps{0};
  std::atomic<bool> enough{false};
  auto deadline = std::chrono::steady_clock::now() + absurdly_late;
  weft::run(opts(), [&] {
    weft::mutex m;
    auto body = [&](int who) {
      long mine = 0;
      for (long k = 0; mine < min_rounds || !enough.load(std::memory_order_relaxed); ++k) {
        if (std::chrono::steady_clock::now() > deadline) break;  // a failing run: reported below
        std::lock_guard lk(m);
        if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
        if (probe::starving(m) && seen_starving.fetch_add(1) + 1 >= handoffs_wanted) enough = true;
        long v = counter;
        if ((k + who) % 16 == 0) weft::this_thread::sleep_for(100us);
        else if (k % 4 == 0) weft::this_thread::yield();
        counter = v + 1;
        ++total;
        ++mine;
        inside.fetch_sub(1);
      }
    };
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < green; ++i) ts.push_back(weft::spawn([&body, i] { body(i); }));
    std::vector<std::thread> ks;
    for (int i = 0; i < foreign; ++i) ks.emplace_back([&body, i] { body(green + i); });
    for (auto& t : ts) t.join();
    for (auto& k : ks) k.join();
  });
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(counter, total);
  EXPECT_GE(total, (green + foreign) * min_rounds);
  EXPECT_GE(seen_starving.load(), handoffs_wanted) << "hand-off mode never (or rarely) engaged";
}

// Builds hand-off mode step by step on one worker, where nothing runs
// unless the test thread parks or yields:
//   1. the test thread holds m; w waits for it (parked, its wait starts);
//   2. after 2 ms the test thread unlocks (w is woken) and relocks at once:
//      barging, w has not run yet;
//   3. w runs, loses, has waited > 1 ms: it sets hand-off mode and parks at
//      the front of the queue.
// Returns once step 3 is seen. `w_lock` is how w locks.
template <class Lock>
weft::thread<bool> make_starving_waiter(weft::mutex& m, Lock w_lock) {
  m.lock();
  auto w = weft::spawn([&m, w_lock] { return w_lock(m); });
  EXPECT_TRUE(blocked_on(w.id(), weft::wait_reason::mutex));
  weft::this_thread::sleep_for(past_threshold);
  m.unlock();
  m.lock();
  EXPECT_TRUE(eventually([&] { return probe::starving(m); }));
  return w;
}

weft::options one_worker() {
  weft::options o;
  o.workers = 1;
  return o;
}

TEST(MutexHandOff, UnlockHandsTheMutexToTheWaiterAndTryLockFails) {
  weft::run(one_worker(), [] {
    weft::mutex m;
    weft::event got, release;
    auto w = make_starving_waiter(m, [&](weft::mutex& mu) {
      // A timed lock may be handed the mutex too.
      bool ok = mu.try_lock_for(absurdly_late);
      got.set();
      release.wait();
      if (ok) mu.unlock();
      return ok;
    });
    // Hand-off mode: nobody may take it while the owner holds it...
    auto other = weft::spawn([&] { return m.try_lock(); });
    EXPECT_FALSE(other.join());
    // ...nor between the unlock and the woken waiter running: the mutex is
    // w's the moment unlock() returns, although w has not run (one worker,
    // and this thread has not switched). In normal mode this try_lock would
    // barge in and succeed.
    m.unlock();
    EXPECT_FALSE(m.try_lock());
    // w was the last waiter, so the hand-off ended hand-off mode.
    EXPECT_FALSE(probe::starving(m));
    // A timed lock that queues behind w gives up cleanly.
    EXPECT_FALSE(m.try_lock_for(1ms));
    got.wait();
    release.set();
    EXPECT_TRUE(w.join());
    EXPECT_TRUE(m.try_lock());
    m.unlock();
  });
}

TEST(MutexHandOff, AWaiterThatTimesOutInHandOffModeLeavesTheMutexUsable) {
  weft::run(one_worker(), [] {
    weft::mutex m;
    // w asks for hand-off mode, then gives up: the queue is empty while
    // the mode is still on. Its timeout must outlast make_starving_waiter's
    // steps (a few ms; 20 ms failed on a machine running six compilers):
    // the test waits it out, since this thread holds the mutex throughout.
    auto w = make_starving_waiter(m, [](weft::mutex& mu) {
      bool ok = mu.try_lock_for(1s);
      if (ok) mu.unlock();
      return ok;
    });
    EXPECT_FALSE(w.join());
    EXPECT_TRUE(probe::starving(m));
    // Nobody to hand it to: the unlock leaves hand-off mode and frees it.
    m.unlock();
    EXPECT_FALSE(probe::starving(m));
    EXPECT_TRUE(m.try_lock());
    m.unlock();
  });
}

TEST(MutexHandOff, HandOffGoesInQueueOrder) {
  weft::run(one_worker(), [] {
    weft::mutex m;
    std::vector<int> order;
    auto first = make_starving_waiter(m, [&order](weft::mutex& mu) {
      std::lock_guard lk(mu);
      order.push_back(1);
      return true;
    });
    // Two more waiters queue behind the starving one, in this order.
    auto second = weft::spawn([&] {
      std::lock_guard lk(m);
      order.push_back(2);
    });
    EXPECT_TRUE(blocked_on(second.id(), weft::wait_reason::mutex));
    auto third = weft::spawn([&] {
      std::lock_guard lk(m);
      order.push_back(3);
    });
    EXPECT_TRUE(blocked_on(third.id(), weft::wait_reason::mutex));
    m.unlock();
    first.join();
    second.join();
    third.join();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  });
}

}  // namespace
