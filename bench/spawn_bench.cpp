// BM_Spawn_Join/N: the cost of a thread's whole life. N trivial threads are
// spawned, then joined in spawn order; items_per_second is threads per
// second and the counter peak_rss_mb is the process's peak RSS (VmHWM, reset
// when the benchmark starts) while doing so.
//
//   BM_Spawn_Join/N             weft, spawned by a green thread, all workers (one per CPU)
//   BM_Spawn_Join_Pthread/10000 std::thread create + join (N = 10k: the kernel's pid space is small)
//   BM_Spawn_Join_BoostFiber/N  Boost.Fiber fibers launched then joined (launch::post) on the
//                               benchmark thread, round_robin, pooled_fixedsize_stack
//
// The Boost twin runs in Boost.Fiber's fastest set-up for this job. Its
// default fixedsize_stack mallocs and frees a stack per fiber, and on this
// VM the page faults that brings make a fiber cost ~6 us; the pooled stack
// allocator keeps stacks, like weft's pool, but is not thread-safe, so it
// needs a single thread (work_stealing over two threads with fixedsize_stack
// measured ~4 us per fiber at 10k). Every launched fiber owns its stack at
// once, so 1M fibers need ~13 GB of RSS; weft gives a thread a stack only
// when it first runs.
//
// Warm-up. The first touch of fresh memory is very expensive on this VM
// (a page fault per page of a new stack or heap chunk), so every variant
// runs one untimed round before the timed loop; a cold first round costs
// several times more. docs/benchmarks.md says so next to the numbers.
#include <cstdint>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/fiber/all.hpp>

#include "common.hpp"
#include "weft/weft.hpp"

namespace {

void finish(benchmark::State& state, std::int64_t n) {
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["peak_rss_mb"] = weft_bench::to_mib(weft_bench::status_bytes("VmHWM"));
}

void weft_round(weft::runtime& rt, std::int64_t n) {
  weft::spawn_in(rt, [n] {
    std::vector<weft::thread<void>> threads;
    threads.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) threads.push_back(weft::spawn([] {}));
    for (auto& t : threads) t.join();
  }).join();
}

void BM_Spawn_Join(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  weft_bench::trim_heap();
  weft_bench::reset_peak_rss();
  weft::runtime rt;
  weft_round(rt, n);  // warm-up, see the file comment
  for (auto _ : state) weft_round(rt, n);
  finish(state, n);
}
BENCHMARK(BM_Spawn_Join)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->UseRealTime()->Unit(benchmark::kMillisecond);

void pthread_round(std::int64_t n) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) threads.emplace_back([] {});
  for (auto& t : threads) t.join();
}

void BM_Spawn_Join_Pthread(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  weft_bench::trim_heap();
  weft_bench::reset_peak_rss();
  try {
    pthread_round(n);
    for (auto _ : state) pthread_round(n);
  } catch (const std::system_error& e) {
    state.SkipWithError(e.what());  // the kernel refused a thread (pid_max, RLIMIT_NPROC, memory)
    return;
  }
  finish(state, n);
}
BENCHMARK(BM_Spawn_Join_Pthread)->Arg(10'000)->UseRealTime()->Unit(benchmark::kMillisecond);

void boost_round(boost::fibers::pooled_fixedsize_stack& stacks, std::int64_t n) {
  std::vector<boost::fibers::fiber> fibers;
  fibers.reserve(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) fibers.emplace_back(std::allocator_arg, stacks, [] {});
  for (auto& f : fibers) f.join();
}

void BM_Spawn_Join_BoostFiber(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  weft_bench::trim_heap();
  weft_bench::reset_peak_rss();
  {
    boost::fibers::pooled_fixedsize_stack stacks(weft_bench::stack_size);
    boost_round(stacks, n);  // warm-up: fills the stack pool, see the file comment
    for (auto _ : state) boost_round(stacks, n);
  }
  finish(state, n);
}
BENCHMARK(BM_Spawn_Join_BoostFiber)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
