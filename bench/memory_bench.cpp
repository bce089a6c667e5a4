// BM_Blocked_Memory/N: what a thread that waits costs in memory. N threads
// are started and all block on one event; the counter bytes_per_thread is
// (VmRSS with all of them blocked - VmRSS before the first spawn) / N, and
// rss_mb is the whole process's VmRSS at that moment. Then the event is set
// and every thread joined.
//
//   BM_Blocked_Memory/N             weft green threads on weft::event, default stack (64 KiB)
//   BM_Blocked_Memory_Pthread/cap   as many kernel threads as the kernel allows, at most cap,
//                                   on a std::condition_variable; counter kernel_threads = how many
//   BM_Blocked_Memory_BoostFiber/N  fibers (64 KiB malloc'd stacks) on a boost::fibers::condition_variable
//
// Each iteration builds its runtime afresh (weft's stack pool keeps stacks
// for reuse while a runtime lives, so a second round would grow by nothing)
// and trims the heap first, so the baseline holds no freed memory that new
// allocations could hide in. The handle vector is filled before the baseline.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/fiber/all.hpp>

#include "common.hpp"
#include "weft/weft.hpp"

namespace {

struct rss_growth {
  double bytes_per_thread = 0;
  double rss_mb = 0;
  std::int64_t rounds = 0;

  void add(long long before, long long after, std::int64_t threads) {
    bytes_per_thread += static_cast<double>(after - before) / static_cast<double>(threads);
    rss_mb += weft_bench::to_mib(after);
    ++rounds;
  }
  void report(benchmark::State& state) const {
    if (rounds == 0) return;
    state.counters["bytes_per_thread"] = bytes_per_thread / static_cast<double>(rounds);
    state.counters["rss_mb"] = rss_mb / static_cast<double>(rounds);
  }
};

void BM_Blocked_Memory(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  rss_growth growth;
  for (auto _ : state) {
    weft_bench::trim_heap();
    weft::runtime rt;
    std::vector<weft::thread<void>> threads(static_cast<std::size_t>(n));
    weft::latch parked(n);
    weft::event go;
    long long before = weft_bench::status_bytes("VmRSS");
    for (auto& t : threads)
      t = weft::spawn_in(rt, [&] {
        parked.count_down();
        go.wait();
      });
    parked.wait();
    growth.add(before, weft_bench::status_bytes("VmRSS"), n);
    go.set();
    for (auto& t : threads) t.join();
  }
  growth.report(state);
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Blocked_Memory)->Arg(100'000)->Arg(1'000'000)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Blocked_Memory_Pthread(benchmark::State& state) {
  const std::int64_t cap = state.range(0);
  rss_growth growth;
  std::int64_t started = 0;
  for (auto _ : state) {
    weft_bench::trim_heap();
    std::mutex mu;
    std::condition_variable go_cv, parked_cv;
    bool go = false;
    std::int64_t parked = 0;
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(cap));
    long long before = weft_bench::status_bytes("VmRSS");
    for (std::int64_t i = 0; i < cap; ++i) {
      try {
        threads.emplace_back([&] {
          std::unique_lock lk(mu);
          ++parked;
          parked_cv.notify_one();
          go_cv.wait(lk, [&] { return go; });
        });
      } catch (const std::system_error&) {
        break;  // the machine's limit (pid_max, RLIMIT_NPROC, threads-max or memory)
      }
    }
    started = static_cast<std::int64_t>(threads.size());
    {
      std::unique_lock lk(mu);
      parked_cv.wait(lk, [&] { return parked == started; });
    }
    growth.add(before, weft_bench::status_bytes("VmRSS"), started);
    {
      std::lock_guard lk(mu);
      go = true;
    }
    go_cv.notify_all();
    for (auto& t : threads) t.join();
  }
  growth.report(state);
  state.counters["kernel_threads"] = static_cast<double>(started);
  state.SetItemsProcessed(state.iterations() * started);
}
BENCHMARK(BM_Blocked_Memory_Pthread)->Arg(10'000)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Blocked_Memory_BoostFiber(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  rss_growth growth;
  for (auto _ : state) {
    weft_bench::trim_heap();
    boost::fibers::mutex mu;
    boost::fibers::condition_variable go_cv, parked_cv;
    bool go = false;
    std::int64_t parked = 0;
    std::vector<boost::fibers::fiber> fibers;
    fibers.reserve(static_cast<std::size_t>(n));
    long long before = weft_bench::status_bytes("VmRSS");
    for (std::int64_t i = 0; i < n; ++i)
      fibers.emplace_back(std::allocator_arg, weft_bench::boost_stack(), [&] {
        std::unique_lock lk(mu);
        if (++parked == n) parked_cv.notify_one();
        go_cv.wait(lk, [&] { return go; });
      });
    {
      std::unique_lock lk(mu);
      parked_cv.wait(lk, [&] { return parked == n; });
    }
    growth.add(before, weft_bench::status_bytes("VmRSS"), n);
    {
      std::lock_guard lk(mu);
      go = true;
    }
    go_cv.notify_all();
    for (auto& f : fibers) f.join();
  }
  growth.report(state);
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Blocked_Memory_BoostFiber)->Arg(100'000)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
