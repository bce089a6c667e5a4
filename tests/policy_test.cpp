// Scheduling policies: FIFO order, priority order, and aging under the
// priority policy (a low-priority thread still runs under a steady stream
// of high-priority work).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;

weft::options priority_opts(unsigned workers, std::chrono::microseconds aging) {
  weft::options o;
  o.workers = workers;
  o.policy = weft::policy_kind::aging;
  o.aging_step = aging;
  return o;
}

TEST(Policy, HigherPriorityRunsFirstOnOneWorker) {
  std::string order;
  // Aging 10 s: nothing ages during the test, so order is pure priority.
  weft::run(priority_opts(1, std::chrono::seconds(10)), [&] {
    std::vector<weft::thread<void>> ts;
    // Queued while main holds the only worker; they run when main joins.
    for (auto [tag, prio] : std::vector<std::pair<char, int>>{{'l', -10}, {'m', 0}, {'H', 64}, {'L', -64}, {'h', 10}}) {
      weft::spawn_attrs a;
      a.priority = prio;
      ts.push_back(weft::spawn([&order, tag = tag] { order += tag; }, a));
    }
    for (auto& t : ts) t.join();
  });
  EXPECT_EQ(order, "HhmlL");
}

TEST(Policy, EqualPrioritiesRunInArrivalOrder) {
  std::vector<int> order;
  weft::run(priority_opts(1, std::chrono::seconds(10)), [&] {
    std::vector<weft::thread<void>> ts;
    weft::spawn_attrs a;
    a.priority = 5;
    for (int i = 0; i < 8; ++i) ts.push_back(weft::spawn([&order, i] { order.push_back(i); }, a));
    for (auto& t : ts) t.join();
  });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

// One link of a stream of high-priority work: burn ~50 us, hand over to a
// freshly spawned successor, end. No yields: a yield lets every other ready
// thread run first whatever its priority, so only aging can let the
// low-priority thread in between links.
struct high_link {
  std::atomic<bool>* low_ran;
  std::atomic<int>* links;
  weft::wait_group* wg;
  std::chrono::steady_clock::time_point end;
  void operator()() const {
    auto until = std::chrono::steady_clock::now() + 50us;
    while (std::chrono::steady_clock::now() < until) {
    }
    links->fetch_add(1);
    if (!low_ran->load() && std::chrono::steady_clock::now() < end) {
      wg->add();
      weft::spawn_attrs hi;
      hi.priority = 64;
      weft::spawn(*this, hi).detach();
    }
    wg->done();
  }
};

TEST(Policy, AgingLetsALowPriorityThreadRun) {
  // aging_step 100 us: a waiting priority -64 thread outranks fresh
  // priority-64 work after 129 steps, about 13 ms. Without aging it would
  // wait for the whole stream (capped at absurdly_late; with aging the
  // stream stops once the low thread ran).
  std::atomic<bool> low_ran{false};
  std::atomic<int> links{0};
  int links_before_low = -1;
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration low_after{};
  weft::run(priority_opts(1, std::chrono::microseconds(100)), [&] {
    weft::wait_group wg;
    weft::spawn_attrs hi, lo;
    hi.priority = 64;
    lo.priority = -64;
    wg.add();
    weft::spawn(high_link{&low_ran, &links, &wg, start + absurdly_late}, hi).detach();
    auto low = weft::spawn(
        [&] {
          links_before_low = links.load();
          low_after = std::chrono::steady_clock::now() - start;
          low_ran.store(true);
        },
        lo);
    wg.wait();
    low.join();
  });
  EXPECT_TRUE(low_ran.load());
  // A fresh high-priority link is always ready, so the low thread can only
  // win once aged by 129 steps: never before 12.9 ms, and soon after.
  EXPECT_GE(links_before_low, 1);
  EXPECT_GE(low_after, 12ms) << "the low-priority thread jumped the high-priority stream";
  EXPECT_LT(links_before_low, links.load()) << "aging did not lift the low-priority thread before the stream ended";
}

TEST(Policy, PriorityPolicyOnSeveralWorkersRunsEverything) {
  std::atomic<int> ran{0};
  weft::run(priority_opts(4, std::chrono::milliseconds(1)), [&] {
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 2000 / spawn_scale_down; ++i) {
      weft::spawn_attrs a;
      a.priority = (i % 129) - 64;
      ts.push_back(weft::spawn(
          [&] {
            weft::this_thread::yield();
            ran.fetch_add(1);
          },
          a));
    }
    for (auto& t : ts) t.join();
  });
  EXPECT_EQ(ran.load(), 2000 / spawn_scale_down);
}

// Threads spawned from outside wait in the global queue, which a worker
// drains in batches into its own queue. The priority queues link their
// threads through the same field as the global list: the batch must read
// each link before the push reuses it (it once followed a reused link).
TEST(Policy, BatchFromTheGlobalQueueKeepsEveryThread) {
  for (auto kind : {weft::policy_kind::priority, weft::policy_kind::aging, weft::policy_kind::sjf,
                    weft::policy_kind::hrrn, weft::policy_kind::fifo}) {
    weft::options o;
    o.workers = 1;
    o.policy = kind;
    weft::runtime rt(o);
    std::atomic<int> ran{0};
    std::atomic<bool> go{false};
    std::atomic<bool> holding{false};
    // Holds the only worker (computing, so no hand-off either) until every
    // thread below is queued globally.
    auto holder = weft::spawn_in(rt, [&] {
      holding = true;
      while (!go.load()) {
      }
    });
    while (!holding.load()) std::this_thread::yield();
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 300; ++i) {
      weft::spawn_attrs a;
      a.priority = i % 7;
      ts.push_back(weft::spawn_in(rt, [&] { ran.fetch_add(1); }, a));
    }
    go = true;
    for (auto& t : ts) t.join();
    holder.join();
    EXPECT_EQ(ran.load(), 300) << static_cast<int>(kind);
  }
}

}  // namespace
