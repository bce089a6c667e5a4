// Waits that end early: deadlines on accept/read/connect, cancel() and
// close() from another thread while a green thread is parked, bad
// descriptors, and running out of descriptors (EMFILE) at accept.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "io_test_support.hpp"

using namespace std::chrono_literals;
using weft_io_test::IoEngine;
namespace io = weft::io;
using io::address;

namespace {

class IoCancel : public IoEngine {};
WEFT_IO_ENGINES(IoCancel);

using weft_io_test::weft_error_of;

TEST_P(IoCancel, AcceptTimesOut) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    io::socket l = io::socket::listen(address::loopback(0));
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(weft_error_of([&] { l.accept(20ms); }), weft::errc::timed_out);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
    // The listener still works after a timed-out accept.
    io::socket c = io::socket::connect(l.local_address());
    io::socket s = l.accept(weft_test::absurdly_late);
    EXPECT_TRUE(s.is_open());
  }).join();
}

TEST_P(IoCancel, ReadTimesOutAndKeepsTheSocketUsable) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    auto [a, b] = io::socket::pair();
    char buf[8];
    EXPECT_EQ(weft_error_of([&] { b.read(buf, sizeof buf, 10ms); }), weft::errc::timed_out);
    // An absolute deadline in the past still tries once.
    a.write_all("x", 1);
    EXPECT_EQ(b.read(buf, sizeof buf, std::chrono::steady_clock::now() - 1s), 1u);
    EXPECT_EQ(weft_error_of([&] { b.read(buf, sizeof buf, std::chrono::steady_clock::now()); }),
              weft::errc::timed_out);
    a.write_all("yz", 2);
    EXPECT_EQ(b.read(buf, sizeof buf, weft_test::absurdly_late), 2u);
  }).join();
}

TEST_P(IoCancel, ConnectTimesOut) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    // A listener that never accepts, with a backlog of 1: once its accept
    // queue is full the kernel drops further SYNs and connects hang.
    io::socket l = io::socket::listen(address::loopback(0), {.backlog = 1});
    std::vector<io::socket> held;
    bool timed_out = false;
    for (int i = 0; i < 16 && !timed_out; ++i) {
      try {
        held.push_back(io::socket::connect(l.local_address(), 50ms));
      } catch (const weft::error& e) {
        EXPECT_EQ(e.code(), weft::errc::timed_out) << e.what();
        timed_out = true;
      }
    }
    EXPECT_TRUE(timed_out);
  }).join();
}

TEST_P(IoCancel, NegativeTimeoutIsInvalidArgument) {
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [] {
    auto [a, b] = io::socket::pair();
    char buf[1];
    EXPECT_EQ(weft_error_of([&] { b.read(buf, 1, -1ms); }), weft::errc::invalid_argument);
  }).join();
}

TEST_P(IoCancel, CancelWhileParked) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    auto [a, b] = io::socket::pair();
    std::atomic<bool> first_ended{false};
    auto reader = weft::spawn([&b, &first_ended] {
      char buf[8];
      try {
        b.read(buf, sizeof buf);
        ADD_FAILURE() << "read returned after cancel()";
      } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::operation_canceled) << e.what();
      }
      first_ended = true;
      // cancel() ends only the waits of its moment: this read gets data.
      return b.read(buf, sizeof buf, weft_test::absurdly_late);
    });
    ASSERT_TRUE(weft_test::blocked_on(reader.id(), weft::wait_reason::io));
    b.cancel();
    // Data written before the cancel took effect could complete the first read.
    ASSERT_TRUE(weft_test::eventually([&] { return first_ended.load(); }));
    a.write_all("after", 5);
    EXPECT_EQ(reader.join(), 5u);
  }).join();
}

TEST_P(IoCancel, CloseWhileAnotherThreadWaits) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    io::socket l = io::socket::listen(address::loopback(0));
    auto [a, b] = io::socket::pair();
    auto acceptor = weft::spawn([&] { return weft_error_of([&] { l.accept(); }); });
    auto reader = weft::spawn([&] {
      char buf[8];
      return weft_error_of([&] { b.read(buf, sizeof buf); });
    });
    ASSERT_TRUE(weft_test::blocked_on(acceptor.id(), weft::wait_reason::io));
    ASSERT_TRUE(weft_test::blocked_on(reader.id(), weft::wait_reason::io));
    l.close();
    b.close();
    EXPECT_EQ(l.fd(), -1);
    EXPECT_FALSE(b.is_open());
    EXPECT_EQ(acceptor.join(), weft::errc::closed);
    EXPECT_EQ(reader.join(), weft::errc::closed);
    // Calls after close fail the same way; close is idempotent.
    char buf[1];
    EXPECT_EQ(weft_error_of([&] { b.read(buf, 1); }), weft::errc::closed);
    b.close();
  }).join();
}

TEST_P(IoCancel, CloseFromForeignThreadWhileGreenThreadWaits) {
  weft::runtime rt(opts(2));
  auto [a, b] = io::socket::pair();
  auto reader = weft::spawn_in(rt, [&] {
    char buf[8];
    return weft_error_of([&] { b.read(buf, sizeof buf); });
  });
  // The one live runtime answers the snapshot of this foreign thread. Not
  // ASSERT: the close below must come either way, or the reader never ends.
  EXPECT_TRUE(weft_test::blocked_on(reader.id(), weft::wait_reason::io));
  b.close();  // a plain kernel thread: parks on a futex until the reader has left
  EXPECT_EQ(reader.join(), weft::errc::closed);
}

