// demo: many green threads at work, a `ps` of them mid-run, and the same
// work done with kernel threads (std::thread) for scale.
//
//   demo [threads]      default 100000; the pthread comparison uses min(threads, 10000)
//
// The workload is written once, as a template over a "kit" of primitives, so
// the green and the kernel runs do exactly the same thing: every worker waits
// on one start event, sleeps a little, takes one of a few semaphore slots,
// yields while holding it (so others queue on the semaphore), then adds its
// number to one of 16 mutex-protected buckets; one collector per bucket waits
// on the bucket's condition variable until every report is in.
#include <weft/weft.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using clk = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ns_since(clk::time_point t0) { return std::chrono::duration<double, std::nano>(clk::now() - t0).count(); }

// Green threads: weft's primitives park the green thread, never its worker.
struct green_kit {
  static constexpr const char* name = "weft";
  using mutex = weft::mutex;
  using condvar = weft::condition_variable;
  using semaphore = weft::counting_semaphore;
  using event = weft::event;
  using handle = weft::thread<void>;
  template <class F>
  static handle spawn(F f, std::string name) {
    return weft::spawn(std::move(f), {.name = std::move(name)});
  }
  static void sleep_for(std::chrono::microseconds d) { weft::this_thread::sleep_for(d); }
  static void yield() { weft::this_thread::yield(); }
};

// Kernel threads: the standard library's twins of the same primitives.
struct kernel_kit {
  static constexpr const char* name = "std::thread";
  using mutex = std::mutex;
  using condvar = std::condition_variable;
  using semaphore = std::counting_semaphore<>;
  struct event {
    std::latch l{1};
    void set() { l.count_down(); }
    void wait() { l.wait(); }
  };
  using handle = std::thread;
  template <class F>
  static handle spawn(F f, const std::string&) { return std::thread(std::move(f)); }
  static void sleep_for(std::chrono::microseconds d) { std::this_thread::sleep_for(d); }
  static void yield() { std::this_thread::yield(); }
};

constexpr int buckets = 16;
constexpr int slots = 256;

// The fan-out/fan-in workload; `peek` runs in the spawning thread once every
// worker exists, before and after the start signal. Returns false on a wrong sum.
template <class Kit>
bool fan_out(int n, double& elapsed_ns, const std::function<void(int phase)>& peek) {
  struct bucket {
    typename Kit::mutex mu;
    typename Kit::condvar cv;
    long long sum = 0;
    int reports = 0;
    int expected = 0;
  };
  auto bs = std::make_unique<bucket[]>(buckets);
  for (int i = 0; i < n; ++i) bs[i % buckets].expected++;
  typename Kit::event go;
  typename Kit::semaphore sem(slots);
  std::vector<long long> totals(buckets);

  auto t0 = clk::now();
  std::vector<typename Kit::handle> hs;
  hs.reserve(n + buckets);
  for (int b = 0; b < buckets; ++b)
    hs.push_back(Kit::spawn([&, b] {
      std::unique_lock lk(bs[b].mu);
      bs[b].cv.wait(lk, [&] { return bs[b].reports == bs[b].expected; });
      totals[b] = bs[b].sum;
    }, "collect" + std::to_string(b)));
  for (int i = 0; i < n; ++i)
    hs.push_back(Kit::spawn([&, i] {
      go.wait();
      Kit::sleep_for(std::chrono::microseconds(100 * (i % 20)));
      sem.acquire();
      Kit::yield();
      sem.release();
      bucket& b = bs[i % buckets];
      std::lock_guard lk(b.mu);
      b.sum += i;
      if (++b.reports == b.expected) b.cv.notify_all();
    }, "w" + std::to_string(i)));
  if (peek) peek(0);
  go.set();
  if (peek) peek(1);
  for (auto& h : hs) h.join();
  elapsed_ns = ns_since(t0);

  long long sum = 0;
  for (long long t : totals) sum += t;
  return sum == static_cast<long long>(n) * (n - 1) / 2;
}

