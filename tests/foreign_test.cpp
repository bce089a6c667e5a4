// Primitives shared between plain kernel threads (std::thread, "foreign")
// and green threads: foreign threads block in the kernel, green threads
// park, and either side can wake the other.
#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;
using clk = std::chrono::steady_clock;

class ForeignTest : public WorkerCount {};
WEFT_WORKER_COUNTS(ForeignTest);

// Foreign producers feed green workers through a weft mutex + condition
// variable; the foreign side waits for the results on a wait_group.
TEST_P(ForeignTest, ForeignThreadsFeedGreenThreads) {
  weft::runtime rt(opts());
  weft::mutex m;
  weft::condition_variable cv;
  std::deque<int> work;
  bool closed = false;
  std::atomic<long> sum{0};
  weft::wait_group consumers;
  constexpr int producers = 3, per_producer = 2000, green_consumers = 8;

  for (int c = 0; c < green_consumers; ++c) {
    consumers.add();
    weft::spawn_in(rt, [&] {
      for (;;) {
        std::unique_lock lk(m);
        cv.wait(lk, [&] { return !work.empty() || closed; });
        if (work.empty()) break;
        int v = work.front();
        work.pop_front();
        lk.unlock();
        sum.fetch_add(v);
      }
      consumers.done();
    }).detach();
  }
  std::vector<std::thread> ps;
  for (int p = 0; p < producers; ++p)
    ps.emplace_back([&, p] {
      for (int i = 1; i <= per_producer; ++i) {
        std::lock_guard lk(m);
        work.push_back(p * per_producer + i);
        cv.notify_one();
      }
    });
  for (auto& p : ps) p.join();
  {
    std::lock_guard lk(m);
    closed = true;
  }
  cv.notify_all();
  consumers.wait();  // a foreign thread blocking on a wait_group
  long n = producers * per_producer;
  EXPECT_EQ(sum.load(), n * (n + 1) / 2);
}

// Green producers, foreign consumers: a semaphore counts items, a latch
// tells the green side every foreign consumer is done.
TEST_P(ForeignTest, GreenThreadsFeedForeignThreads) {
  weft::runtime rt(opts());
  weft::counting_semaphore items(0);
  std::atomic<int> taken{0};
  weft::latch consumers_done(2);
  constexpr int per_producer = 500, green_producers = 4;
  auto boss = weft::spawn_in(rt, [&] {
    std::vector<weft::thread<void>> ps;
    for (int p = 0; p < green_producers; ++p)
      ps.push_back(weft::spawn([&] {
        for (int i = 0; i < per_producer; ++i) {
          items.release();
          if (i % 32 == 0) weft::this_thread::yield();
        }
      }));
    for (auto& p : ps) p.join();
    consumers_done.wait();  // a green thread waits for foreign ones
    return taken.load();
  });
  std::vector<std::thread> cs;
  for (int c = 0; c < 2; ++c)
    cs.emplace_back([&] {
      for (int i = 0; i < green_producers * per_producer / 2; ++i) {
        items.acquire();
        taken.fetch_add(1);
      }
      consumers_done.count_down();
    });
  EXPECT_EQ(boss.join(), green_producers * per_producer);
  for (auto& c : cs) c.join();
  EXPECT_EQ(items.available(), 0);
}

TEST_P(ForeignTest, MutexSharedByForeignAndGreenThreads) {
  weft::runtime rt(opts());
  weft::mutex m;
  long counter = 0;
  std::vector<weft::thread<void>> greens;
  for (int i = 0; i < 8; ++i)
    greens.push_back(weft::spawn_in(rt, [&] {
      for (int k = 0; k < 2000; ++k) {
        std::lock_guard lk(m);
        ++counter;
        if (k % 64 == 0) weft::this_thread::yield();
      }
    }));
  std::vector<std::thread> foreigners;
  for (int i = 0; i < 2; ++i)
    foreigners.emplace_back([&] {
      for (int k = 0; k < 2000; ++k) {
        std::lock_guard lk(m);
        ++counter;
      }
    });
  for (auto& f : foreigners) f.join();
  for (auto& g : greens) g.join();
  EXPECT_EQ(counter, 10 * 2000);
}

TEST_P(ForeignTest, EventsInBothDirections) {
  weft::runtime rt(opts());
  weft::event to_green, to_foreign;
  auto t = weft::spawn_in(rt, [&] {
    to_green.wait();
    to_foreign.set();
  });
  std::thread f([&] {
    to_green.set();
    to_foreign.wait();
  });
  f.join();
  t.join();
  EXPECT_TRUE(to_foreign.is_set());
}

