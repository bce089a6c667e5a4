// sleep_for / sleep_until: never early, not absurdly late (bounds are
// generous: these tests prove wake-ups happen, benchmarks measure latency),
// and a sleeping green thread never holds its worker.
#include <atomic>
#include <mutex>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;
using clk = std::chrono::steady_clock;

class TimerTest : public WorkerCount {};
WEFT_WORKER_COUNTS(TimerTest);

constexpr auto slack = absurdly_late;

TEST_P(TimerTest, SleepForLastsAtLeastTheRequest) {
  weft::run(opts(), [] {
    for (auto d : {1ms, 5ms, 20ms}) {
      auto t0 = clk::now();
      weft::this_thread::sleep_for(d);
      auto took = clk::now() - t0;
      EXPECT_GE(took, d);
      EXPECT_LT(took, d + slack);
    }
  });
}

TEST_P(TimerTest, SleepUntil) {
  weft::run(opts(), [] {
    auto target = clk::now() + 10ms;
    weft::this_thread::sleep_until(target);
    auto now = clk::now();
    EXPECT_GE(now, target);
    EXPECT_LT(now, target + slack);
    // A deadline in the past returns at once.
    auto t0 = clk::now();
    weft::this_thread::sleep_until(t0 - 1s);
    EXPECT_LT(clk::now() - t0, slack);
  });
}

TEST_P(TimerTest, SleepZeroYields) {
  weft::run(opts(), [] {
    // sleep_for(0) is a yield: a ready thread gets the worker in between,
    // so the spinner advances while this thread sleeps zero in a loop.
    std::atomic<bool> stop{false};
    std::atomic<int> spins{0};
    auto spinner = weft::spawn([&] {
      while (!stop.load()) {
        spins.fetch_add(1);
        weft::this_thread::yield();
      }
    });
    for (int i = 0; i < 100000 && spins.load() < 10; ++i) weft::this_thread::sleep_for(0ms);
    stop.store(true);
    spinner.join();
    EXPECT_GE(spins.load(), 10);
  });
}

// Wake order is total on one worker only.
TEST(Timer, SleepersWakeInDeadlineOrderOnOneWorker) {
  // Deadlines `gap` apart from one base. The order is only defined if every
  // sleeper began its sleep before the first deadline: on one worker nothing
  // switches between a sleeper's clock read and its timer insertion, so then
  // no timer can fire before an earlier one is set. A run where one began
  // later (spawns take a millisecond under a sanitizer, and a loaded machine
  // deschedules the worker for tens) proves nothing and is repeated with a
  // wider gap.
  for (auto gap = 20ms;; gap *= 2) {
    ASSERT_LT(gap, absurdly_late) << "every run had a sleeper begin after the first deadline";
    std::vector<int> order;
    std::atomic<bool> late{false};
    weft::run({.workers = 1}, [&] {
      std::vector<weft::thread<void>> ts;
      auto base = clk::now();
      for (int i : {4, 1, 3, 0, 2})
        ts.push_back(weft::spawn([&order, &late, i, base, gap] {
          if (clk::now() >= base + gap) late.store(true);
          weft::this_thread::sleep_until(base + gap + gap * i);
          order.push_back(i);
        }));
      for (auto& t : ts) t.join();
    });
    if (late.load()) continue;
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
    break;
  }
}

TEST_P(TimerTest, SleepingThreadDoesNotHoldItsWorker) {
  weft::run(opts(), [] {
    std::atomic<long> spins{0};
    std::atomic<bool> stop{false};
    // Sleeps until the spinner has run more than 10 times: its progress ends
    // the sleeps, not a time. On one worker the spinner only runs while this
    // thread is parked in a sleep, so a sleep that held the worker would keep
    // this loop going until absurdly_late.
    auto sleeper = weft::spawn([&] {
      auto give_up = clk::now() + absurdly_late;
      while (spins.load() <= 10 && clk::now() < give_up) weft::this_thread::sleep_for(1ms);
    });
    auto busy = weft::spawn([&] {
      while (!stop.load()) {
        spins.fetch_add(1);
        weft::this_thread::yield();
      }
    });
    sleeper.join();
    stop.store(true);
    busy.join();
    EXPECT_GT(spins.load(), 10);
  });
}

TEST_P(TimerTest, ThousandsOfConcurrentSleepers) {
  const int workers = static_cast<int>(GetParam());
  weft::run(opts(), [workers] {
    std::atomic<int> woke{0}, early{0}, asleep{0}, peak{0};
    constexpr int n = 3000 / spawn_scale_down;
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < n; ++i)
      ts.push_back(weft::spawn([&, i] {
        auto d = std::chrono::microseconds(1000 + (i % 97) * 50);
        auto t0 = clk::now();
        int now_asleep = asleep.fetch_add(1) + 1;
        for (int p = peak.load(); now_asleep > p && !peak.compare_exchange_weak(p, now_asleep);) {
        }
        weft::this_thread::sleep_for(d);
        asleep.fetch_sub(1);
        if (clk::now() - t0 < d) early.fetch_add(1);
        woke.fetch_add(1);
      }));
    for (auto& t : ts) t.join();
    EXPECT_EQ(woke.load(), n);
    EXPECT_EQ(early.load(), 0);
    // Sleepers overlap: a sleeper that held its worker would let at most one
    // sleep per worker at a time, however slow or loaded the machine is.
    EXPECT_GT(peak.load(), workers);
  });
}

TEST_P(TimerTest, RepeatedShortSleepsNeverReturnEarly) {
  weft::run(opts(), [] {
    std::vector<weft::thread<int>> ts;
    for (int k = 0; k < 8; ++k)
      ts.push_back(weft::spawn([] {
        int early = 0;
        for (int i = 0; i < 50; ++i) {
          auto t0 = clk::now();
          weft::this_thread::sleep_for(100us);
          if (clk::now() - t0 < 100us) ++early;
        }
        return early;
      }));
    for (auto& t : ts) EXPECT_EQ(t.join(), 0);
  });
}

TEST_P(TimerTest, NegativeSleepIsInvalidArgument) {
  weft::run(opts(), [] { EXPECT_WEFT_ERROR(weft::this_thread::sleep_for(-1ns), weft::errc::invalid_argument); });
  EXPECT_WEFT_ERROR(weft::this_thread::sleep_for(-1ms), weft::errc::invalid_argument);  // foreign, too
}

TEST(Timer, ForeignSleepUntil) {
  auto target = clk::now() + 3ms;
  weft::this_thread::sleep_until(target);
  EXPECT_GE(clk::now(), target);
}

}  // namespace