// Spawns n trivial threads, then joins them all; ns per thread.
template <class Kit>
double spawn_join(int n) {
  std::vector<typename Kit::handle> hs;
  hs.reserve(n);
  auto t0 = clk::now();
  for (int i = 0; i < n; ++i) hs.push_back(Kit::spawn([] {}, {}));
  for (auto& h : hs) h.join();
  return ns_since(t0) / n;
}

// Two threads hand a token back and forth through a mutex and a condition
// variable; ns per hand-over.
template <class Kit>
double ping_pong(int rounds) {
  typename Kit::mutex mu;
  typename Kit::condvar cv;
  int turn = 0;
  auto player = [&](int me) {
    for (int r = 0; r < rounds; ++r) {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return turn == me; });
      turn = 1 - me;
      cv.notify_one();
    }
  };
  auto t0 = clk::now();
  auto a = Kit::spawn([&] { player(0); }, "ping");
  auto b = Kit::spawn([&] { player(1); }, "pong");
  a.join();
  b.join();
  return ns_since(t0) / (2.0 * rounds);
}

long rss_kib() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::string state_key(const weft::thread_info& t) {
  std::string k = weft::to_string(t.state);
  if (t.waiting_for != weft::wait_reason::none) k += std::string("/") + weft::to_string(t.waiting_for);
  return k;
}

void print_histogram(const std::vector<weft::thread_info>& snap) {
  std::map<std::string, int> count;
  for (const auto& t : snap) count[state_key(t)]++;
  std::printf("    %zu threads:", snap.size());
  for (const auto& [k, c] : count) std::printf("  %s %d", k.c_str(), c);
  std::printf("\n");
}

// A `ps` of a few threads: main, a collector, and up to two of every state seen.
void print_ps(const std::vector<weft::thread_info>& snap) {
  std::vector<const weft::thread_info*> rows;
  std::map<std::string, int> shown;
  for (const auto& t : snap)
    if (t.name == "main" || (t.parent != 0 && shown[state_key(t)]++ < 2)) rows.push_back(&t);
  if (rows.size() > 14) rows.resize(14);
  auto us = [](std::chrono::nanoseconds d) { return std::chrono::duration<double, std::micro>(d).count(); };
  std::printf("    %7s %-10s %-18s %-10s %4s %7s %6s %7s %10s %10s %10s %9s\n", "ID", "NAME", "STATE", "WAIT", "PRIO",
              "PARENT", "WORKER", "BURSTS", "RUN(us)", "READY(us)", "BLOCK(us)", "RESP(us)");
  for (const auto* t : rows)
    std::printf("    %7llu %-10s %-18s %-10s %4d %7llu %6d %7llu %10.1f %10.1f %10.1f %9.1f\n",
                static_cast<unsigned long long>(t->id), t->name.empty() ? "-" : t->name.c_str(),
                weft::to_string(t->state),
                t->waiting_for == weft::wait_reason::none ? "-" : weft::to_string(t->waiting_for),
                t->effective_priority, static_cast<unsigned long long>(t->parent), t->worker,
                static_cast<unsigned long long>(t->bursts), us(t->run_time), us(t->ready_time), us(t->blocked_time),
                us(t->response));
}

// The runtime's totals: per-worker utilisation, switches, completions.
void print_stats(const weft::runtime_stats& s) {
  std::printf("    up %.1f ms, %llu threads completed (%.0f/s), %llu switches\n",
              std::chrono::duration<double, std::milli>(s.uptime).count(), static_cast<unsigned long long>(s.completed),
              s.completed_per_second, static_cast<unsigned long long>(s.switches));
  for (const auto& w : s.workers)
    std::printf("    worker %u: busy %.1f ms (%.0f%%), %llu switches, %llu completed\n", w.index,
                std::chrono::duration<double, std::milli>(w.busy).count(), 100 * w.utilisation,
                static_cast<unsigned long long>(w.switches), static_cast<unsigned long long>(w.completed));
}

std::string human_ns(double ns) {
  char buf[32];
  if (ns < 1e3) std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  else if (ns < 1e6) std::snprintf(buf, sizeof buf, "%.1f us", ns / 1e3);
  else std::snprintf(buf, sizeof buf, "%.1f ms", ns / 1e6);
  return buf;
}

