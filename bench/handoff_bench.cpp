// Hand-off of a worker stuck in a blocking call weft does not own
// (options::handoff_threshold, core/monitor.hpp).
//
// BM_Handoff: one worker, threshold 10 ms. Each iteration a green thread
// enters a plain ::usleep(60 ms), which blocks the worker's kernel thread;
// once it is in the call, another green thread is spawned and the time until
// it runs is its delay. Counters delay_ms_p50 / delay_ms_p99 (target: p99 at
// most twice the threshold, 20 ms) and handoffs (per iteration).
//   BM_Handoff      hand-off on (10 ms)
//   BM_Handoff_Off  hand-off off: the thread waits for the whole call
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <unistd.h>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "weft/weft.hpp"

namespace {

constexpr auto call = std::chrono::milliseconds(60);

void handoff_delay(benchmark::State& state, std::chrono::milliseconds threshold) {
  weft::options o;
  o.workers = 1;
  o.handoff_threshold = threshold;
  weft::runtime rt(o);
  std::vector<std::int64_t> delays;
  for (auto _ : state) {
    std::atomic<bool> in_call{false};
    auto blocker = weft::spawn_in(rt, [&] {
      in_call.store(true);
      ::usleep(static_cast<useconds_t>(std::chrono::microseconds(call).count()));
    });
    while (!in_call.load()) std::this_thread::yield();
    std::int64_t t0 = weft_bench::wall_ns();
    std::atomic<std::int64_t> ran{0};
    auto light = weft::spawn_in(rt, [&] { ran.store(weft_bench::wall_ns()); });
    light.join();
    blocker.join();
    delays.push_back(ran.load() - t0);
  }
  std::sort(delays.begin(), delays.end());
  auto pct = [&](double p) {
    auto k = static_cast<std::size_t>(p * static_cast<double>(delays.size() - 1));
    return static_cast<double>(delays[k]) / 1e6;
  };
  state.counters["delay_ms_p50"] = pct(0.50);
  state.counters["delay_ms_p99"] = pct(0.99);
  state.counters["handoffs"] =
      static_cast<double>(rt.stats().handoffs) / static_cast<double>(std::max<std::size_t>(delays.size(), 1));
}

void BM_Handoff(benchmark::State& state) { handoff_delay(state, std::chrono::milliseconds(10)); }
void BM_Handoff_Off(benchmark::State& state) { handoff_delay(state, std::chrono::milliseconds(0)); }

}  // namespace

BENCHMARK(BM_Handoff)->Iterations(50)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Handoff_Off)->Iterations(20)->Unit(benchmark::kMillisecond)->UseRealTime();
