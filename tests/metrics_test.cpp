// The scheduling metrics (issue 11 item 4): per thread in snapshot() and
// this_thread::info(), per runtime in stats(). Time relations are checked
// against the test's own steady_clock with lower bounds only (a loaded
// machine, qemu or a sanitizer stretch every span, never shrink one), and
// every wait is for a condition.
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "test_support.hpp"

namespace {

using namespace weft_test;
using weft::thread_state;
using clk = std::chrono::steady_clock;

// Conversions from ticks and the 1-tick marks make figures differ by a few ns.
constexpr auto slack = 100us;

// Spins for d on the steady clock, never yielding; returns the time it took.
clk::duration burn(clk::duration d) {
  auto t0 = clk::now();
  while (clk::now() - t0 < d) {
  }
  return clk::now() - t0;
}

std::optional<weft::thread_info> row(weft::runtime& rt, weft::thread_id id) { return find_info(rt.snapshot(), id); }

bool ends(weft::runtime& rt, weft::thread_id id) {
  return eventually([&] {
    auto i = row(rt, id);
    return i && i->state == thread_state::terminated;
  });
}

weft::options one_worker() {
  weft::options o;
  o.workers = 1;
  return o;
}

// A hog and a thread that arrives while it runs, on one worker: the second
// waits (ready) at least as long as the hog keeps burning after its arrival.
TEST(Metrics, ResponseTurnaroundAndWaitingOnOneWorker) {
  weft::runtime rt(one_worker());
  std::atomic<weft::thread_id> late_id{0};
  weft::thread<void> late;
  clk::duration burned{};
  auto hog = weft::spawn_in(rt, [&] {
    late = weft::spawn([] {});
    late_id.store(late.id());
    burned = burn(30ms);  // measured from after the arrival
  });
  ASSERT_TRUE(ends(rt, hog.id()));
  ASSERT_TRUE(eventually([&] { return late_id.load() != 0; }));
  ASSERT_TRUE(ends(rt, late_id.load()));
  auto snap = rt.snapshot();
  auto h = *find_info(snap, hog.id());
  auto w = *find_info(snap, late_id.load());

  EXPECT_TRUE(h.has_run);
  EXPECT_EQ(h.bursts, 1u);
  EXPECT_GE(h.run_time, burned - slack);
  EXPECT_EQ(h.blocked_time, 0ns);
  EXPECT_GE(h.turnaround, h.response + h.run_time - slack);

  EXPECT_TRUE(w.has_run);
  EXPECT_EQ(w.bursts, 1u);
  EXPECT_GE(w.response, burned - slack) << "the late thread cannot run before the hog ends";
  EXPECT_GE(w.ready_time, burned - slack);
  EXPECT_GE(w.turnaround, w.response);
  EXPECT_GE(w.first_run_at, w.created_at);
  EXPECT_GE(w.completed_at, w.first_run_at);

  // Every moment from arrival to completion is in exactly one bucket.
  for (const auto& i : {h, w}) {
    auto sum = i.ready_time + i.blocked_time + i.run_time;
    EXPECT_LE(std::chrono::abs(sum - i.turnaround), 10us) << "thread " << i.id;
    EXPECT_LE(std::chrono::abs(i.response - (i.first_run_at - i.created_at)), 10us) << "thread " << i.id;
    EXPECT_LE(std::chrono::abs(i.turnaround - (i.completed_at - i.created_at)), 10us) << "thread " << i.id;
  }
  hog.join();
  late.join();
}

// 0.1 ms precision: a 300 us burst is not lost (a 4 ms tick clock read 0 or 4 ms).
TEST(Metrics, ShortBurstIsMeasured) {
  weft::runtime rt(one_worker());
  clk::duration burned{};
  weft::thread_info after;
  auto t = weft::spawn_in(rt, [&] {
    burned = burn(300us);
    weft::this_thread::yield();
    after = weft::this_thread::info();
  });
  t.join();
  EXPECT_EQ(after.bursts, 1u);
  EXPECT_GE(after.last_burst, burned - slack);
  EXPECT_GE(after.run_time, burned - slack);
}

class MetricsTest : public WorkerCount {};
WEFT_WORKER_COUNTS(MetricsTest);

// k yields, switched or not (a lone thread keeps running), make k+1 bursts.
TEST_P(MetricsTest, YieldsCountBursts) {
  weft::runtime rt(opts());
  constexpr int k = 25;
  auto t = weft::spawn_in(rt, [] {
    for (int i = 0; i < k; ++i) weft::this_thread::yield();
  });
  ASSERT_TRUE(ends(rt, t.id()));
  auto i = *row(rt, t.id());
  EXPECT_EQ(i.bursts, static_cast<std::uint64_t>(k + 1));
  EXPECT_LE(i.switches, i.bursts);
  EXPECT_EQ(i.preemptions, 0u);
  t.join();
}

TEST_P(MetricsTest, InfoOfTheCallerCountsItsBursts) {
  weft::runtime rt(opts());
  auto t = weft::spawn_in(rt, [] {
    auto a = weft::this_thread::info();
    for (int i = 0; i < 3; ++i) weft::this_thread::yield();
    auto b = weft::this_thread::info();
    EXPECT_EQ(a.id, weft::this_thread::id());
    EXPECT_EQ(a.state, thread_state::running);
    EXPECT_TRUE(a.has_run);
    EXPECT_EQ(a.bursts, 0u);
    EXPECT_EQ(b.bursts, 3u);
    EXPECT_GE(b.run_time, a.run_time);
  });
  t.join();
}

// tau(n+1) = a*t(n) + (1-a)*tau(n), tau(0) = options.initial_burst.
void check_prediction(double alpha) {
  weft::options o = one_worker();
  o.burst_alpha = alpha;
  o.initial_burst = 3000us;
  weft::runtime rt(o);
  auto t = weft::spawn_in(rt, [alpha] {
    auto before = weft::this_thread::info();
    EXPECT_LE(std::chrono::abs(before.predicted_burst - 3ms), 1us) << "tau(0)";
    for (int n = 0; n < 4; ++n) {
      burn(std::chrono::microseconds(200 + 400 * n));
      weft::this_thread::yield();
      auto now = weft::this_thread::info();
      ASSERT_EQ(now.bursts, before.bursts + 1);
      double want = alpha * static_cast<double>(now.last_burst.count()) +
                    (1 - alpha) * static_cast<double>(before.predicted_burst.count());
      EXPECT_NEAR(static_cast<double>(now.predicted_burst.count()), want, 2000.0)
          << "alpha " << alpha << ", burst " << n;
      before = now;
    }
  });
  t.join();
}

TEST(Metrics, PredictedBurstFollowsTheExponentialAverage) {
  check_prediction(0.5);
  check_prediction(0.25);
  check_prediction(1.0);  // the last burst
  check_prediction(0.0);  // tau(0) for ever
}

TEST(Metrics, BlockedTimeAccruesWhileParked) {
  weft::runtime rt(one_worker());
  auto go = std::make_shared<weft::event>();
  auto t = weft::spawn_in(rt, [go] { go->wait(); });
  ASSERT_TRUE(eventually([&] { return row(rt, t.id())->state == thread_state::blocked; }));
  auto seen = clk::now();
  auto first = *row(rt, t.id());
  EXPECT_EQ(first.waiting_for, weft::wait_reason::event);
  // The record grows while it stays parked, without a switch.
  ASSERT_TRUE(eventually([&] { return row(rt, t.id())->blocked_time >= first.blocked_time + 20ms; }));
  auto parked_for = clk::now() - seen;
  auto mid = *row(rt, t.id());
  EXPECT_EQ(mid.run_time, first.run_time);
  EXPECT_EQ(mid.bursts, 1u);
  go->set();
  ASSERT_TRUE(ends(rt, t.id()));
  auto last = *row(rt, t.id());
  EXPECT_GE(last.blocked_time, parked_for - slack);
  EXPECT_EQ(last.bursts, 2u);
  EXPECT_LE(std::chrono::abs(last.ready_time + last.blocked_time + last.run_time - last.turnaround), 10us);
  t.join();
}

TEST(Metrics, NeverRunThread) {
  weft::options o = one_worker();
  o.initial_burst = 250us;
  weft::runtime rt(o);
  weft::spawn_attrs a;
  a.start_suspended = true;
  auto t = weft::spawn_in(rt, [] {}, a);
  auto i = *row(rt, t.id());
  EXPECT_FALSE(i.has_run);
  EXPECT_EQ(i.bursts, 0u);
  EXPECT_EQ(i.response, 0ns);
  EXPECT_EQ(i.turnaround, 0ns);
  EXPECT_EQ(i.run_time, 0ns);
  EXPECT_LE(std::chrono::abs(i.predicted_burst - 250us), 1us);
  ASSERT_TRUE(eventually([&] { return row(rt, t.id())->ready_time > i.ready_time; }));
  weft::resume(t.id());
  ASSERT_TRUE(ends(rt, t.id()));
  auto done = *row(rt, t.id());
  EXPECT_TRUE(done.has_run);
  EXPECT_GE(done.response, i.ready_time);
  t.join();
}

// A ready thread under the priority policy ages upward while a hog runs.
TEST(Metrics, EffectivePriorityAges) {
  weft::options o = one_worker();
  o.policy = weft::policy_kind::aging;
  o.aging_step = 1000us;
  weft::runtime rt(o);
  std::atomic<bool> stop{false};
  struct stopper {
    std::atomic<bool>& s;
    ~stopper() { s.store(true); }
  } guard{stop};
  std::atomic<weft::thread_id> hog_id{0}, low_id{0};
  // Spawned by a green parent, so both wait in the worker's policy queue;
  // the hog (priority 10) is picked first and never yields.
  auto parent = weft::spawn_in(rt, [&] {
    weft::spawn_attrs hi, lo;
    hi.priority = 10;
    lo.priority = -5;
    auto hog = weft::spawn([&] {
      while (!stop.load()) {
      }
    }, hi);
    auto low = weft::spawn([] {}, lo);
    hog_id.store(hog.id());
    low_id.store(low.id());
    hog.join();
    low.join();
  });
  ASSERT_TRUE(eventually([&] { return low_id.load() != 0; }));
  ASSERT_TRUE(eventually([&] { return row(rt, hog_id.load())->state == thread_state::running; }));
  auto first = *row(rt, low_id.load());
  EXPECT_EQ(first.priority, -5);
  EXPECT_TRUE(eventually([&] {
    auto i = row(rt, low_id.load());
    return i->state == thread_state::ready && i->effective_priority > -5;
  }));
  EXPECT_EQ(row(rt, hog_id.load())->effective_priority, 10);  // running: its own
  stop.store(true);
  parent.join();
}

TEST(Metrics, StatsTotals) {
  weft::options o;
  o.workers = 2;
  weft::runtime rt(o);
  constexpr int n = 100;
  clk::duration burned{};
  {
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < n; ++i)
      ts.push_back(weft::spawn_in(rt, [] {
        for (int j = 0; j < 3; ++j) weft::this_thread::yield();
      }));
    ts.push_back(weft::spawn_in(rt, [&] { burned = burn(30ms); }));
    for (auto& t : ts) t.join();
  }
  auto s = rt.stats();
  // The two workers, then any spares hand-offs started (under a sanitizer a
  // worker's kernel thread may sleep past the hand-off threshold).
  ASSERT_GE(s.workers.size(), 2u);
  EXPECT_EQ(s.completed, static_cast<std::uint64_t>(n + 1));
  EXPECT_GE(s.switches, s.completed) << "every end is a switch";
  std::uint64_t sw = 0, done = 0;
  std::chrono::nanoseconds busy{0};
  for (unsigned i = 0; i < s.workers.size(); ++i) {
    const auto& w = s.workers[i];
    EXPECT_EQ(w.index, i);
    EXPECT_GE(w.utilisation, 0.0);
    EXPECT_LE(w.utilisation, 1.0);
    sw += w.switches;
    done += w.completed;
    busy += w.busy;
  }
  EXPECT_EQ(sw, s.switches);
  EXPECT_EQ(done, s.completed);
  EXPECT_GE(busy, burned - slack);
  EXPECT_GT(s.uptime, 0ns);
  EXPECT_GT(s.completed_per_second, 0.0);
  EXPECT_NEAR(s.completed_per_second, static_cast<double>(s.completed) / std::chrono::duration<double>(s.uptime).count(),
              s.completed_per_second * 0.01);
  EXPECT_EQ(s.preemptions, 0u);
  EXPECT_LE(s.workers.size(), 2u + s.handoffs) << "a spare starts only for a hand-off";
  // weft::stats() finds the only live runtime.
  EXPECT_GE(weft::stats().completed, s.completed);
}

