// What weft's logging costs a caller (runtime/base/log.hpp).
//
//   BM_Log_Disabled   a debug record below the threshold (warn): one relaxed
//                     load and a compare; the arguments are not evaluated.
//                     This is what every debug/info call site in weft costs
//                     in a program that does not ask for them.
//   BM_Log_Handled    an info record at threshold info, formatted and given
//                     to a handler that only counts it: the read side of the
//                     handler lock, the vsnprintf and the std::function call.
#include <atomic>

#include <benchmark/benchmark.h>

#include "base/log.hpp"
#include "weft/log.hpp"

namespace {

void BM_Log_Disabled(benchmark::State& state) {
  weft::log_level before = weft::current_log_level();
  weft::set_log_level(weft::log_level::warn);
  long n = 0;
  for (auto _ : state) {
    WEFT_LOG_DEBUG("bench", "record %ld", n);
    ++n;
    benchmark::DoNotOptimize(n);
  }
  weft::set_log_level(before);
}
BENCHMARK(BM_Log_Disabled);

void BM_Log_Handled(benchmark::State& state) {
  weft::log_level before = weft::current_log_level();
  std::atomic<long> seen{0};
  weft::log_handler prev = weft::set_log_handler([&](const weft::log_record&) {
    seen.fetch_add(1, std::memory_order_relaxed);
  });
  weft::set_log_level(weft::log_level::info);
  long n = 0;
  for (auto _ : state) {
    WEFT_LOG_INFO("bench", "record %ld", n);
    ++n;
  }
  weft::set_log_handler(std::move(prev));
  weft::set_log_level(before);
  if (seen.load() != n) state.SkipWithError("a record did not reach the handler");
}
BENCHMARK(BM_Log_Handled);

}  // namespace
