// spawn / join / detach, handles, this_thread, run() and the runtime object.
#include <atomic>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;

class ThreadTest : public WorkerCount {};
WEFT_WORKER_COUNTS(ThreadTest);

TEST_P(ThreadTest, JoinReturnsValue) {
  weft::runtime rt(opts());
  auto t = weft::spawn_in(rt, [] { return 42; });
  EXPECT_TRUE(t.joinable());
  EXPECT_EQ(t.join(), 42);
  EXPECT_FALSE(t.joinable());
  EXPECT_EQ(t.id(), 0u);
}

TEST_P(ThreadTest, JoinReturnsMoveOnlyValue) {
  weft::runtime rt(opts());
  auto t = weft::spawn_in(rt, [] { return std::make_unique<std::string>("moved"); });
  auto p = t.join();
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, "moved");
}

TEST_P(ThreadTest, JoinReturnsReference) {
  weft::runtime rt(opts());
  int target = 5;
  auto t = weft::spawn_in(rt, [&]() -> int& { return target; });
  int& r = t.join();
  EXPECT_EQ(&r, &target);
}

TEST_P(ThreadTest, ManyThreadsAllRunOnce) {
  constexpr int n = 2000 / spawn_scale_down;
  std::vector<std::atomic<int>> ran(n);
  weft::run(opts(), [&] {
    std::vector<weft::thread<int>> ts;
    for (int i = 0; i < n; ++i)
      ts.push_back(weft::spawn([&ran, i] {
        ran[i].fetch_add(1);
        weft::this_thread::yield();
        return i;
      }));
    for (int i = 0; i < n; ++i) EXPECT_EQ(ts[i].join(), i);
  });
  for (auto& r : ran) EXPECT_EQ(r.load(), 1);
}

// Recursive fork/join: every level spawns its two halves.
long fib(int n) {
  if (n < 2) return n;
  auto a = weft::spawn([n] { return fib(n - 1); });
  long b = fib(n - 2);
  return a.join() + b;
}

TEST_P(ThreadTest, NestedSpawnJoin) {
  // fib(15) spawns ~1000 threads, fib(10) ~90.
  long r = -1;
  weft::run(opts(), [&] { r = fib(spawn_scale_down == 1 ? 15 : 10); });
  EXPECT_EQ(r, spawn_scale_down == 1 ? 610 : 55);
}

TEST_P(ThreadTest, ThisThreadIdentity) {
  weft::runtime rt(opts());
  weft::spawn_attrs a;
  a.name = "ident";
  auto t = weft::spawn_in(
      rt,
      [] {
        EXPECT_TRUE(weft::this_thread::is_green());
        EXPECT_EQ(weft::this_thread::name(), "ident");
        int w = weft::this_thread::worker_index();
        EXPECT_GE(w, 0);
        // A worker, or a spare a hand-off started (sanitizer builds can sleep past its threshold).
        EXPECT_LT(w, static_cast<int>(weft::stats().workers.size()));
        return weft::this_thread::id();
      },
      a);
  weft::thread_id id = t.id();
  EXPECT_NE(id, 0u);
  EXPECT_EQ(t.join(), id);
}

TEST(ThisThread, ForeignThreadIdentity) {
  EXPECT_FALSE(weft::this_thread::is_green());
  EXPECT_EQ(weft::this_thread::id(), 0u);
  EXPECT_EQ(weft::this_thread::name(), "");
  EXPECT_EQ(weft::this_thread::worker_index(), -1);
  weft::this_thread::yield();  // a plain std::this_thread::yield here
}

TEST_P(ThreadTest, IdsAreUnique) {
  weft::runtime rt(opts());
  std::vector<weft::thread<weft::thread_id>> ts;
  for (int i = 0; i < 500; ++i) ts.push_back(weft::spawn_in(rt, [] { return weft::this_thread::id(); }));
  std::set<weft::thread_id> ids;
  for (auto& t : ts) {
    weft::thread_id handle_id = t.id();
    EXPECT_EQ(t.join(), handle_id);
    EXPECT_TRUE(ids.insert(handle_id).second);
  }
  EXPECT_EQ(ids.count(0), 0u);
}

TEST_P(ThreadTest, DetachedThreadRunsToCompletion) {
  std::atomic<bool> done{false};
  {
    weft::runtime rt(opts());
    weft::event go;
    auto t = weft::spawn_in(rt, [&] {
      go.wait();
      done.store(true);
    });
    t.detach();
    EXPECT_FALSE(t.joinable());
    go.set();
    // The destructor waits for every green thread, detached ones included.
  }
  EXPECT_TRUE(done.load());
}

TEST_P(ThreadTest, FinishedUnjoinedThreadKeepsItsResult) {
  weft::runtime rt(opts());
  auto t = weft::spawn_in(rt, [] { return std::string(1000, 'x'); });
  weft::thread_id id = t.id();
  ASSERT_TRUE(eventually([&] { return find_info(rt.snapshot(), id)->state == weft::thread_state::terminated; }));
  EXPECT_EQ(t.join(), std::string(1000, 'x'));
  // Joined: the TCB leaves the registry (once the exiting context let go of it too).
  EXPECT_TRUE(eventually([&] { return !find_info(rt.snapshot(), id).has_value(); }));
}

TEST_P(ThreadTest, HandleDestructorJoins) {
  weft::runtime rt(opts());
  std::atomic<bool> done{false};
  {
    auto t = weft::spawn_in(rt, [&] {
      weft::this_thread::sleep_for(5ms);
      done.store(true);
    });
  }
  EXPECT_TRUE(done.load());
}

