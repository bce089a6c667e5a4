// I/O benchmarks.
//
// BM_Sleep_Wakeup/N: N threads each sleep 1 ms ten times. Counters:
// late_us_p50 / late_us_p99 (how long after its deadline a sleeper ran:
// timer accuracy), cpu_percent (process CPU time over wall time, in percent
// of one CPU: what the timers cost), wakeups_per_sec.
//   BM_Sleep_Wakeup            weft, 2 workers, default engine (io_uring)
//   BM_Sleep_Wakeup_WeftEpoll  weft, 2 workers, epoll engine
//   BM_Sleep_Wakeup_Pthread    N kernel threads in std::this_thread::sleep_for
//
// BM_Echo/C: C connections each send a 64-byte message and wait for its echo,
// over loopback, against an echo server in its own process (bench/echo/);
// the load generator is bench/echo/load.hpp on a 2-worker weft runtime.
// Counters: rps (round trips per second), p50_us, p99_us, failed,
// server_cpu_us / client_cpu_us (CPU time per round trip while measuring,
// user + system, of the server process and of the load generator; /proc
// counts in clock ticks, 10 ms, so a 2 s run reads them to ~1%).
//   BM_Echo            examples/echo_server.cpp, 2 workers, io_uring engine
//   BM_Echo_WeftEpoll  the same server on its epoll engine
//   BM_Echo_Pthread    thread-per-connection server (bench/echo/echo_pthread.cpp)
//   BM_Echo_Epoll      hand-written single-threaded epoll server (bench/echo/echo_epoll.cpp)
//   BM_Echo_Uring      hand-written single-threaded io_uring server, one recv
//                      per message as weft issues them (bench/echo/echo_uring.cpp)
//   BM_Echo_UringMultishot  the same with multishot recv into provided buffers
//                      (and multishot accept)
// BM_EchoChurn<same suffixes>/C: C clients that each reset their connection
// (SO_LINGER 0, see load.hpp) and connect anew after every round trip; extra
// counters connects_per_sec and server_cpu_us_per_connect.
// Each run: 300 ms warm-up, 2 s measured (WEFT_ECHO_SECONDS overrides). On a
// shared machine compare servers with --benchmark_repetitions=5
// --benchmark_enable_random_interleaving=true (docs/io.md).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "weft/io.hpp"
#include "weft/weft.hpp"

#ifdef WEFT_ECHO_BIN_DIR
#include "load.hpp"
#include "server_process.hpp"
#endif