void compare_row(const char* what, double green_ns, double kernel_ns) {
  std::printf("    %-40s %10s %12s %8.1fx\n", what, human_ns(green_ns).c_str(), human_ns(kernel_ns).c_str(),
              kernel_ns / green_ns);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000;
  if (argc > 1) {
    char* end = nullptr;
    long v = std::strtol(argv[1], &end, 10);
    if (*end != '\0' || v < 100 || v > 10000000) {
      std::fprintf(stderr, "usage: %s [threads]   (threads: 100..10000000, default 100000)\n", argv[0]);
      return 2;
    }
    n = static_cast<int>(v);
  }
  const int small = std::min(n, 10000);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep weft's stderr notes in order with the tables
  weft::set_log_level(weft::log_level::info);  // the notes: which I/O engine, and (warnings) stacks past the guard budget
  bool ok = true;

  double big_ns = 0, green_small_ns = 0, green_spawn_ns = 0, green_pp_ns = 0;
  weft::options opts;  // one worker per online CPU
  opts.stall_threshold = std::chrono::milliseconds(100);  // report a thread that hogs its worker
  opts.dump_signal = SIGQUIT;  // kill -QUIT <pid> (Ctrl-\) prints every green thread (docs/debugging.md)
  weft::runtime rt(opts);
  std::printf("weft demo: %d green threads on %u workers (context switch: %s)\n\n", n, rt.workers(),
              weft::runtime::context_backend());

  std::printf("[1] fan-out: %d threads wait on one event, sleep 0-2 ms, share %d semaphore slots,\n"
              "    and report into %d mutex+condvar buckets drained by %d collector threads\n",
              n, slots, buckets, buckets);
  long rss0 = rss_kib();
  auto root = weft::spawn_in(rt, [&] {
    ok &= fan_out<green_kit>(n, big_ns, [&](int phase) {
      if (phase == 0) {
        weft::this_thread::sleep_for(20ms);  // let every worker reach go.wait()
        long rss = rss_kib();
        std::printf("\n    all spawned, before the start signal: RSS %+ld MiB (%.1f KiB per thread)\n",
                    (rss - rss0) / 1024, static_cast<double>(rss - rss0) / (n + buckets));
        print_histogram(weft::snapshot());
      } else {
        weft::this_thread::sleep_for(2ms);
        auto snap = weft::snapshot();
        std::printf("\n    ps, 2 ms after the start signal:\n");
        print_ps(snap);
        print_histogram(snap);
      }
    });
    std::printf("\n    all %d reports summed %s in %.0f ms\n\n", n, ok ? "correctly" : "WRONG", big_ns / 1e6);

    // The green halves of the comparison, in the same runtime.
    ok &= fan_out<green_kit>(small, green_small_ns, nullptr);
    green_spawn_ns = spawn_join<green_kit>(small);
    green_pp_ns = ping_pong<green_kit>(20000);
  }, {.name = "main"});
  root.join();
  std::printf("    runtime stats (weft::runtime::stats()):\n");
  print_stats(rt.stats());
  std::printf("\n");
  rt.shutdown();

  std::printf("[2] the same work on kernel threads (std::thread, std::mutex, ...)\n");
  double kernel_small_ns = 0;
  ok &= fan_out<kernel_kit>(small, kernel_small_ns, nullptr);
  double kernel_spawn_ns = spawn_join<kernel_kit>(small);
  double kernel_pp_ns = ping_pong<kernel_kit>(20000);

  std::printf("    %-40s %10s %12s %9s\n", "", "weft", "std::thread", "speedup");
  std::string fan = "fan-out above, " + std::to_string(small) + " threads";
  compare_row(fan.c_str(), green_small_ns, kernel_small_ns);
  std::string sj = "spawn+join " + std::to_string(small) + ", per thread";
  compare_row(sj.c_str(), green_spawn_ns, kernel_spawn_ns);
  compare_row("mutex+condvar ping-pong, per hand-over", green_pp_ns, kernel_pp_ns);

  if (!ok) {
    std::printf("\nFAILED: a sum did not add up\n");
    return 1;
  }
  return 0;
}