TEST_P(ThreadTest, MoveAssignJoinsThePreviousThread) {
  weft::runtime rt(opts());
  std::atomic<bool> first_done{false};
  auto t = weft::spawn_in(rt, [&] {
    weft::this_thread::sleep_for(5ms);
    first_done.store(true);
    return 1;
  });
  t = weft::spawn_in(rt, [] { return 2; });
  EXPECT_TRUE(first_done.load());
  EXPECT_EQ(t.join(), 2);
}

TEST_P(ThreadTest, MovedFromHandleIsEmpty) {
  weft::runtime rt(opts());
  auto a = weft::spawn_in(rt, [] { return 3; });
  weft::thread_id id = a.id();
  weft::thread<int> b(std::move(a));
  EXPECT_FALSE(a.joinable());  // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_EQ(b.id(), id);
  EXPECT_EQ(b.join(), 3);
}

TEST_P(ThreadTest, LargeStackAttribute) {
  weft::runtime rt(opts());
  weft::spawn_attrs a;
  a.stack_size = 512 * 1024;
  auto t = weft::spawn_in(
      rt,
      [] {
        // 300 KiB of locals: far past the 64 KiB default, inside the 512 KiB asked for.
        volatile char big[300 * 1024];
        for (std::size_t i = 0; i < sizeof big; i += 512) big[i] = static_cast<char>(i);
        int sum = 0;
        for (std::size_t i = 0; i < sizeof big; i += 4096) sum += big[i];
        return sum;
      },
      a);
  // Had the attribute been ignored, the 300 KiB would have hit the guard
  // page of a 64 KiB stack and aborted; the value proves the frame ran.
  EXPECT_EQ(t.join(), 0);
}

TEST_P(ThreadTest, RunReturnsMainsExitCode) {
  EXPECT_EQ(weft::run(opts(), [] { return 7; }), 7);
  EXPECT_EQ(weft::run(opts(), [] {}), 0);
}

// Without options: a worker per online CPU.
TEST(Run, DefaultOptions) {
  EXPECT_EQ(weft::run([] { return weft::this_thread::worker_index() >= 0 ? 3 : -1; }), 3);
  std::atomic<int> ran{0};
  EXPECT_EQ(weft::run([&] { ++ran; }), 0);
  EXPECT_EQ(ran.load(), 1);
}

TEST_P(ThreadTest, RunPropagatesMainsException) {
  EXPECT_THROW(weft::run(opts(), []() -> int { throw std::runtime_error("main failed"); }), std::runtime_error);
}

TEST_P(ThreadTest, RunWaitsForDetachedThreads) {
  std::atomic<int> done{0};
  weft::run(opts(), [&] {
    for (int i = 0; i < 50; ++i)
      weft::spawn([&] {
        weft::this_thread::sleep_for(2ms);
        done.fetch_add(1);
      }).detach();
  });
  EXPECT_EQ(done.load(), 50);
}

TEST_P(ThreadTest, RuntimeReportsWorkers) {
  weft::runtime rt(opts());
  EXPECT_EQ(rt.workers(), GetParam());
  auto t = weft::spawn_in(rt, [] { return weft::this_thread::worker_index(); });
  int w = t.join();
  EXPECT_GE(w, 0);
  EXPECT_LT(w, static_cast<int>(rt.stats().workers.size()));  // spares included
  EXPECT_EQ(rt.workers(), GetParam());
}

TEST(Runtime, DefaultWorkersIsOnePerCpu) {
  weft::runtime rt;
  EXPECT_EQ(rt.workers(), std::max(1u, std::thread::hardware_concurrency()));
}

TEST(Runtime, ContextBackendIsNamed) {
  std::string b = weft::runtime::context_backend();
  EXPECT_TRUE(b.rfind("asm-", 0) == 0 || b == "boost-fcontext") << b;
}

TEST(Runtime, TwoRuntimesSideBySide) {
  weft::runtime a({.workers = 1});
  weft::runtime b({.workers = 2});
  auto ta = weft::spawn_in(a, [] {
    // A green thread's own runtime is found without ambiguity.
    return weft::spawn([] { return 1; }).join() + weft::this_thread::worker_index();
  });
  auto tb = weft::spawn_in(b, [] { return weft::spawn([] { return 10; }).join(); });
  EXPECT_EQ(ta.join(), 1);  // runtime a has one worker: index 0
  EXPECT_EQ(tb.join(), 10);
}

// Exact orders hold on one worker only.
TEST(OneWorker, YieldInterleaves) {
  std::string order;
  weft::run({.workers = 1}, [&] {
    auto a = weft::spawn([&] {
      for (int i = 0; i < 3; ++i) {
        order += 'a';
        weft::this_thread::yield();
      }
    });
    auto b = weft::spawn([&] {
      for (int i = 0; i < 3; ++i) {
        order += 'b';
        weft::this_thread::yield();
      }
    });
    a.join();
    b.join();
  });
  EXPECT_EQ(order, "ababab");
}

TEST(OneWorker, FifoRunsInSpawnOrder) {
  std::vector<int> order;
  weft::run({.workers = 1}, [&] {
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 10; ++i) ts.push_back(weft::spawn([&order, i] { order.push_back(i); }));
    for (auto& t : ts) t.join();
  });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

}  // namespace
