// BM_Idle_Cpu: what a runtime with nothing to do costs. Its workers first
// run one thread (so they go through the busy -> idle path a real program
// takes), settle for 100 ms, then the counter cpu_percent is the process's
// CPU time over 1 s of wall time, in percent of one CPU.
//
//   BM_Idle_Cpu             weft runtime, 2 workers (its monitor on: hand-off)
//   BM_Idle_Cpu_NoMonitor   the same with the monitor off (handoff_threshold 0)
//   BM_Idle_Cpu_BoostFiber  2 kernel threads under Boost.Fiber's work_stealing (default
//                           suspend=false: idle schedulers spin, see boost_pool.hpp)
#include <chrono>
#include <thread>

#include <benchmark/benchmark.h>

#include "boost_pool.hpp"
#include "common.hpp"
#include "weft/weft.hpp"

namespace {

constexpr auto settle = std::chrono::milliseconds(100);
constexpr auto window = std::chrono::seconds(1);

// Process CPU percent of one CPU over the measuring window.
double measure_idle_window() {
  std::this_thread::sleep_for(settle);
  double cpu0 = weft_bench::process_cpu_seconds();
  std::int64_t t0 = weft_bench::wall_ns();
  std::this_thread::sleep_for(window);
  double cpu1 = weft_bench::process_cpu_seconds();
  std::int64_t t1 = weft_bench::wall_ns();
  return 100.0 * (cpu1 - cpu0) / (static_cast<double>(t1 - t0) * 1e-9);
}

void idle_cpu(benchmark::State& state, std::chrono::milliseconds handoff) {
  double sum = 0;
  for (auto _ : state) {
    weft::options opts;
    opts.workers = 2;
    opts.handoff_threshold = handoff;
    weft::runtime rt(opts);
    weft::spawn_in(rt, [] {}).join();
    sum += measure_idle_window();
  }
  state.counters["cpu_percent"] = sum / static_cast<double>(state.iterations());
}

void BM_Idle_Cpu(benchmark::State& state) { idle_cpu(state, weft::options{}.handoff_threshold); }
BENCHMARK(BM_Idle_Cpu)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Idle_Cpu_NoMonitor(benchmark::State& state) { idle_cpu(state, std::chrono::milliseconds(0)); }
BENCHMARK(BM_Idle_Cpu_NoMonitor)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Idle_Cpu_BoostFiber(benchmark::State& state) {
  double sum = 0;
  for (auto _ : state) {
    weft_bench::boost_pool_active active;
    active.pool().run([] {});
    sum += measure_idle_window();
  }
  state.counters["cpu_percent"] = sum / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Idle_Cpu_BoostFiber)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
