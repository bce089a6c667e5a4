// BM_Wake_CrossWorker: how long a thread parked on one worker takes to run
// again after a thread on another worker wakes it. Two threads ping-pong
// through two semaphores, 10k round trips per iteration; the counter
// ns_per_wake is wall time per one-way wake (half a round trip). Between
// wakes the parked side's worker has nothing to run, so it goes through its
// spin-then-sleep idle path and the waker may have to wake it: that is the
// latency a user sees.
//
//   BM_Wake_CrossWorker          weft, 2 workers, both threads pinned, on different workers
//   BM_Wake_CrossWorker_Pthread  two kernel threads, POSIX semaphores (futex)
#include <atomic>
#include <cstdint>
#include <thread>

#include <semaphore.h>

#include <benchmark/benchmark.h>

#include "common.hpp"
#include "weft/weft.hpp"

namespace {

constexpr int round_trips = 10'000;

void report(benchmark::State& state, std::int64_t elapsed_ns) {
  std::int64_t wakes = state.iterations() * round_trips * 2;
  state.SetItemsProcessed(wakes);
  state.counters["ns_per_wake"] = static_cast<double>(elapsed_ns) / static_cast<double>(wakes);
}

// One round on a fresh pair; returns the ping-pong's wall time, or -1 if the
// pair could not be placed on different workers.
//
// Placement. A is pinned; it keeps its worker busy (spinning, no yield)
// until B has started, so the helper it spawns can only be taken by the
// other worker; the helper spawns B, pinned, from there and waits for it.
// That lands B on the other worker whether a pinned thread belongs to the
// worker that spawned it or to the one it first runs on. B must be pinned:
// a woken thread is otherwise queued on its waker's worker and the two
// would end up sharing one.
std::int64_t weft_round(weft::runtime& rt) {
  weft::spawn_attrs pinned;
  pinned.pinned = true;
  return weft::spawn_in(
             rt,
             [pinned] {
               weft::counting_semaphore ping(0), pong(0);
               std::atomic<int> partner_worker{-1};
               auto helper = weft::spawn([&] {
                 weft::spawn(
                     [&] {
                       partner_worker.store(weft::this_thread::worker_index(), std::memory_order_release);
                       for (int i = 0; i < round_trips; ++i) {
                         ping.acquire();
                         pong.release();
                       }
                     },
                     pinned)
                     .join();
               });
               std::int64_t deadline = weft_bench::wall_ns() + 5'000'000'000;
               int partner = -1;
               while ((partner = partner_worker.load(std::memory_order_acquire)) < 0 && weft_bench::wall_ns() < deadline) {
               }
               bool apart = partner >= 0 && partner != weft::this_thread::worker_index();
               std::int64_t t0 = weft_bench::wall_ns();
               for (int i = 0; i < round_trips; ++i) {
                 ping.release();
                 pong.acquire();
               }
               std::int64_t elapsed = weft_bench::wall_ns() - t0;
               helper.join();
               return apart ? elapsed : std::int64_t{-1};
             },
             pinned)
      .join();
}

void BM_Wake_CrossWorker(benchmark::State& state) {
  weft::options opts;
  opts.workers = 2;
  weft::runtime rt(opts);
  std::int64_t elapsed = 0;
  for (auto _ : state) {
    std::int64_t ns = weft_round(rt);
    if (ns < 0) {
      state.SkipWithError("the two threads did not land on different workers");
      return;
    }
    elapsed += ns;
  }
  report(state, elapsed);
}
BENCHMARK(BM_Wake_CrossWorker)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_Wake_CrossWorker_Pthread(benchmark::State& state) {
  std::int64_t elapsed = 0;
  for (auto _ : state) {
    sem_t ping, pong;
    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    std::thread partner([&] {
      for (int i = 0; i < round_trips; ++i) {
        sem_wait(&ping);
        sem_post(&pong);
      }
    });
    std::int64_t t0 = weft_bench::wall_ns();
    for (int i = 0; i < round_trips; ++i) {
      sem_post(&ping);
      sem_wait(&pong);
    }
    elapsed += weft_bench::wall_ns() - t0;
    partner.join();
    sem_destroy(&ping);
    sem_destroy(&pong);
  }
  report(state, elapsed);
}
BENCHMARK(BM_Wake_CrossWorker_Pthread)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