// A worker running a thread that never yields shows busy time in progress.
TEST(Metrics, BusyIncludesTheBurstInProgress) {
  weft::runtime rt(one_worker());
  std::atomic<bool> stop{false};
  struct stopper {
    std::atomic<bool>& s;
    ~stopper() { s.store(true); }
  } guard{stop};
  auto hog = weft::spawn_in(rt, [&] {
    while (!stop.load()) {
    }
  });
  EXPECT_TRUE(eventually([&] { return rt.stats().workers[0].busy >= 20ms; }));
  EXPECT_TRUE(eventually([&] { return row(rt, hog.id())->run_time >= 20ms; }));
  stop.store(true);
  hog.join();
}

TEST(Metrics, OptionsAreValidated) {
  auto with_alpha = [](double a) {
    weft::options o = one_worker();
    o.burst_alpha = a;
    return o;
  };
  for (double bad : {-0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    try {
      weft::runtime rt(with_alpha(bad));
      ADD_FAILURE() << "burst_alpha " << bad << " accepted";
    } catch (const weft::error& e) {
      EXPECT_EQ(e.code(), weft::make_error_code(weft::errc::invalid_argument));
      EXPECT_NE(std::string(e.what()).find("options.burst_alpha"), std::string::npos) << e.what();
    }
  }
  weft::options o = one_worker();
  o.initial_burst = -1us;
  try {
    weft::runtime rt(o);
    ADD_FAILURE() << "negative initial_burst accepted";
  } catch (const weft::error& e) {
    EXPECT_EQ(e.code(), weft::make_error_code(weft::errc::invalid_argument));
    EXPECT_NE(std::string(e.what()).find("options.initial_burst"), std::string::npos) << e.what();
  }
  { weft::runtime ok0(with_alpha(0.0)); }
  { weft::runtime ok1(with_alpha(1.0)); }
}

TEST(Metrics, CallsOutsideARuntime) {
  EXPECT_WEFT_ERROR(weft::this_thread::info(), weft::errc::no_runtime);
  EXPECT_WEFT_ERROR(weft::stats(), weft::errc::no_runtime);
}

}  // namespace
