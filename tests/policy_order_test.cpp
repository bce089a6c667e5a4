// The OS notes' non-preemptive policies on real green threads: static
// priority, SJF and HRRN pick in the textbook order on one worker, and every
// policy runs every thread exactly once across workers that steal.
#include <atomic>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;

weft::options policy_opts(weft::policy_kind k, unsigned workers = 1) {
  weft::options o;
  o.workers = workers;
  o.policy = k;
  return o;
}

// Burns the CPU for d of wall time without calling weft.
void weft_test_burn(std::chrono::microseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

weft::spawn_attrs expecting(std::chrono::microseconds burst) {
  weft::spawn_attrs a;
  a.expected_burst = burst;
  return a;
}

TEST(PolicyOrder, StaticPriorityRunsHighestFirstAndFifoAmongEquals) {
  std::string order;
  weft::run(policy_opts(weft::policy_kind::priority), [&] {
    std::vector<weft::thread<void>> ts;
    // Queued while main holds the only worker; they run when main joins.
    for (auto [tag, prio] : std::vector<std::pair<char, int>>{{'a', 0}, {'H', 9}, {'b', 0}, {'L', -9}, {'c', 0}}) {
      weft::spawn_attrs at;
      at.priority = prio;
      ts.push_back(weft::spawn([&order, tag = tag] { order += tag; }, at));
    }
    // Static: however long they wait, nobody overtakes (no aging).
    weft_test_burn(std::chrono::milliseconds(20));
    for (auto& t : ts) t.join();
  });
  EXPECT_EQ(order, "HabcL");
}

TEST(PolicyOrder, SjfRunsTheShortestExpectedBurstFirst) {
  std::string order;
  weft::run(policy_opts(weft::policy_kind::sjf), [&] {
    std::vector<weft::thread<void>> ts;
    for (auto [tag, us] : std::vector<std::pair<char, int>>{{'d', 4000}, {'a', 500}, {'c', 3000}, {'b', 1000}, {'B', 1000}})
      ts.push_back(weft::spawn([&order, tag = tag] { order += tag; }, expecting(std::chrono::microseconds(us))));
    for (auto& t : ts) t.join();
  });
  EXPECT_EQ(order, "abBcd");  // equal predictions in arrival order
}

TEST(PolicyOrder, SjfLearnsFromMeasuredBursts) {
  // Each round main makes the long thread ready, then the short one, and
  // waits for both. Both start predicted at 1 ms, so round 1 runs them in
  // arrival order; the long one's 50 ms burst lifts its prediction to ~25 ms
  // while the short one's 0.1 ms bursts keep its own near 0.1 ms, so from
  // round 2 SJF runs the short one first although it became ready second.
  // (A burst stretched by a busy machine would need ~50 ms to reverse it.)
  // A yield would not show this: the yielder is queued only after its
  // successor is picked, so a yield always lets another thread run.
  std::string order;
  weft::run(policy_opts(weft::policy_kind::sjf), [&] {
    weft::counting_semaphore go_long(0), go_short(0), done(0);
    constexpr int rounds = 3;
    auto job = [&](char tag, std::chrono::microseconds burst, weft::counting_semaphore& go) {
      return [&, tag, burst] {
        for (int i = 0; i < rounds; ++i) {
          go.acquire();
          order += tag;
          weft_test_burn(burst);
          done.release();
        }
      };
    };
    auto longer = weft::spawn(job('L', std::chrono::milliseconds(50), go_long), expecting(std::chrono::milliseconds(1)));
    auto shorter = weft::spawn(job('s', std::chrono::microseconds(100), go_short), expecting(std::chrono::milliseconds(1)));
    for (int i = 0; i < rounds; ++i) {
      go_long.release();
      go_short.release();
      done.acquire();
      done.acquire();
    }
    longer.join();
    shorter.join();
  });
  EXPECT_EQ(order, "LssLsL");
}

// The HRRN example: a long job that has waited long outranks a short one
// that just arrived, where SJF would pick the short one.
std::string long_waiter_then_fresh_short(weft::policy_kind k) {
  std::string order;
  weft::run(policy_opts(k), [&] {
    auto l = weft::spawn([&] { order += 'L'; }, expecting(std::chrono::milliseconds(10)));
    weft_test_burn(std::chrono::milliseconds(100));  // L waits: ratio (100 + 10) / 10 = 11
    auto s = weft::spawn([&] { order += 'S'; }, expecting(std::chrono::milliseconds(5)));  // ratio ~1
    l.join();
    s.join();
  });
  return order;
}

TEST(PolicyOrder, HrrnLetsALongWaiterGoFirst) { EXPECT_EQ(long_waiter_then_fresh_short(weft::policy_kind::hrrn), "LS"); }

TEST(PolicyOrder, SjfPicksTheFreshShortJob) { EXPECT_EQ(long_waiter_then_fresh_short(weft::policy_kind::sjf), "SL"); }

TEST(PolicyOrder, HrrnAmongEqualWaitsIsShortestFirst) {
  std::string order;
  weft::run(policy_opts(weft::policy_kind::hrrn), [&] {
    std::vector<weft::thread<void>> ts;
    for (auto [tag, us] : std::vector<std::pair<char, int>>{{'c', 3000}, {'a', 500}, {'b', 1000}})
      ts.push_back(weft::spawn([&order, tag = tag] { order += tag; }, expecting(std::chrono::microseconds(us))));
    for (auto& t : ts) t.join();
  });
  EXPECT_EQ(order, "abc");
}

TEST(PolicyOrder, NegativeExpectedBurstIsRejected) {
  weft::run(policy_opts(weft::policy_kind::sjf), [&] {
    EXPECT_WEFT_ERROR(weft::spawn([] {}, expecting(std::chrono::microseconds(-1))), weft::errc::invalid_argument);
  });
}

TEST(PolicyOrder, ExpectedBurstIsTheFirstPrediction) {
  weft::run(policy_opts(weft::policy_kind::sjf), [&] {
    auto t = weft::spawn([] {}, expecting(std::chrono::microseconds(2500)));
    auto i = info_of(t.id());
    ASSERT_TRUE(i);
    EXPECT_NEAR(std::chrono::duration_cast<std::chrono::microseconds>(i->predicted_burst).count(), 2500, 1);
    t.join();
  });
}

// Every policy, several workers stealing from each other: each thread runs
// exactly once, whatever order the policy chose.
class EveryPolicy : public ::testing::TestWithParam<std::tuple<weft::policy_kind, unsigned>> {};

TEST_P(EveryPolicy, RunsEveryThreadExactlyOnce) {
  auto [kind, workers] = GetParam();
  constexpr int n = 3000 / spawn_scale_down;
  std::vector<std::atomic<int>> runs(n);
  weft::run(policy_opts(kind, workers), [&] {
    std::vector<weft::thread<void>> ts;
    ts.reserve(n);
    for (int i = 0; i < n; ++i) {
      weft::spawn_attrs a;
      a.priority = i % 7 - 3;
      a.expected_burst = std::chrono::microseconds(1 + i % 13);
      ts.push_back(weft::spawn(
          [&runs, i] {
            runs[i].fetch_add(1);
            weft::this_thread::yield();
          },
          a));
    }
    for (auto& t : ts) t.join();
  });
  for (int i = 0; i < n; ++i) ASSERT_EQ(runs[i].load(), 1) << "thread " << i;
}

std::string policy_name(weft::policy_kind k) {
  switch (k) {
    case weft::policy_kind::fifo: return "fifo";
    case weft::policy_kind::priority: return "priority";
    case weft::policy_kind::aging: return "aging";
    case weft::policy_kind::fcfs: return "fcfs";
    case weft::policy_kind::sjf: return "sjf";
    case weft::policy_kind::hrrn: return "hrrn";
  }
  return "unknown";
}

INSTANTIATE_TEST_SUITE_P(Policies, EveryPolicy,
                         ::testing::Combine(::testing::Values(weft::policy_kind::fifo, weft::policy_kind::priority,
                                                              weft::policy_kind::aging, weft::policy_kind::fcfs,
                                                              weft::policy_kind::sjf, weft::policy_kind::hrrn),
                                            ::testing::Values(1u, 2u, 4u)),
                         [](const auto& p) {
                           return policy_name(std::get<0>(p.param)) + "_w" + std::to_string(std::get<1>(p.param));
                         });

}  // namespace
