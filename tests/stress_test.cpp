// Stress: 100k green threads over all workers doing random yields, locks and
// sleeps, with an exact final account: every thread ran exactly once and to
// its end, every increment made under a lock is there, nothing is left in
// the registry.
#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;

#if defined(__SANITIZE_THREAD__)
// TSan gives every green thread a fiber with ~1 MiB of shadow trace and makes
// each spawn ~1 ms: fewer threads, in smaller waves, keep it to seconds and
// inside memory.
constexpr int total_threads = 4000;
constexpr std::size_t wave_size = 250;
#elif defined(__SANITIZE_ADDRESS__)
// ASan (with detect_stack_use_after_return, as CI runs it) gives every green
// thread its own fake stack: 100k threads took 140-300 s on a busy 2-core
// machine against ctest's 300 s limit. A fifth keeps every wave and join path.
constexpr int total_threads = 20000;
constexpr std::size_t wave_size = 1000;
#else
constexpr int total_threads = 100000;
constexpr std::size_t wave_size = 2000;
#endif

class StressTest : public WorkerCount {};
INSTANTIATE_TEST_SUITE_P(Workers, StressTest, ::testing::Values(2u, 4u), ::weft_test::worker_name);

struct shared_state {
  static constexpr int locks = 8;
  weft::mutex mu[locks];
  long counter[locks] = {};               // guarded by mu[i]
  std::vector<std::atomic<std::uint8_t>> ran;
  std::atomic<long> finished{0};
  explicit shared_state(int n) : ran(n) {}
};

// What one thread does: a seed-determined mix of yields, locked increments
// and short sleeps. Returns the number of increments it made.
long work(shared_state& s, int index) {
  s.ran[index].fetch_add(1, std::memory_order_relaxed);
  std::minstd_rand rng(static_cast<unsigned>(index) * 2654435761u + 1);
  long increments = 0;
  int steps = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < steps; ++i) {
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2:
        weft::this_thread::yield();
        break;
      case 3:
      case 4:
      case 5: {
        int k = static_cast<int>(rng() % shared_state::locks);
        std::lock_guard lk(s.mu[k]);
        ++s.counter[k];
        ++increments;
        if (rng() % 4 == 0) weft::this_thread::yield();  // hold the lock across a switch
        break;
      }
      case 6:
        if (rng() % 16 == 0) weft::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
        break;
      default:
        break;
    }
  }
  s.finished.fetch_add(1, std::memory_order_relaxed);
  return increments;
}

TEST_P(StressTest, HundredThousandThreadsExactAccounting) {
  auto s = std::make_unique<shared_state>(total_threads);
  long joined_increments = 0;
  weft::runtime rt(opts());
  // Spawners on every worker; each spawns its share in waves and joins each
  // wave, so stacks in use stay bounded.
  const int spawners = 2 * static_cast<int>(GetParam());
  std::vector<weft::thread<long>> bosses;
  for (int b = 0; b < spawners; ++b)
    bosses.push_back(weft::spawn_in(rt, [&, b] {
      long sum = 0;
      std::vector<weft::thread<long>> wave;
      wave.reserve(wave_size);
      for (int i = b; i < total_threads; i += spawners) {
        wave.push_back(weft::spawn([&s, i] { return work(*s, i); }));
        if (wave.size() == wave_size) {
          for (auto& t : wave) sum += t.join();
          wave.clear();
        }
      }
      for (auto& t : wave) sum += t.join();
      return sum;
    }));
  for (auto& b : bosses) joined_increments += b.join();

  EXPECT_EQ(s->finished.load(), total_threads);
  int wrong = 0;
  for (auto& r : s->ran) wrong += r.load() != 1;
  EXPECT_EQ(wrong, 0) << "threads that ran zero times or more than once";
  long counted = 0;
  for (long c : s->counter) counted += c;
  EXPECT_EQ(counted, joined_increments);
  EXPECT_TRUE(eventually([&] { return rt.snapshot().empty(); }));
}

// The same without joins: detached threads and a wait_group, spawned from
// foreign threads too, so the global queue and stealing carry the load.
TEST_P(StressTest, DetachedThreadsFromForeignSpawners) {
  constexpr int per_spawner = total_threads / 10;
  auto s = std::make_unique<shared_state>(4 * per_spawner);
  std::atomic<long> increments{0};
  weft::runtime rt(opts());
  weft::wait_group wg;
  std::vector<std::thread> spawners;
  for (int f = 0; f < 4; ++f)
    spawners.emplace_back([&, f] {
      for (int i = f * per_spawner; i < (f + 1) * per_spawner; ++i) {
        wg.add();
        weft::spawn_in(rt, [&, i] {
          increments.fetch_add(work(*s, i));
          wg.done();
        }).detach();
      }
    });
  for (auto& t : spawners) t.join();
  wg.wait();
  rt.shutdown();  // also waits until every thread has fully ended
  EXPECT_EQ(s->finished.load(), 4 * per_spawner);
  int wrong = 0;
  for (auto& r : s->ran) wrong += r.load() != 1;
  EXPECT_EQ(wrong, 0);
  long counted = 0;
  for (long c : s->counter) counted += c;
  EXPECT_EQ(counted, increments.load());
}

}  // namespace
