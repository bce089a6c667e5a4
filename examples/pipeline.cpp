// A three-stage pipeline with bounded buffers: the producer/consumer figure
// of the OS notes, with green threads.
//
//   producer --[channel, 8]--> 4 workers --[channel, 8]--> collector
//
// The producer generates jobs; a bounded channel makes it wait whenever the
// workers fall behind (back-pressure instead of unbounded memory). Workers
// take jobs, compute, and pass results on. Termination flows downstream by
// close(): the producer closes the job channel; each worker exits when its
// receive reports closed (after the buffer is drained, so no job is lost);
// the last worker to finish closes the result channel; the collector stops
// when that one reports closed. A byte pipe at the end carries a report to
// a plain kernel thread, the way a green program would feed a logger.
//
// Usage: pipeline [jobs]   (default 100000)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "weft/channel.hpp"
#include "weft/pipe.hpp"
#include "weft/weft.hpp"

namespace {

struct job {
  int id;
  long long n;
};

struct result {
  int id;
  long long value;
};

// Stage 2's work: the number of Collatz steps from n down to 1.
long long collatz_steps(long long n) {
  long long steps = 0;
  while (n != 1) {
    n = n % 2 ? 3 * n + 1 : n / 2;
    ++steps;
  }
  return steps;
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = argc > 1 ? std::atoi(argv[1]) : 100000;
  if (jobs <= 0) {
    std::fprintf(stderr, "usage: pipeline [jobs > 0]\n");
    return 2;
  }
  constexpr int workers = 4;
  weft::pipe report(4096);

  // The logger is a plain kernel thread: it reads the pipe until EOF.
  std::thread logger([&] {
    char buf[256];
    for (;;) {
      auto r = report.read(buf, sizeof buf);
      if (r.status == weft::op_status::closed) break;
      std::fwrite(buf, 1, r.bytes, stdout);
    }
  });

  auto t0 = std::chrono::steady_clock::now();
  int rc = weft::run({.stall_threshold = std::chrono::milliseconds(100)}, [&] {
    weft::channel<job> jobs_ch(8);
    weft::channel<result> results_ch(8);

    auto producer = weft::spawn(
        [&] {
          for (int i = 0; i < jobs; ++i) {
            // send() blocks while 8 jobs wait: the workers set the pace.
            if (!jobs_ch.send(job{i, i + 1})) return;
          }
          jobs_ch.close();
        },
        {.name = "producer"});

    std::atomic<int> running{workers};
    std::vector<weft::thread<void>> pool;
    for (int w = 0; w < workers; ++w)
      pool.push_back(weft::spawn(
          [&] {
            while (auto j = jobs_ch.recv()) (void)results_ch.send(result{j->id, collatz_steps(j->n)});
            if (running.fetch_sub(1) == 1) results_ch.close();  // the last one out closes downstream
          },
          {.name = "worker-" + std::to_string(w)}));

    long long total = 0, longest = 0;
    int longest_id = -1, received = 0;
    while (auto r = results_ch.recv()) {
      ++received;
      total += r->value;
      if (r->value > longest) {
        longest = r->value;
        longest_id = r->id;
      }
    }
    producer.join();
    for (auto& t : pool) t.join();

    char line[256];
    int n = std::snprintf(line, sizeof line,
                          "pipeline: %d jobs in, %d results out, %lld Collatz steps in total; longest: n=%d (%lld steps)\n",
                          jobs, received, total, longest_id + 1, longest);
    (void)report.write(line, static_cast<std::size_t>(n));
    return received == jobs ? 0 : 1;
  });
  report.close_write();
  logger.join();
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("pipeline: %.1f ms, %.0f ns per job through 3 stages\n", ms, ms * 1e6 / jobs);
  return rc;
}
