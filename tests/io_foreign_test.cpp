// Plain kernel threads (no green thread) waiting in weft I/O calls notice
// cancel() and close() from another thread at once: they wait in one ppoll
// on the descriptor and an eventfd that cancellation writes, with no
// timeout. The old design polled in 50 ms slices, which shows as a timeout.
// Checked by what the waiter is blocked in, not by how long a wake-up took:
// that is load, and is measured in bench/.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/syscall.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "io_test_support.hpp"

using namespace std::chrono_literals;
using weft_io_test::errno_error_of;
using weft_io_test::in_syscall;
using weft_io_test::temp_fifo;
using weft_io_test::weft_error_of;
namespace io = weft::io;

namespace {

constexpr int rounds = 5;

// Runs `rounds` waits on a plain thread (wait(i) must block until ended)
// and ends each one with end(i) from this thread once the waiter is inside
// it. Where /proc shows it, "inside" is checked directly, and so is what
// makes the wait notice at once: one ppoll(2) on the descriptor and the
// thread's wake-up eventfd, with no timeout, so nothing but end(i) can wake
// it however loaded the machine is. Seen in ppoll, the waiter is past the
// point where it took the cancel generation, so the cancel cannot be lost.
// Elsewhere end(i) is repeated until the wait ends: a cancel ends only the
// waits of its moment.
template <class Wait, class End>
void each_wait_ends(Wait wait, End end) {
  const bool visible = weft_io_test::syscalls_visible();
  std::atomic<pid_t> tid{0};
  std::atomic<int> go{-1}, finished{0};
  std::thread waiter([&] {
    tid = weft_io_test::kernel_tid();
    for (int i = 0; i < rounds; ++i) {
      // A retried end(i - 1) cannot reach round i: it is over before go moves.
      while (go.load() < i) std::this_thread::yield();
      wait(i);
      finished = i + 1;
    }
  });
  for (int i = 0; i < rounds; ++i) {
    go = i;
    if (visible) {
      std::optional<in_syscall> s;
      EXPECT_TRUE(weft_test::eventually([&] {
        s = tid.load() ? weft_io_test::blocked_syscall(tid.load()) : std::nullopt;
        return finished.load() == i && s && s->nr == SYS_ppoll;
      })) << "round " << i << ": the waiter never blocked in ppoll";
      if (s && s->nr == SYS_ppoll) {
        EXPECT_EQ(s->arg[1], 2u) << "round " << i << ": not waiting on the descriptor and its wake-up eventfd";
        EXPECT_EQ(s->arg[2], 0u) << "round " << i << ": ppoll with a timeout: the wait polls in slices";
      }
      end(i);
      EXPECT_TRUE(weft_test::eventually([&] { return finished.load() == i + 1; }))
          << "round " << i << ": the wait did not end";
    } else {
      // 50 ms is the retry period, not a bound: a wait that never ends
      // hangs here until the ctest timeout.
      do end(i);
      while (!weft_test::eventually([&] { return finished.load() == i + 1; }, 50ms));
    }
  }
  waiter.join();
}

TEST(IoForeign, ReadNoticesCancelAtOnce) {
  auto [a, b] = io::socket::pair();
  each_wait_ends(
      [&b = b](int) {
        char buf[8];
        EXPECT_EQ(errno_error_of([&] { b.read(buf, sizeof buf); }), std::errc::operation_canceled);
      },
      [&b = b](int) { b.cancel(); });
  // Still usable after the cancels.
  a.write_all("x", 1);
  char c;
  EXPECT_EQ(b.read(&c, 1, weft_test::absurdly_late), 1u);
}

TEST(IoForeign, ReadNoticesCloseAtOnce) {
  std::vector<std::pair<io::socket, io::socket>> pairs;
  for (int i = 0; i < rounds; ++i) pairs.push_back(io::socket::pair());
  each_wait_ends(
      [&](int i) {
        char buf[8];
        EXPECT_EQ(weft_error_of([&] { pairs[static_cast<std::size_t>(i)].second.read(buf, sizeof buf); }),
                  weft::errc::closed);
      },
      [&](int i) { pairs[static_cast<std::size_t>(i)].second.close(); });
}

// A FIFO opened as an io::file waits the same way (next to a runtime, as a
// foreign thread of it).
TEST(IoForeign, FifoFileReadNoticesCancelAndClose) {
  temp_fifo fifo;
  weft::runtime rt({.workers = 1});
  io::file f = io::file::open(fifo.path, O_RDWR);
  each_wait_ends(
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
}

}  // namespace
