// The promise of the I/O layer: a green thread waiting on I/O, or in
// weft::blocking, never holds its worker. With one worker, other threads
// keep running -- a ticking thread finishes its ticks while a thousand
// others wait on sockets, which also overfills one io_uring SQ several
// times (256 entries) before anything completes.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <unistd.h>

#include "io_test_support.hpp"

using namespace std::chrono_literals;
using weft_io_test::IoEngine;
namespace io = weft::io;

namespace {

class IoWorker : public IoEngine {};
WEFT_IO_ENGINES(IoWorker);

TEST_P(IoWorker, TickerKeepsRunningWhileAThousandThreadsWaitOnSockets) {
  static constexpr int waiters = 1000;
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [] {
    std::vector<std::pair<io::socket, io::socket>> pairs;
    for (int i = 0; i < waiters; ++i) pairs.push_back(io::socket::pair());
    std::atomic<int> started{0}, finished{0};
    std::vector<weft::thread<void>> readers;
    for (int i = 0; i < waiters; ++i)
      readers.push_back(weft::spawn([&, i] {
        ++started;
        char buf[4];
        EXPECT_EQ(pairs[i].second.read_exact(buf, 4), 4u);
        ++finished;
      }));
    while (started < waiters) weft::this_thread::yield();
    // One worker, a thousand threads inside read(): if any of them held the
    // worker in a syscall, this loop could not run at all.
    int ticks = 0;
    for (; ticks < 100; ++ticks) {
      weft::this_thread::sleep_for(100us);
      weft::this_thread::yield();
    }
    EXPECT_EQ(ticks, 100);
    EXPECT_EQ(finished.load(), 0);  // all still waiting: nothing was sent
    for (auto& p : pairs) p.first.write_all("ping", 4);
    for (auto& t : readers) t.join();
    EXPECT_EQ(finished.load(), waiters);
  }).join();
}

// A thread whose every call succeeds at once (epoll: no call ever returns
// EAGAIN, so it never parks) must still let its worker poll for the other
// connections, fire timers and run its other threads: the worker's
// cooperative budget makes it yield every few hundred such calls.
TEST_P(IoWorker, ThreadWhoseCallsNeverBlockLetsItsWorkerPollAndRunOthers) {
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [] {
    auto quiet = io::socket::pair();
    std::atomic<bool> read_done{false}, slept{false}, ran{false}, flooding{false};
    auto reader = weft::spawn([&] {
      char c = 0;
      EXPECT_EQ(quiet.second.read(&c, 1), 1u);
      EXPECT_EQ(c, 'q');
      read_done = true;
    });
    // Parked in the engine: only a poll of this worker can wake it now.
    ASSERT_TRUE(weft_test::blocked_on(reader.id(), weft::wait_reason::io));
    auto flood = io::socket::pair();
    auto flooder = weft::spawn([&] {
      auto give_up = std::chrono::steady_clock::now() + weft_test::absurdly_late;
      long calls = 0;
      char c = 'f';
      while (!(read_done && slept && ran) && std::chrono::steady_clock::now() < give_up) {
        EXPECT_EQ(flood.first.write(&c, 1), 1u);
        EXPECT_EQ(flood.second.read(&c, 1), 1u);
        if (++calls == 2) flooding = true;  // past the first, registering attempts
      }
      return calls;
    });
    auto sleeper = weft::spawn([&] {
      weft::this_thread::sleep_for(1ms);
      slept = true;
    });
    auto other = weft::spawn([&] { ran = true; });
    // The data arrives while the flooder owns the worker.
    std::thread writer([&] {
      while (!flooding) std::this_thread::yield();
      char c = 'q';
      ASSERT_EQ(::write(quiet.first.fd(), &c, 1), 1);
    });
    long calls = flooder.join();
    writer.join();
    EXPECT_TRUE(read_done);
    EXPECT_TRUE(slept);
    EXPECT_TRUE(ran);
    EXPECT_GT(calls, 2);
    reader.join();
    sleeper.join();
    other.join();
  }).join();
}

TEST_P(IoWorker, BlockingCallDoesNotStallItsWorker) {
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [] {
    std::atomic<bool> release{false};
    std::atomic<int> ticks{0};
    auto blocked = weft::spawn([&] {
      // A call that blocks its kernel thread until told otherwise.
      return weft::blocking([&] {
        while (!release.load()) std::this_thread::sleep_for(1ms);
        return 42;
      });
    });
    auto ticker = weft::spawn([&] {
      for (int i = 0; i < 50; ++i) {
        ++ticks;
        weft::this_thread::sleep_for(100us);
      }
    });
    ticker.join();  // finishes on the one worker while `blocked` waits
    EXPECT_EQ(ticks.load(), 50);
    release = true;
    EXPECT_EQ(blocked.join(), 42);
  }).join();
}

TEST_P(IoWorker, SleepRunsOnTheEngineTimers) {
  // Many sleepers on one worker: the idle worker sleeps in its engine with
  // the earliest deadline and wakes for each.
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [] {
    std::vector<weft::thread<void>> ts;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i)
      ts.push_back(weft::spawn([i] { weft::this_thread::sleep_for(std::chrono::microseconds(100 * (i % 20))); }));
    for (auto& t : ts) t.join();
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1900us);
  }).join();
}

}  // namespace
