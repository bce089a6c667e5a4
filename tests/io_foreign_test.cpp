// Plain kernel threads (no green thread) waiting in weft I/O calls notice
// cancel() and close() from another thread at once: they wait in ppoll on
// the descriptor and an eventfd that cancellation writes. The old design
// polled in 50 ms slices, so a cancel 5 ms into a wait took ~45 ms; the
// median bound below (25 ms over five rounds) tells the two apart without
// timing any single wake-up tightly.
#include <gtest/gtest.h>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "io_test_support.hpp"

using namespace std::chrono_literals;
using weft_io_test::errno_error_of;
using weft_io_test::temp_fifo;
using weft_io_test::weft_error_of;
namespace io = weft::io;
using clk = std::chrono::steady_clock;

namespace {

constexpr int rounds = 5;

// The median of the latencies, in milliseconds.
double median_ms(std::vector<clk::duration> v) {
  std::sort(v.begin(), v.end());
  return std::chrono::duration<double, std::milli>(v[v.size() / 2]).count();
}

// Runs `rounds` waits on a plain thread (wait(i) must block until ended)
// and ends each one with end(i) from this thread 5 ms after it began;
// returns how long each took to notice.
template <class Wait, class End>
std::vector<clk::duration> latencies(Wait wait, End end) {
  std::atomic<int> started{0}, finished{0};
  std::vector<clk::time_point> noticed(rounds);
  std::thread waiter([&] {
    for (int i = 0; i < rounds; ++i) {
      started = i + 1;
      wait(i);
      noticed[static_cast<std::size_t>(i)] = clk::now();
      finished = i + 1;
    }
  });
  std::vector<clk::duration> lat;
  for (int i = 0; i < rounds; ++i) {
    while (started < i + 1) std::this_thread::yield();
    std::this_thread::sleep_for(5ms);  // inside its wait by now, almost surely
    auto t0 = clk::now();
    end(i);
    // Repeated only if the waiter had not begun waiting yet (that round then counts as slow).
    for (auto retry = t0 + 200ms; finished < i + 1; std::this_thread::yield()) {
      if (clk::now() < retry) continue;
      end(i);
      retry = clk::now() + 200ms;
    }
    lat.push_back(noticed[static_cast<std::size_t>(i)] - t0);
  }
  waiter.join();
  return lat;
}

TEST(IoForeign, ReadNoticesCancelAtOnce) {
  auto [a, b] = io::socket::pair();
  auto lat = latencies(
      [&b = b](int) {
        char buf[8];
        EXPECT_EQ(errno_error_of([&] { b.read(buf, sizeof buf); }), std::errc::operation_canceled);
      },
      [&b = b](int) { b.cancel(); });
  EXPECT_LT(median_ms(lat), 25.0);
  // Still usable after the cancels.
  a.write_all("x", 1);
  char c;
  EXPECT_EQ(b.read(&c, 1, 5s), 1u);
}

TEST(IoForeign, ReadNoticesCloseAtOnce) {
  std::vector<std::pair<io::socket, io::socket>> pairs;
  for (int i = 0; i < rounds; ++i) pairs.push_back(io::socket::pair());
  auto lat = latencies(
      [&](int i) {
        char buf[8];
        EXPECT_EQ(weft_error_of([&] { pairs[static_cast<std::size_t>(i)].second.read(buf, sizeof buf); }),
                  weft::errc::closed);
      },
      [&](int i) { pairs[static_cast<std::size_t>(i)].second.close(); });
  EXPECT_LT(median_ms(lat), 25.0);
}

// A FIFO opened as an io::file waits the same way (next to a runtime, as a
// foreign thread of it).
TEST(IoForeign, FifoFileReadNoticesCancelAndClose) {
  temp_fifo fifo;
  weft::runtime rt({.workers = 1});
  io::file f = io::file::open(fifo.path, O_RDWR);
  auto lat = latencies(
      [&](int i) {
        char buf[8];
        if (i + 1 < rounds)
          EXPECT_EQ(errno_error_of([&] { f.read(buf, sizeof buf); }), std::errc::operation_canceled);
        else
          EXPECT_EQ(weft_error_of([&] { f.read(buf, sizeof buf); }), weft::errc::closed);
      },
      [&](int i) {
        if (i + 1 < rounds) f.cancel();
        else f.close();
      });
  EXPECT_LT(median_ms(lat), 25.0);
}

}  // namespace
