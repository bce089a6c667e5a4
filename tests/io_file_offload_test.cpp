// Regular-file calls while the offload pool is saturated. On the epoll
// engine they wait there for a thread, and a deadline, cancel() or close()
// withdraws them before any thread runs them -- the buffer stays untouched.
// On io_uring files do not use the pool: the same calls complete at once.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <latch>
#include <string>
#include <vector>

#include "io_test_support.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using weft_io_test::errno_error_of;
using weft_io_test::IoEngine;
using weft_io_test::temp_path;
using weft_io_test::weft_error_of;
namespace io = weft::io;

namespace {

class IoFileOffload : public IoEngine {
 protected:
  bool offloaded() const { return GetParam() == weft::io_engine::epoll; }
};
WEFT_IO_ENGINES(IoFileOffload);

// Occupies every offload thread (one at most while it lives) with a call
// that waits for release, plus `queued` more calls waiting in the queue; a
// green thread makes it. Restores the limits when destroyed.
class busy_pool {
 public:
  busy_pool(std::size_t max_queued, unsigned queued) {
    weft::set_blocking_limits({.max_threads = 1, .max_queued = max_queued});
    // Threads of earlier tests may still idle: keep every one of them busy.
    unsigned running = std::max(1u, weft::get_blocking_stats().threads);
    for (unsigned i = 0; i < running + queued; ++i)
      blockers_.push_back(weft::spawn([this] { weft::blocking([this] { release_.wait(); }); }));
    bool full = weft_test::eventually([&] {
      weft::blocking_stats s = weft::get_blocking_stats();
      return s.busy >= 1 && s.busy == s.threads && s.busy + s.queued == running + queued;
    });
    EXPECT_TRUE(full) << "the offload pool did not fill up";
  }
  ~busy_pool() {
    release_.count_down();
    for (auto& t : blockers_) t.join();
    weft::set_blocking_limits(saved_);
  }
  busy_pool(const busy_pool&) = delete;
  busy_pool& operator=(const busy_pool&) = delete;

 private:
  weft::blocking_limits saved_ = weft::get_blocking_limits();
  std::latch release_{1};
  std::vector<weft::thread<void>> blockers_;
};

// A file holding "content".
io::file content_file(const std::string& path) {
  io::file f = io::file::open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  f.write_all_at("content", 7, 0);
  return f;
}

TEST_P(IoFileOffload, QueuedCallTimesOutAndNeverTouchesTheBuffer) {
  std::string path = temp_path();
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [&] {
    io::file f = content_file(path);
    char buf[8] = "xxxxxxx";
    {
      busy_pool busy(1024, 0);
      if (offloaded()) {
        auto t0 = std::chrono::steady_clock::now();
        EXPECT_EQ(weft_error_of([&] { f.read_at(buf, 7, 0, 30ms); }), weft::errc::timed_out);
        EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms);
        EXPECT_EQ(std::memcmp(buf, "xxxxxxx", 7), 0) << "the withdrawn read wrote the buffer";
        EXPECT_EQ(weft_error_of([&] { f.fsync(10ms); }), weft::errc::timed_out);
        EXPECT_EQ(weft::get_blocking_stats().queued, 0u) << "a withdrawn call stayed queued";
      } else {
        EXPECT_EQ(f.read_at(buf, 7, 0, 30ms), 7u);
        f.fsync(5s);
      }
    }
    EXPECT_EQ(f.read_at(buf, 7, 0, 5s), 7u);  // the pool is free again
    EXPECT_EQ(std::string(buf, 7), "content");
  }).join();
  ::unlink(path.c_str());
}

TEST_P(IoFileOffload, CancelAndCloseWithdrawAQueuedCall) {
  if (!offloaded()) GTEST_SKIP() << "io_uring file calls do not wait for the offload pool";
  std::string path = temp_path();
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [&] {
    io::file f = content_file(path);
    busy_pool busy(1024, 0);
    std::atomic<bool> started{false};
    auto reader = weft::spawn([&] {
      char buf[8];
      started = true;
      return errno_error_of([&] { f.read_at(buf, 7, 0); });  // no deadline
    });
    while (!started) weft::this_thread::yield();
    EXPECT_TRUE(weft_test::eventually([] { return weft::get_blocking_stats().queued == 1; }));
    f.cancel();
    EXPECT_EQ(reader.join(), std::errc::operation_canceled);

    auto closed = weft::spawn([&] {
      char buf[8];
      return weft_error_of([&] { f.read_at(buf, 7, 0); });
    });
    EXPECT_TRUE(weft_test::eventually([] { return weft::get_blocking_stats().queued == 1; }));
    f.close();  // returns once the call left
    EXPECT_EQ(closed.join(), weft::errc::closed);
    EXPECT_EQ(weft::get_blocking_stats().queued, 0u);
  }).join();
  ::unlink(path.c_str());
}

TEST_P(IoFileOffload, HeldBackCallTimesOutOrIsCancelled) {
  if (!offloaded()) GTEST_SKIP() << "io_uring file calls do not wait for the offload pool";
  std::string path = temp_path();
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [&] {
    io::file f = content_file(path);
    busy_pool busy(1, 1);  // the thread busy and the one queue slot taken
    char buf[8];
    EXPECT_EQ(weft_error_of([&] { f.read_at(buf, 7, 0, 20ms); }), weft::errc::timed_out);
    auto reader = weft::spawn([&] {
      char b[8];
      return errno_error_of([&] { f.read_at(b, 7, 0); });
    });
    EXPECT_TRUE(weft_test::eventually([] { return weft::get_blocking_stats().held_back == 1; }));
    f.cancel();
    EXPECT_EQ(reader.join(), std::errc::operation_canceled);
    EXPECT_EQ(weft::get_blocking_stats().held_back, 0u);
  }).join();
  ::unlink(path.c_str());
}

}  // namespace
