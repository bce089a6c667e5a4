// The echo load generator, built on weft: one green thread per connection,
// each sending a fixed-size message, waiting for the whole echo, and timing
// the round trip. After a warm-up, round trips are counted and their
// latencies kept for a fixed time; the result is round trips per second and
// the 50th/99th percentile latency.
//
// Used by echo_load (the command-line tool) and by weft_bench's BM_Echo*.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include <sys/socket.h>

#include "weft/io.hpp"
#include "weft/weft.hpp"

namespace weft_echo {

struct load_options {
  weft::io::address server;
  int connections = 100;
  std::size_t message = 64;  // bytes per request (and echo)
  // 0: each client keeps its connection; N: it resets it and connects anew
  // after every N round trips (connection churn: accept, spawn, close).
  int reconnect_every = 0;
  std::chrono::milliseconds warmup{300};
  std::chrono::milliseconds measure{2000};
  // Called when measuring starts and ends (e.g. to read the server's CPU time).
  std::function<void()> on_measure_start, on_measure_end;
};

struct load_result {
  std::uint64_t round_trips = 0;  // completed while measuring
  double seconds = 0;             // measuring time
  double rps = 0;                 // round trips per second
  double p50_us = 0;
  double p99_us = 0;
  int failed = 0;  // clients that failed (connect or I/O error)
  std::uint64_t connects = 0;  // connections made while measuring (churn)
};

// Drives the server for warmup + measure; call from a green thread of a weft runtime.
inline load_result run_load(const load_options& o) {
  enum : int { warming, measuring, stopping };
  std::atomic<int> phase{warming};
  std::atomic<int> failed{0};
  std::atomic<std::uint64_t> connects{0};
  weft::latch connected(o.connections);
  std::vector<std::vector<std::uint32_t>> lat(static_cast<std::size_t>(o.connections));
  std::vector<weft::thread<void>> clients;
  clients.reserve(static_cast<std::size_t>(o.connections));
  for (int i = 0; i < o.connections; ++i)
    clients.push_back(weft::spawn([&, i] {
      std::vector<std::uint32_t>& mine = lat[static_cast<std::size_t>(i)];
      mine.reserve(1 << 14);
      std::vector<char> out(o.message, static_cast<char>('a' + i % 26)), in(o.message);
      weft::io::socket s;
      auto open = [&] {
        s = weft::io::socket::connect(o.server, std::chrono::seconds(10));
        s.set_nodelay();
      };
      try {
        open();
      } catch (const std::exception&) {
        failed.fetch_add(1);
        connected.count_down();
        return;
      }
      connected.count_down();
      connected.wait();
      try {
        for (int k = 0; phase.load(std::memory_order_relaxed) != stopping; ++k) {
          if (o.reconnect_every > 0 && k > 0 && k % o.reconnect_every == 0) {
            // Closed with a reset (SO_LINGER 0): a graceful close would
            // leave the client's side in TIME_WAIT, and with tens of
            // thousands of those every connect() searches the ephemeral
            // ports for one still free -- the benchmark would measure that
            // search (~120 us per connect here) instead of the server.
            linger l{1, 0};
            s.set_option(SOL_SOCKET, SO_LINGER, &l, sizeof l);
            s.close();
            open();
            if (phase.load(std::memory_order_relaxed) == measuring) connects.fetch_add(1, std::memory_order_relaxed);
          }
          auto t0 = std::chrono::steady_clock::now();
          s.write_all(out.data(), out.size());
          if (s.read_exact(in.data(), in.size()) != in.size()) throw std::runtime_error("server closed");
          auto t1 = std::chrono::steady_clock::now();
          if (phase.load(std::memory_order_relaxed) == measuring)
            mine.push_back(static_cast<std::uint32_t>(
                std::min<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count(), UINT32_MAX)));
        }
      } catch (const std::exception&) {
        failed.fetch_add(1);
      }
    }));
  connected.wait();
  weft::this_thread::sleep_for(o.warmup);
  if (o.on_measure_start) o.on_measure_start();
  auto start = std::chrono::steady_clock::now();
  phase.store(measuring);
  weft::this_thread::sleep_for(o.measure);
  phase.store(stopping);
  auto end = std::chrono::steady_clock::now();
  if (o.on_measure_end) o.on_measure_end();
  for (auto& c : clients) c.join();

  load_result r;
  std::vector<std::uint32_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  r.round_trips = all.size();
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.rps = static_cast<double>(r.round_trips) / r.seconds;
  r.failed = failed.load();
  r.connects = connects.load();
  if (!all.empty()) {
    auto pct = [&all](double p) {
      auto k = static_cast<std::size_t>(p * static_cast<double>(all.size() - 1));
      std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end());
      return static_cast<double>(all[k]) / 1000.0;
    };
    r.p50_us = pct(0.50);
    r.p99_us = pct(0.99);
  }
  return r;
}

}  // namespace weft_echo
