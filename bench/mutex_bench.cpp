// BM_Mutex_Contended: many threads hammering one mutex, 1M increments per
// iteration (items = increments), the shared counter checked at the end.
//
//   BM_Mutex_Contended             1000 green threads x 1000 increments, weft::mutex, 2 workers
//   BM_Mutex_Contended_Pthread     8 kernel threads x 125000 increments, std::mutex
//   BM_Mutex_Contended_BoostFiber  1000 fibers x 1000 increments, boost::fibers::mutex, on the
//                                  two-thread work_stealing pool (the 2-worker counterpart)
//
// The critical section never blocks, so threads on the same worker do not
// contend with each other: contention comes from the other worker, and then
// a waiter parks and the next ready thread runs, which is the path measured.
//
// Counters besides items_per_second: cpu_ns_per_increment (CPU time of the
// whole process per increment) and cpus (CPU time / real time). A run whose
// time per increment looks fine but burns two CPUs to get it is as slow as
// the machine lets it be, and cpus shows it: the slow mode this benchmark
// once had (issue 11) used ~1.99 CPUs against ~1 in its fast runs.
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/fiber/all.hpp>

#include "boost_pool.hpp"
#include "common.hpp"
#include "weft/weft.hpp"

namespace {

constexpr std::int64_t total_increments = 1'000'000;
constexpr int green_threads = 1000;
constexpr int kernel_threads = 8;

template <class Mutex>
void hammer(Mutex& mu, std::int64_t& counter, std::int64_t increments) {
  for (std::int64_t i = 0; i < increments; ++i) {
    std::lock_guard lk(mu);
    ++counter;
  }
}

bool finish(benchmark::State& state, std::int64_t counter, const weft_bench::timed& t) {
  if (counter != state.iterations() * total_increments) {
    state.SkipWithError("lost increments: the mutex let two threads in at once");
    return false;
  }
  state.SetItemsProcessed(counter);
  state.counters["cpu_ns_per_increment"] = t.cpu * 1e9 / static_cast<double>(counter);
  state.counters["cpus"] = t.wall > 0 ? t.cpu * 1e9 / static_cast<double>(t.wall) : 0.0;
  return true;
}

void BM_Mutex_Contended(benchmark::State& state) {
  weft::options opts;
  opts.workers = 2;
  weft::runtime rt(opts);
  weft::mutex mu;
  std::int64_t counter = 0;
  weft_bench::timed t;
  for (auto _ : state) {
    t.run([&] {
      weft::spawn_in(rt, [&] {
        std::vector<weft::thread<void>> threads;
        threads.reserve(green_threads);
        for (int i = 0; i < green_threads; ++i)
          threads.push_back(weft::spawn([&] { hammer(mu, counter, total_increments / green_threads); }));
        for (auto& th : threads) th.join();
      }).join();
    });
  }
  finish(state, counter, t);
}
BENCHMARK(BM_Mutex_Contended)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Mutex_Contended_Pthread(benchmark::State& state) {
  std::mutex mu;
  std::int64_t counter = 0;
  weft_bench::timed t;
  for (auto _ : state) {
    t.run([&] {
      std::vector<std::thread> threads;
      for (int i = 0; i < kernel_threads; ++i)
        threads.emplace_back([&] { hammer(mu, counter, total_increments / kernel_threads); });
      for (auto& th : threads) th.join();
    });
  }
  finish(state, counter, t);
}
BENCHMARK(BM_Mutex_Contended_Pthread)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Mutex_Contended_BoostFiber(benchmark::State& state) {
  boost::fibers::mutex mu;
  std::int64_t counter = 0;
  weft_bench::boost_pool_active active;
  weft_bench::timed t;
  for (auto _ : state) {
    t.run([&] {
      active.pool().run([&] {
        std::vector<boost::fibers::fiber> fibers;
        fibers.reserve(green_threads);
        for (int i = 0; i < green_threads; ++i)
          fibers.emplace_back(std::allocator_arg, weft_bench::boost_stack(),
                              [&] { hammer(mu, counter, total_increments / green_threads); });
        for (auto& f : fibers) f.join();
      });
    });
  }
  finish(state, counter, t);
}
BENCHMARK(BM_Mutex_Contended_BoostFiber)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
