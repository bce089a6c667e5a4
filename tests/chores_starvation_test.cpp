// The periodic chores (due timers, I/O completions) must run even when a
// worker never runs out of ready threads and never yields: two threads that
// hand a value back and forth over channels only ever park, and a parking
// thread may not run the chores itself (its own timer or completion could
// ready it before it is parked). Before the fix, a sleeper or a reader on
// the same worker waited for ever behind such a pair.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "io_test_support.hpp"
#include "test_support.hpp"
#include "weft/weft.hpp"

using namespace std::chrono_literals;

namespace {

using ChoresStarvation = weft_io_test::IoEngine;

// Ends a starved ping-pong instead of letting the test hang: after
// absurdly_late it sets stop itself and records that it had to.
class watchdog {
 public:
  explicit watchdog(std::atomic<bool>& stop)
      : thread_([this, &stop] {
          std::unique_lock lk(mu_);
          if (!cv_.wait_for(lk, weft_test::absurdly_late, [&] { return done_; })) {
            fired_ = true;
            stop.store(true);
          }
        }) {}
  // Stops the watchdog; true if it had to end the ping-pong.
  bool fired() {
    {
      std::lock_guard lk(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

// Two threads hand a token back and forth, parking at every step, until stop.
void ping_pong_until(const std::atomic<bool>& stop, long& rounds) {
  weft::channel<int> a, b;
  auto ponger = weft::spawn([&] {
    while (auto v = b.recv()) {
      if (!a.send(*v)) break;
    }
  });
  while (!stop.load(std::memory_order_relaxed)) {
    ASSERT_TRUE(b.send(1));
    ASSERT_TRUE(a.recv());
    ++rounds;
  }
  b.close();
  ponger.join();
}

TEST_P(ChoresStarvation, SleeperWakesBehindAParkingPingPong) {
  long rounds = 0;
  bool starved = false;
  weft::run(opts(1), [&] {
    std::atomic<bool> stop{false};
    watchdog dog(stop);
    auto sleeper = weft::spawn([&] {
      weft::this_thread::sleep_for(1ms);
      stop.store(true);
    });
    ping_pong_until(stop, rounds);
    starved = dog.fired();
    sleeper.join();
  });
  EXPECT_FALSE(starved) << "the sleeper did not wake while the ping-pong ran";
  EXPECT_GT(rounds, 0);
}

TEST_P(ChoresStarvation, ReaderGetsItsBytesBehindAParkingPingPong) {
  long rounds = 0;
  bool starved = false;
  weft::run(opts(1), [&] {
    std::atomic<bool> stop{false};
    watchdog dog(stop);
    auto [r, w] = weft::io::socket::pair();
    std::atomic<bool> reading{false};
    auto reader = weft::spawn([&] {
      char c = 0;
      reading.store(true);
      EXPECT_EQ(r.read(&c, 1), 1u);
      EXPECT_EQ(c, 'x');
      stop.store(true);
    });
    // A foreign thread writes once the reader is about to wait.
    int wfd = w.fd();
    std::thread writer([&] {
      while (!reading.load()) std::this_thread::yield();
      char c = 'x';
      EXPECT_EQ(::write(wfd, &c, 1), 1);
    });
    ping_pong_until(stop, rounds);
    starved = dog.fired();
    reader.join();
    writer.join();
  });
  EXPECT_FALSE(starved) << "the reader did not get its byte while the ping-pong ran";
  EXPECT_GT(rounds, 0);
}

WEFT_IO_ENGINES(ChoresStarvation);

}  // namespace