TEST_P(ForeignTest, ForeignTimedWaitsTimeOut) {
  weft::runtime rt(opts());
  weft::mutex m;
  weft::condition_variable cv;
  weft::counting_semaphore sem(0);
  weft::event ev;
  std::thread f([&] {
    auto t0 = clk::now();
    std::unique_lock lk(m);
    EXPECT_EQ(cv.wait_for(lk, 5ms), std::cv_status::timeout);
    lk.unlock();
    EXPECT_FALSE(sem.try_acquire_for(5ms));
    EXPECT_FALSE(ev.wait_for(5ms));
    auto waited = clk::now() - t0;
    EXPECT_GE(waited, 15ms);
    EXPECT_LT(waited, 15ms + absurdly_late);
    // Held by a green thread: the foreign timed lock gives up.
  });
  f.join();
  weft::event locked, release;
  auto holder = weft::spawn_in(rt, [&] {
    std::lock_guard lk(m);
    locked.set();
    release.wait();
  });
  locked.wait();
  std::thread g([&] { EXPECT_FALSE(m.try_lock_for(3ms)); });
  g.join();
  release.set();
  holder.join();
}

TEST_P(ForeignTest, ForeignWaiterWokenByAGreenNotifier) {
  weft::runtime rt(opts());
  weft::mutex m;
  weft::condition_variable cv;
  int stage = 0;
  std::thread f([&] {
    std::unique_lock lk(m);
    for (int i = 0; i < 200; ++i) {
      cv.wait(lk, [&] { return stage % 2 == 1; });
      ++stage;
      cv.notify_all();
    }
  });
  auto g = weft::spawn_in(rt, [&] {
    std::unique_lock lk(m);
    for (int i = 0; i < 200; ++i) {
      cv.wait(lk, [&] { return stage % 2 == 0; });
      ++stage;
      cv.notify_all();
    }
  });
  f.join();
  g.join();
  EXPECT_EQ(stage, 400);
}

TEST_P(ForeignTest, SpawnAndJoinFromAForeignThread) {
  weft::runtime rt(opts());
  std::thread f([] {
    // No runtime argument: the only live runtime is used.
    std::vector<weft::thread<int>> ts;
    for (int i = 0; i < 100; ++i)
      ts.push_back(weft::spawn([i] {
        weft::this_thread::yield();
        return i * 2;
      }));
    int sum = 0;
    for (auto& t : ts) sum += t.join();
    EXPECT_EQ(sum, 99 * 100);
  });
  f.join();
}

TEST_P(ForeignTest, ManyForeignSpawnersAtOnce) {
  weft::runtime rt(opts());
  std::atomic<int> ran{0};
  std::vector<std::thread> fs;
  for (int k = 0; k < 4; ++k)
    fs.emplace_back([&] {
      for (int i = 0; i < 500 / spawn_scale_down; ++i) weft::spawn_in(rt, [&] { ran.fetch_add(1); }).detach();
    });
  for (auto& f : fs) f.join();
  rt.shutdown();  // waits for the detached threads
  EXPECT_EQ(ran.load(), 4 * (500 / spawn_scale_down));
}

// A foreign thread's wake-up is its last act; the green thread it wakes
// ends and the runtime is destroyed while the waker may still be returning
// from the wake (the enqueue's idle-worker notification). Run under ASan or
// TSan, a waker touching the freed scheduler or worker shows up here.
TEST_P(ForeignTest, RuntimeDestroyedRightAfterAForeignWakeUp) {
  for (int round = 0; round < 100; ++round) {
    auto rt = std::make_unique<weft::runtime>(opts());
    weft::event ev;
    auto t = weft::spawn_in(*rt, [&] { ev.wait(); });
    weft::thread_id id = t.id();
    std::thread waker([&] {
      while (find_info(rt->snapshot(), id)->state != weft::thread_state::blocked) std::this_thread::yield();
      ev.set();
    });
    t.join();
    rt.reset();
    waker.join();
  }
}

TEST_P(ForeignTest, ForeignSleepSleepsTheKernelThread) {
  auto t0 = clk::now();
  weft::this_thread::sleep_for(3ms);
  EXPECT_GE(clk::now() - t0, 3ms);
}

}  // namespace
