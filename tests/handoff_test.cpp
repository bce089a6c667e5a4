// Hand-off (options::handoff_threshold, core/monitor.hpp): a worker whose
// green thread sits in a blocking call weft does not own gives its ready
// threads to a spare worker, so with one worker the others still run. Each
// test blocks the only worker in a plain call that only a thread which
// needs the hand-off to run can end: without it, the watchdog ends the call
// after a minute and the test fails instead of hanging.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "test_support.hpp"
#include "weft/weft.hpp"

using namespace std::chrono_literals;
using weft_test::eventually;

namespace {

weft::options one_worker() {
  weft::options o;
  o.workers = 1;
  o.handoff_threshold = 20ms;
  return o;
}

struct pipe_pair {
  int fd[2] = {-1, -1};
  pipe_pair() { EXPECT_EQ(::pipe2(fd, O_CLOEXEC), 0); }
  ~pipe_pair() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  void release() const {
    char c = 'x';
    EXPECT_EQ(::write(fd[1], &c, 1), 1);
  }
};

// Ends a blocked call by itself if `done` does not come within a minute, so a
// broken hand-off fails the test rather than hanging it.
class watchdog {
 public:
  template <class Release>
  watchdog(std::atomic<bool>& done, Release release)
      : thread_([this, &done, release] {
          if (!eventually([&] { return done.load() || stop_.load(); }, 60s)) fired_ = true;
          release();
        }) {}
  ~watchdog() {
    stop_ = true;
    thread_.join();
  }
  bool fired() const { return fired_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

}  // namespace

TEST(Handoff, OptionsAreChecked) {
  weft::options o;
  o.workers = 1;
  o.handoff_threshold = -1ms;
  EXPECT_WEFT_ERROR(weft::runtime{o}, weft::errc::invalid_argument);
  o.handoff_threshold = 10ms;
  o.max_spare_workers = 1025;
  EXPECT_WEFT_ERROR(weft::runtime{o}, weft::errc::invalid_argument);
  o.max_spare_workers = 0;
  o.handoff_threshold = 0ms;
  weft::runtime rt(o);
  EXPECT_EQ(rt.workers(), 1u);
}

TEST(Handoff, SleepingLoopDoesNotHoldTheOnlyWorker) {
  std::atomic<bool> released{false};
  std::atomic<bool> other_ran{false};
  weft::runtime rt(one_worker());
  {
    watchdog dog(other_ran, [&] { released = true; });
    weft::spawn_in(rt, [&] {
      // ::usleep, not weft's sleep: the worker's kernel thread sleeps.
      auto sleeper = weft::spawn([&] {
        while (!released.load()) ::usleep(1000);
      });
      weft::this_thread::yield();  // the sleeper takes the worker
      auto other = weft::spawn([&] {
        other_ran = true;
        released = true;
      });
      other.join();
      sleeper.join();
    }).join();
    EXPECT_FALSE(dog.fired()) << "the other thread never ran while the worker slept";
  }
  EXPECT_TRUE(other_ran.load());
  EXPECT_GE(rt.stats().handoffs, 1u);
  EXPECT_EQ(rt.workers(), 1u);
}

TEST(Handoff, BlockingReadDoesNotHoldTheOnlyWorkerAndTheReadCompletes) {
  pipe_pair p;
  std::atomic<bool> other_ran{false};
  ssize_t got = 0;
  char byte = 0;
  weft::runtime rt(one_worker());
  {
    watchdog dog(other_ran, [&] { p.release(); });
    weft::spawn_in(rt, [&] {
      auto reader = weft::spawn([&] {
        got = ::read(p.fd[0], &byte, 1);
        // Back from the call on a worker that was handed off: weft still works here.
        weft::this_thread::yield();
        weft::this_thread::sleep_for(1ms);
      });
      weft::this_thread::yield();
      auto other = weft::spawn([&] { other_ran = true; });
      other.join();
      reader.join();
    }).join();
    EXPECT_FALSE(dog.fired()) << "the other thread never ran while the worker was in read()";
  }
  EXPECT_EQ(got, 1);
  EXPECT_EQ(byte, 'x');
  EXPECT_GE(rt.stats().handoffs, 1u);
}

TEST(Handoff, StdMutexHeldElsewhereDoesNotHoldTheOnlyWorker) {
  std::mutex m;
  m.lock();  // held by this (foreign) thread until the other green thread ran
  std::atomic<bool> other_ran{false};
  std::atomic<bool> unlocked{false};
  auto unlock = [&] {
    if (!unlocked.exchange(true)) m.unlock();
  };
  {
    // Unlocking from the watchdog's thread would be undefined: wait here.
    std::thread runner([&] {
      weft::run(one_worker(), [&] {
        auto locker = weft::spawn([&] {
          std::lock_guard lk(m);
        });
        weft::this_thread::yield();
        auto other = weft::spawn([&] { other_ran = true; });
        other.join();
        locker.join();
      });
    });
    bool ran = eventually([&] { return other_ran.load(); }, 60s);
    unlock();
    runner.join();
    EXPECT_TRUE(ran) << "the other thread never ran while the worker waited for the mutex";
  }
}

TEST(Handoff, ManyThreadsRunExactlyOnceWhileTwoWorkersAreStuck) {
  pipe_pair a, b;
  std::atomic<bool> all_done{false};
  std::atomic<int> runs{0};
  constexpr int n = 1000 / weft_test::spawn_scale_down;
  weft::runtime rt(one_worker());
  {
    watchdog dog(all_done, [&] {
      a.release();
      b.release();
    });
    weft::spawn_in(rt, [&] {
      char c;
      auto r1 = weft::spawn([&] { EXPECT_EQ(::read(a.fd[0], &c, 1), 1); });
      weft::this_thread::yield();
      auto r2 = weft::spawn([&] { EXPECT_EQ(::read(b.fd[0], &c, 1), 1); });
      weft::this_thread::yield();
      std::vector<weft::thread<void>> ts;
      for (int i = 0; i < n; ++i) ts.push_back(weft::spawn([&] { runs.fetch_add(1); }));
      for (auto& t : ts) t.join();
      all_done = true;
      r1.join();
      r2.join();
    }).join();
    EXPECT_FALSE(dog.fired()) << runs.load() << " of " << n << " ran";
  }
  EXPECT_EQ(runs.load(), n);
  EXPECT_GE(rt.stats().handoffs, 1u);
  EXPECT_LE(rt.stats().workers.size(), 1u + 8u);
}

TEST(Handoff, WithoutSparesTheWorkerWaitsForTheCall) {
  pipe_pair p;
  weft::options o = one_worker();
  o.max_spare_workers = 0;
  std::atomic<bool> other_ran{false};
  std::atomic<bool> reading{false};
  weft::runtime rt(o);
  std::thread releaser([&] {
    eventually([&] { return reading.load(); }, 60s);
    // Longer than the threshold: a hand-off would have happened by now.
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(other_ran.load());
    p.release();
  });
  weft::spawn_in(rt, [&] {
    char c;
    auto reader = weft::spawn([&] {
      reading = true;
      EXPECT_EQ(::read(p.fd[0], &c, 1), 1);
    });
    weft::this_thread::yield();
    auto other = weft::spawn([&] { other_ran = true; });
    other.join();
    reader.join();
  }).join();
  releaser.join();
  EXPECT_TRUE(other_ran.load());
  EXPECT_EQ(rt.stats().handoffs, 0u);
  EXPECT_EQ(rt.stats().workers.size(), 1u);
}