TEST_P(IoCancel, ManyWaitersOnOneSocketAllEndAtClose) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    auto [a, b] = io::socket::pair();
    std::atomic<int> closed{0};
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 20; ++i)
      ts.push_back(weft::spawn([&] {
        char buf[8];
        if (weft_error_of([&] { b.read(buf, sizeof buf); }) == weft::errc::closed) ++closed;
      }));
    weft::this_thread::sleep_for(10ms);
    b.close();
    for (auto& t : ts) t.join();
    EXPECT_EQ(closed.load(), 20);
  }).join();
}

TEST_P(IoCancel, SocketOutlivesItsRuntime) {
  auto [a, b] = io::socket::pair();
  {
    weft::runtime rt(opts(2));
    weft::spawn_in(rt, [&] {
      char buf[4];
      a.write_all("ping", 4);
      EXPECT_EQ(b.read_exact(buf, 4, weft_test::absurdly_late), 4u);  // registers b with an engine (epoll) or a ring
      auto waiter = weft::spawn([&b] {
        char c;
        return b.read(&c, 1, 5ms);  // times out: leaves nothing in the kernel
      });
      EXPECT_THROW(waiter.join(), weft::error);
    }).join();
  }
  // The runtime is gone; plain kernel threads go on using the sockets.
  std::atomic<pid_t> tid{0};
  std::thread reader([&] {
    tid = weft_io_test::kernel_tid();
    char c;
    EXPECT_EQ(weft_error_of([&] { b.read(&c, 1); }), weft::errc::closed);
  });
  // Closed once the reader waits in ppoll, where /proc shows it. Elsewhere
  // the close may come first, and the read fails with `closed` just the same.
  if (weft_io_test::syscalls_visible()) {
    EXPECT_TRUE(weft_test::eventually([&] {
      auto s = tid.load() ? weft_io_test::blocked_syscall(tid.load()) : std::nullopt;
      return s && s->nr == SYS_ppoll;
    })) << "the reader never blocked in ppoll";
  }
  b.close();
  reader.join();
  EXPECT_THROW(a.write_all("x", 1), std::system_error);  // EPIPE: the peer is closed
}

TEST(IoInvalid, BadDescriptorsAreRejected) {
  EXPECT_THROW(io::socket::adopt(-1), weft::error);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_THROW(io::socket::adopt(fds[0]), weft::error);  // closed just now
  EXPECT_THROW(io::file::adopt(fds[1]), weft::error);
  io::socket empty;
  char buf[1];
  try {
    empty.read(buf, 1);
    ADD_FAILURE() << "read on an empty socket";
  } catch (const weft::error& e) {
    EXPECT_EQ(e.code(), weft::errc::closed);
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
  EXPECT_THROW(io::address::parse("127.0.0.1"), weft::error);
  EXPECT_THROW(io::address::parse("127.0.0.1:70000"), weft::error);
  EXPECT_THROW(io::address::parse("::1:80"), weft::error);
  EXPECT_EQ(io::address::parse("[::1]:80").to_string(), "[::1]:80");
  EXPECT_EQ(io::address::parse("10.1.2.3:8080").port(), 8080);
}

TEST(IoInvalid, AdoptedPipeWorksAsAStream) {
  weft::runtime rt({.workers = 1});
  weft::spawn_in(rt, [] {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    io::socket r = io::socket::adopt(fds[0]);
    io::socket w = io::socket::adopt(fds[1]);
    auto reader = weft::spawn([&r] {
      char buf[4];
      return r.read_exact(buf, 4, weft_test::absurdly_late);
    });
    weft::this_thread::sleep_for(2ms);
    w.write_all("pipe", 4);
    EXPECT_EQ(reader.join(), 4u);
  }).join();
}

// EMFILE at accept: in a child process (the limit is per process), with
// RLIMIT_NOFILE lowered so that the accepted descriptor does not fit.
void accept_under_emfile(weft::io_engine engine) {
  weft::runtime rt({.workers = 1, .io = engine});
  int code = weft::spawn_in(rt, [] {
    io::socket l = io::socket::listen(address::loopback(0));
    io::socket c1 = io::socket::connect(l.local_address());
    io::socket c2 = io::socket::connect(l.local_address());
    // Fill every remaining descriptor slot.
    rlimit lim{64, 64};
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return 10;
    std::vector<int> filler;
    for (int fd; (fd = ::dup(0)) >= 0;) filler.push_back(fd);
    if (errno != EMFILE) return 11;
    try {
      l.accept(weft_test::absurdly_late);
      return 12;
    } catch (const std::system_error& e) {
      if (e.code() != std::errc::too_many_files_open) return 13;
    }
    // Back off (free a slot) and the queued connection is still there.
    ::close(filler.back());
    filler.pop_back();
    io::socket s = l.accept(weft_test::absurdly_late);
    if (!s.is_open()) return 14;
    for (int fd : filler) ::close(fd);
    return 0;
  }).join();
  std::exit(code);
}

TEST_P(IoCancel, EmfileAtAcceptIsAnErrorNotACrash) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(accept_under_emfile(GetParam()), ::testing::ExitedWithCode(0), "");
}

}  // namespace
