// weft::blocking: values, references and exceptions come back; foreign
// threads run inline; a full offload pool holds callers back instead of
// failing, and they all finish once it drains.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "io_test_support.hpp"

using namespace std::chrono_literals;

namespace {

TEST(IoBlocking, ReturnsValuesReferencesAndExceptions) {
  weft::runtime rt({.workers = 2});
  weft::spawn_in(rt, [] {
    EXPECT_EQ(weft::blocking([] { return std::string("value"); }), "value");
    int x = 1;
    int& r = weft::blocking([&x]() -> int& { return x; });
    EXPECT_EQ(&r, &x);
    bool ran = false;
    weft::blocking([&ran] { ran = true; });
    EXPECT_TRUE(ran);
    EXPECT_THROW(weft::blocking([]() -> int { throw std::runtime_error("from the pool"); }), std::runtime_error);
    // The call really ran on another kernel thread.
    auto caller = std::this_thread::get_id();
    EXPECT_NE(weft::blocking([] { return std::this_thread::get_id(); }), caller);
  }).join();
}

TEST(IoBlocking, ForeignThreadRunsInline) {
  auto me = std::this_thread::get_id();
  EXPECT_EQ(weft::blocking([] { return std::this_thread::get_id(); }), me);
}

TEST(IoBlocking, FullPoolHoldsCallersBackUntilItDrains) {
  weft::blocking_limits saved = weft::get_blocking_limits();
  weft::set_blocking_limits({.max_threads = 2, .max_queued = 2});
  weft::runtime rt({.workers = 1});
  weft::spawn_in(rt, [] {
    // Idle threads left by earlier tests (in this process, e.g. under
    // --gtest_repeat) take calls too, beyond max_threads.
    unsigned running = std::max(2u, weft::get_blocking_stats().threads);
    int total = static_cast<int>(running) + 6;
    std::atomic<bool> release{false};
    std::atomic<int> done{0};
    std::vector<weft::thread<void>> callers;
    for (int i = 0; i < total; ++i)
      callers.push_back(weft::spawn([&] {
        weft::blocking([&] {
          while (!release.load()) std::this_thread::sleep_for(1ms);
        });
        ++done;
      }));
    // However many threads there are (a leftover one may stop before it took
    // a call, so not exactly the count above; never more, the pool is at
    // its cap), every one runs a call, the queue
    // (2) is full and the other callers are held back -- and this thread
    // still runs.
    weft::blocking_stats s{};
    bool full = weft_test::eventually([&] {
      s = weft::get_blocking_stats();
      return s.threads >= 2 && s.threads <= running && s.busy == s.threads && s.queued == 2 &&
             s.busy + s.queued + s.held_back == static_cast<std::size_t>(total);
    });
    EXPECT_TRUE(full) << "threads " << s.threads << ", busy " << s.busy << ", queued " << s.queued
                      << ", held back " << s.held_back << " of " << total << " callers";
    EXPECT_EQ(done.load(), 0);
    release = true;
    for (auto& t : callers) t.join();
    EXPECT_EQ(done.load(), total);
  }).join();
  weft::set_blocking_limits(saved);
}

TEST(IoBlocking, BadLimitsAreRejected) {
  EXPECT_THROW(weft::set_blocking_limits({.max_threads = 0, .max_queued = 1}), weft::error);
  EXPECT_THROW(weft::set_blocking_limits({.max_threads = 1, .max_queued = 0}), weft::error);
}

TEST(IoBlocking, ResolveLocalhost) {
  weft::runtime rt({.workers = 1});
  weft::spawn_in(rt, [] {
    auto addrs = weft::io::resolve("localhost", "80", AF_INET);
    ASSERT_FALSE(addrs.empty());
    EXPECT_EQ(addrs.front().to_string(), "127.0.0.1:80");
  }).join();
}

}  // namespace
