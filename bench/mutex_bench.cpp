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

bool finish(benchmark::State& state, std::int64_t counter) {
  if (counter != state.iterations() * total_increments) {
    state.SkipWithError("lost increments: the mutex let two threads in at once");
    return false;
  }
  state.SetItemsProcessed(counter);
  return true;
}

void BM_Mutex_Contended(benchmark::State& state) {
  weft::options opts;
  opts.workers = 2;
  weft::runtime rt(opts);
  weft::mutex mu;
  std::int64_t counter = 0;
  for (auto _ : state) {
    weft::spawn_in(rt, [&] {
      std::vector<weft::thread<void>> threads;
      threads.reserve(green_threads);
      for (int i = 0; i < green_threads; ++i)
        threads.push_back(weft::spawn([&] { hammer(mu, counter, total_increments / green_threads); }));
      for (auto& t : threads) t.join();
    }).join();
  }
  finish(state, counter);
}
BENCHMARK(BM_Mutex_Contended)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Mutex_Contended_Pthread(benchmark::State& state) {
  std::mutex mu;
  std::int64_t counter = 0;
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int i = 0; i < kernel_threads; ++i)
      threads.emplace_back([&] { hammer(mu, counter, total_increments / kernel_threads); });
    for (auto& t : threads) t.join();
  }
  finish(state, counter);
}
BENCHMARK(BM_Mutex_Contended_Pthread)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Mutex_Contended_BoostFiber(benchmark::State& state) {
  boost::fibers::mutex mu;
  std::int64_t counter = 0;
  weft_bench::boost_pool_active active;
  for (auto _ : state) {
    active.pool().run([&] {
      std::vector<boost::fibers::fiber> fibers;
      fibers.reserve(green_threads);
      for (int i = 0; i < green_threads; ++i)
        fibers.emplace_back(std::allocator_arg, weft_bench::boost_stack(),
                            [&] { hammer(mu, counter, total_increments / green_threads); });
      for (auto& f : fibers) f.join();
    });
  }
  finish(state, counter);
}
BENCHMARK(BM_Mutex_Contended_BoostFiber)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
