// Regular-file calls while the offload pool is saturated. On the epoll
// engine they wait there for a thread, and a deadline, cancel() or close()
// withdraws them before any thread runs them -- the buffer stays untouched.
// On io_uring files do not use the pool: the same calls complete at once.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <latch>
#include <memory>
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

// Holds the offload pool full: every offload thread runs one of its calls,
// each waiting for release, and exactly `queued` more of its calls wait in
// the queue; green threads make them. Restores the limits when destroyed.
//
// "Full" is established by construction, not read once from a count that
// may change: offload threads left by earlier tests can still be finishing a
// call (counted busy) or stop after idling. With max_threads = 1 no thread
// starts while one lives, so once every live thread runs a call of ours
// (started_ == threads, read in that order) the pool stays so until release.
// Calls are added one at a time, each only once the previous one runs, so
// at most one can be left in the queue by a thread that stopped meanwhile;
// if that is one more than `queued`, everything is released and the fill
// starts over.
class busy_pool {
 public:
  busy_pool(std::size_t max_queued, unsigned queued) {
    weft::set_blocking_limits({.max_threads = 1, .max_queued = max_queued});
    for (int attempt = 0;; ++attempt) {
      if (fill(queued)) return;
      release_all();
      if (attempt == 10) {
        ADD_FAILURE() << "the offload pool did not fill up";
        return;
      }
    }
  }
  ~busy_pool() {
    release_all();
    weft::set_blocking_limits(saved_);
  }
  busy_pool(const busy_pool&) = delete;
  busy_pool& operator=(const busy_pool&) = delete;

 private:
  // True when every offload thread runs a call of ours and `queued` more wait.
  bool fill(unsigned queued) {
    release_ = std::make_unique<std::latch>(1);
    unsigned spawned = 0;
    auto all_threads_ours = [&] {
      unsigned running = started_.load();  // before the stats: see above
      return running >= 1 && running == weft::get_blocking_stats().threads;
    };
    for (;;) {
      // Each call of ours runs, or is queued with no other thread to take it.
      if (!weft_test::eventually([&] { return started_.load() == spawned || all_threads_ours(); })) return false;
      if (all_threads_ours()) break;
      add_call();
      ++spawned;
    }
    unsigned stuck = spawned - started_.load();  // 0 or 1, queued for good
    if (stuck > queued) return false;
    for (unsigned i = stuck; i < queued; ++i) add_call();
    return weft_test::eventually([&] {
      weft::blocking_stats s = weft::get_blocking_stats();
      return s.queued == queued && s.held_back == 0 && s.busy == s.threads && started_.load() == s.threads;
    });
  }
  void add_call() {
    std::latch* release = release_.get();
    blockers_.push_back(weft::spawn([this, release] {
      weft::blocking([this, release] {
        started_.fetch_add(1);
        release->wait();
      });
    }));
  }
  void release_all() {
    if (release_) release_->count_down();
    for (auto& t : blockers_) t.join();
    blockers_.clear();
    started_.store(0);
  }

  weft::blocking_limits saved_ = weft::get_blocking_limits();
  std::unique_ptr<std::latch> release_;
  std::atomic<unsigned> started_{0};  // calls of ours that a thread runs
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
        // File calls do not use the pool, so they complete while it is full:
        // were they queued on it, they would time out at absurdly_late. (A
        // short deadline can expire on a loaded machine whenever io_uring
        // hands the read to its own worker threads.)
        EXPECT_EQ(f.read_at(buf, 7, 0, weft_test::absurdly_late), 7u);
        f.fsync(weft_test::absurdly_late);
      }
    }
    EXPECT_EQ(f.read_at(buf, 7, 0, weft_test::absurdly_late), 7u);  // the pool is free again
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
