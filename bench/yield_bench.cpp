// BM_Yield_PingPong: the scheduler's switch path. Two threads take turns on
// one core, each turn ending in a yield (or hand-over) to the other; the
// counter ns_per_switch is wall time per hand-over.
//
//   BM_Yield_PingPong            two green threads, this_thread::yield, one worker
//   BM_Yield_PingPong_Pthread    two kernel threads passing a token over a condition variable
//   BM_Yield_PingPong_BoostFiber two fibers, boost::this_fiber::yield, default round_robin
//
// Every iteration starts a fresh pair and joins it; the pair makes 100k
// (kernel threads: 10k) hand-overs, so starting and joining them is noise.
// cpu_ns_per_switch is the process's CPU time per hand-over: for the green
// variants one kernel thread does all the work, so it is the switch cost
// even while other processes steal the core; for kernel threads it adds
// both sides' CPU.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include <benchmark/benchmark.h>
#include <boost/fiber/all.hpp>

#include "common.hpp"
#include "weft/weft.hpp"

namespace {

using weft_bench::timed;

constexpr int green_yields = 100'000;  // per thread and iteration
constexpr int kernel_turns = 10'000;   // a kernel hand-over is ~100x dearer

void report(benchmark::State& state, const timed& t, std::int64_t per_iteration) {
  std::int64_t switches = state.iterations() * per_iteration;
  state.SetItemsProcessed(switches);
  state.counters["ns_per_switch"] = static_cast<double>(t.wall) / static_cast<double>(switches);
  state.counters["cpu_ns_per_switch"] = t.cpu * 1e9 / static_cast<double>(switches);
}

void BM_Yield_PingPong(benchmark::State& state) {
  weft::options opts;
  opts.workers = 1;
  weft::runtime rt(opts);
  auto player = [] {
    for (int i = 0; i < green_yields; ++i) weft::this_thread::yield();
  };
  timed t;
  for (auto _ : state) {
    // A green parent spawns both into its worker's queue before either runs,
    // so every yield finds the partner ready and really switches.
    t.run([&] {
      weft::spawn_in(rt, [&] {
        auto a = weft::spawn(player);
        auto b = weft::spawn(player);
        a.join();
        b.join();
      }).join();
    });
  }
  report(state, t, 2 * green_yields);
}
BENCHMARK(BM_Yield_PingPong)->UseRealTime();

void BM_Yield_PingPong_Pthread(benchmark::State& state) {
  timed t;
  for (auto _ : state) {
    std::mutex mu;
    std::condition_variable cv;
    int turn = 0;
    auto player = [&](int me) {
      for (int i = 0; i < kernel_turns; ++i) {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return turn == me; });
        turn = 1 - me;
        cv.notify_one();
      }
    };
    t.run([&] {
      std::thread a(player, 0), b(player, 1);
      a.join();
      b.join();
    });
  }
  report(state, t, 2 * kernel_turns);
}
BENCHMARK(BM_Yield_PingPong_Pthread)->UseRealTime();

void BM_Yield_PingPong_BoostFiber(benchmark::State& state) {
  auto player = [] {
    for (int i = 0; i < green_yields; ++i) boost::this_fiber::yield();
  };
  timed t;
  for (auto _ : state) {
    t.run([&] {
      boost::fibers::fiber a(std::allocator_arg, weft_bench::boost_stack(), player);
      boost::fibers::fiber b(std::allocator_arg, weft_bench::boost_stack(), player);
      a.join();
      b.join();
    });
  }
  report(state, t, 2 * green_yields);
}
BENCHMARK(BM_Yield_PingPong_BoostFiber)->UseRealTime();

}  // namespace