namespace {

constexpr int sleeps_per_thread = 10;
constexpr auto nap = std::chrono::milliseconds(1);

struct sleep_stats {
  std::vector<std::int64_t> late_ns;
  double cpu_s = 0;
  double wall_s = 0;
};

void report_sleep(benchmark::State& state, sleep_stats& s) {
  auto& v = s.late_ns;
  auto pct = [&v](double p) {
    auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return static_cast<double>(v[k]) / 1000.0;
  };
  state.counters["late_us_p50"] = pct(0.50);
  state.counters["late_us_p99"] = pct(0.99);
  state.counters["cpu_percent"] = 100.0 * s.cpu_s / s.wall_s;
  state.counters["wakeups_per_sec"] = static_cast<double>(v.size()) / s.wall_s;
  state.SetItemsProcessed(static_cast<std::int64_t>(v.size()));
}

// How late each sleep of one sleeper ended, appended to out.
template <class Sleep>
void sleeper(std::int64_t* out, Sleep sleep) {
  for (int k = 0; k < sleeps_per_thread; ++k) {
    std::int64_t t0 = weft_bench::wall_ns();
    sleep();
    out[k] = weft_bench::wall_ns() - t0 - std::chrono::duration_cast<std::chrono::nanoseconds>(nap).count();
  }
}

void sleep_wakeup_weft(benchmark::State& state, weft::io_engine engine) {
  auto n = static_cast<std::size_t>(state.range(0));
  weft::runtime rt({.workers = 2, .io = engine});
  sleep_stats s;
  for (auto _ : state) {
    std::vector<std::int64_t> late(n * sleeps_per_thread);
    double cpu0 = weft_bench::process_cpu_seconds();
    std::int64_t t0 = weft_bench::wall_ns();
    weft::spawn_in(rt, [&] {
      std::vector<weft::thread<void>> ts;
      ts.reserve(n);
      for (std::size_t i = 0; i < n; ++i)
        ts.push_back(weft::spawn(
            [p = &late[i * sleeps_per_thread]] { sleeper(p, [] { weft::this_thread::sleep_for(nap); }); }));
      for (auto& t : ts) t.join();
    }).join();
    s.wall_s += static_cast<double>(weft_bench::wall_ns() - t0) * 1e-9;
    s.cpu_s += weft_bench::process_cpu_seconds() - cpu0;
    s.late_ns.insert(s.late_ns.end(), late.begin(), late.end());
  }
  report_sleep(state, s);
}

void BM_Sleep_Wakeup(benchmark::State& state) { sleep_wakeup_weft(state, weft::io_engine::automatic); }
BENCHMARK(BM_Sleep_Wakeup)->Arg(100)->Arg(1000)->Arg(10000)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Sleep_Wakeup_WeftEpoll(benchmark::State& state) { sleep_wakeup_weft(state, weft::io_engine::epoll); }
BENCHMARK(BM_Sleep_Wakeup_WeftEpoll)->Arg(100)->Arg(1000)->Arg(10000)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Sleep_Wakeup_Pthread(benchmark::State& state) {
  auto n = static_cast<std::size_t>(state.range(0));
  sleep_stats s;
  for (auto _ : state) {
    std::vector<std::int64_t> late(n * sleeps_per_thread);
    double cpu0 = weft_bench::process_cpu_seconds();
    std::int64_t t0 = weft_bench::wall_ns();
    std::vector<std::thread> ts;
    ts.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      ts.emplace_back([p = &late[i * sleeps_per_thread]] { sleeper(p, [] { std::this_thread::sleep_for(nap); }); });
    for (auto& t : ts) t.join();
    s.wall_s += static_cast<double>(weft_bench::wall_ns() - t0) * 1e-9;
    s.cpu_s += weft_bench::process_cpu_seconds() - cpu0;
    s.late_ns.insert(s.late_ns.end(), late.begin(), late.end());
  }
  report_sleep(state, s);
}
BENCHMARK(BM_Sleep_Wakeup_Pthread)->Arg(100)->Arg(1000)->UseRealTime()->Unit(benchmark::kMillisecond);

#ifdef WEFT_ECHO_BIN_DIR

void echo(benchmark::State& state, const std::string& binary, const std::vector<std::string>& args, int reconnect_every) {
  weft_echo::load_options lo;
  lo.connections = static_cast<int>(state.range(0));
  lo.message = 64;
  lo.reconnect_every = reconnect_every;
  if (const char* s = std::getenv("WEFT_ECHO_SECONDS")) lo.measure = std::chrono::seconds(std::atoi(s));
  weft_echo::load_result total;
  int server_status = 0;
  double server_cpu = 0, client_cpu = 0;
  for (auto _ : state) {
    weft_echo::server_process srv(std::string(WEFT_ECHO_BIN_DIR) + "/" + binary, args);
    lo.server = weft::io::address::loopback(srv.port());
    double s0 = 0, c0 = 0;
    lo.on_measure_start = [&] {
      s0 = srv.cpu_seconds();
      c0 = weft_bench::process_cpu_seconds();
    };
    lo.on_measure_end = [&] {
      server_cpu += srv.cpu_seconds() - s0;
      client_cpu += weft_bench::process_cpu_seconds() - c0;
    };
    weft_echo::load_result r;
    {
      weft::runtime client({.workers = 2});
      r = weft::spawn_in(client, [&] { return weft_echo::run_load(lo); }).join();
    }
    server_status |= srv.stop();
    state.SetIterationTime(r.seconds);
    total.round_trips += r.round_trips;
    total.seconds += r.seconds;
    total.p50_us = std::max(total.p50_us, r.p50_us);
    total.p99_us = std::max(total.p99_us, r.p99_us);
    total.failed += r.failed;
    total.connects += r.connects;
  }
  state.counters["rps"] = static_cast<double>(total.round_trips) / total.seconds;
  state.counters["p50_us"] = total.p50_us;
  state.counters["p99_us"] = total.p99_us;
  // CPU per round trip: steadier than rps on a shared machine, where the
  // other processes' load decides how much CPU the servers get.
  auto rt = static_cast<double>(std::max<std::uint64_t>(total.round_trips, 1));
  state.counters["server_cpu_us"] = server_cpu * 1e6 / rt;
  state.counters["client_cpu_us"] = client_cpu * 1e6 / rt;
  if (reconnect_every > 0) {
    state.counters["connects_per_sec"] = static_cast<double>(total.connects) / total.seconds;
    state.counters["server_cpu_us_per_connect"] =
        server_cpu * 1e6 / static_cast<double>(std::max<std::uint64_t>(total.connects, 1));
  }
  state.counters["failed"] = total.failed;
  state.counters["server_exit"] = server_status;
  state.SetItemsProcessed(static_cast<std::int64_t>(total.round_trips));
}

// The servers compared; each is registered as BM_Echo<suffix> (1, 100 and
// 1000 long-lived connections) and BM_EchoChurn<suffix> (100 clients that
// connect anew for every round trip: accept, spawn and close per message).
struct server_kind {
  const char* suffix;
  const char* binary;
  std::vector<std::string> args;
};

const std::vector<server_kind>& server_kinds() {
  static const std::vector<server_kind> kinds = {
      {"", "echo_weft", {"--workers", "2", "--engine", "io_uring"}},
      {"_WeftEpoll", "echo_weft", {"--workers", "2", "--engine", "epoll"}},
      {"_Pthread", "echo_pthread", {}},
      {"_Epoll", "echo_epoll", {}},
#ifdef WEFT_ECHO_HAVE_URING
      {"_Uring", "echo_uring", {"--recv", "single"}},
      {"_UringMultishot", "echo_uring", {"--recv", "multishot"}},
#endif
  };
  return kinds;
}

[[maybe_unused]] const int registered = [] {
  for (const server_kind& k : server_kinds())
    benchmark::RegisterBenchmark((std::string("BM_Echo") + k.suffix).c_str(),
                                 [&k](benchmark::State& state) { echo(state, k.binary, k.args, 0); })
        ->Arg(1)->Arg(100)->Arg(1000)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
  for (const server_kind& k : server_kinds())
    benchmark::RegisterBenchmark((std::string("BM_EchoChurn") + k.suffix).c_str(),
                                 [&k](benchmark::State& state) { echo(state, k.binary, k.args, 1); })
        ->Arg(100)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
  return 0;
}();

#endif  // WEFT_ECHO_BIN_DIR

}  // namespace
