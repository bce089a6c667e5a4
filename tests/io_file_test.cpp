// Files on both engines (ring operations on io_uring, the offload pool on
// epoll): write, read at offsets and at the position, fsync, size, errors;
// deadlines and cancel()/close() on a FIFO opened as a file (a read that
// really blocks), on an open that waits for a FIFO's writer, and on regular
// files with a deadline already past. io_file_offload_test.cpp has the
// epoll engine's withdrawal of queued offload calls.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "io_test_support.hpp"

using namespace std::chrono_literals;
using weft_io_test::errno_error_of;
using weft_io_test::IoEngine;
using weft_io_test::temp_fifo;
using weft_io_test::temp_path;
using weft_io_test::weft_error_of;
namespace io = weft::io;

namespace {

class IoFile : public IoEngine {};
WEFT_IO_ENGINES(IoFile);

TEST_P(IoFile, WriteReadFsyncSize) {
  std::string path = temp_path();
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [&] {
    {
      io::file f = io::file::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      std::string text = "hello, file";
      f.write_all_at(text.data(), text.size(), 0);
      f.write_all_at("!", 1, text.size());
      f.fsync();
      f.fdatasync();
      EXPECT_EQ(f.size(), text.size() + 1);
    }
    io::file f = io::file::open(path);
    char buf[64];
    EXPECT_EQ(f.read_at(buf, 10, 7), 5u);  // short at end of file
    EXPECT_EQ(std::string(buf, 5), "file!");
    EXPECT_EQ(f.read(buf, 5), 5u);  // at the position, which read_at left alone
    EXPECT_EQ(std::string(buf, 5), "hello");
    EXPECT_EQ(f.read(buf, sizeof buf), 7u);
    EXPECT_EQ(f.read(buf, sizeof buf), 0u);
    f.close();
    EXPECT_THROW(f.read(buf, 1), weft::error);
  }).join();
  ::unlink(path.c_str());
}

TEST_P(IoFile, ManyThreadsWriteDisjointBlocks) {
  std::string path = temp_path();
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [&] {
    io::file f = io::file::open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 64; ++i)
      ts.push_back(weft::spawn([&f, i] {
        std::string block(512, static_cast<char>('A' + i % 26));
        f.write_all_at(block.data(), block.size(), static_cast<std::uint64_t>(i) * 512);
      }));
    for (auto& t : ts) t.join();
    std::vector<char> all(64 * 512);
    ASSERT_EQ(f.read_at(all.data(), all.size(), 0), all.size());
    for (int i = 0; i < 64; ++i) EXPECT_EQ(all[static_cast<std::size_t>(i) * 512 + 100], 'A' + i % 26);
  }).join();
  ::unlink(path.c_str());
}

TEST_P(IoFile, OpenMissingFileIsEnoent) {
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [] {
    try {
      io::file::open("/nonexistent/weft/file");
      ADD_FAILURE() << "opened a missing file";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory) << e.what();
    }
    EXPECT_THROW(io::file::open(""), weft::error);
  }).join();
}

TEST_P(IoFile, FifoReadTimesOutAndTheFileStaysUsable) {
  temp_fifo fifo;
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [&] {
    // O_RDWR: a FIFO open that waits for no other end; reads block while it is empty.
    io::file f = io::file::open(fifo.path, O_RDWR);
    char buf[8];
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(weft_error_of([&] { f.read(buf, sizeof buf, 20ms); }), weft::errc::timed_out);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
    f.write("abc", 3, weft_test::absurdly_late);
    EXPECT_EQ(f.read(buf, sizeof buf, weft_test::absurdly_late), 3u);
    EXPECT_EQ(std::string(buf, 3), "abc");
  }).join();
}

// Whether this kernel (or emulator: qemu-user lacks openat2) can try an
// open or a read without blocking; where it cannot, a past deadline has no
// way to try once and must time out.
bool kernel_opens_cached(const std::string& path) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_CACHED;
  long fd = ::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how);
  if (fd >= 0) ::close(static_cast<int>(fd));
  return fd >= 0;
}
bool kernel_reads_nowait(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  char c;
  iovec one{&c, 1};
  ssize_t n = ::preadv2(fd, &one, 1, 0, RWF_NOWAIT);
  ::close(fd);
  return n == 1;
}

TEST_P(IoFile, DeadlineAlreadyPastTriesOnce) {
  std::string path = temp_path();
  temp_fifo fifo;
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [&] {
    auto past = std::chrono::steady_clock::now() - 1s;
    {
      io::file w = io::file::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      w.write_all_at("cached", 6, 0);
    }
    // Just written, so in the page cache: served without waiting.
    char buf[8];
    if (kernel_opens_cached(path)) {
      io::file f = io::file::open(path, O_RDONLY, past);
      if (kernel_reads_nowait(path)) {
        EXPECT_EQ(f.read_at(buf, sizeof buf, 0, past), 6u);
        EXPECT_EQ(std::string(buf, 6), "cached");
      } else {
        EXPECT_EQ(weft_error_of([&] { f.read_at(buf, sizeof buf, 0, past); }), weft::errc::timed_out);
      }
    } else {
      EXPECT_EQ(weft_error_of([&] { io::file::open(path, O_RDONLY, past); }), weft::errc::timed_out);
    }
    // An empty FIFO would have to wait: the one try times out.
    io::file q = io::file::open(fifo.path, O_RDWR);
    EXPECT_EQ(weft_error_of([&] { q.read(buf, sizeof buf, past); }), weft::errc::timed_out);
    EXPECT_EQ(weft_error_of([&] { q.read(buf, sizeof buf, std::chrono::steady_clock::now()); }),
              weft::errc::timed_out);
  }).join();
  ::unlink(path.c_str());
}

TEST_P(IoFile, NegativeTimeoutIsInvalidArgument) {
  std::string path = temp_path();
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [&] {
    io::file f = io::file::open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    char buf[1];
    try {
      f.read_at(buf, 1, 0, -1ms);
      ADD_FAILURE() << "a negative timeout was accepted";
    } catch (const weft::error& e) {
      EXPECT_EQ(e.code(), weft::errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("negative timeout"), std::string::npos) << e.what();
    }
    EXPECT_EQ(weft_error_of([&] { f.fsync(-5s); }), weft::errc::invalid_argument);
    EXPECT_EQ(weft_error_of([&] { io::file::open(path, O_RDONLY, -1ns); }), weft::errc::invalid_argument);
  }).join();
  ::unlink(path.c_str());
}

TEST_P(IoFile, CancelAndCloseWhileParkedOnAFifo) {
  temp_fifo fifo;
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [&] {
    io::file f = io::file::open(fifo.path, O_RDWR);
    std::atomic<bool> first_ended{false};
    auto reader = weft::spawn([&] {
      char buf[8];
      EXPECT_EQ(errno_error_of([&] { f.read(buf, sizeof buf); }), std::errc::operation_canceled);
      first_ended = true;
      // cancel() ended only the wait of its moment: this one gets data.
      return f.read(buf, sizeof buf, weft_test::absurdly_late);
    });
    ASSERT_TRUE(weft_test::blocked_on(reader.id(), weft::wait_reason::io));
    f.cancel();
    // Data written before the cancel took effect could complete the first read.
    ASSERT_TRUE(weft_test::eventually([&] { return first_ended.load(); }));
    f.write("after", 5);
    EXPECT_EQ(reader.join(), 5u);

    auto closed = weft::spawn([&] {
      char buf[8];
      return weft_error_of([&] { f.read(buf, sizeof buf); });
    });
    ASSERT_TRUE(weft_test::blocked_on(closed.id(), weft::wait_reason::io));
    f.close();
    EXPECT_EQ(closed.join(), weft::errc::closed);
  }).join();
}

// open(O_RDONLY) of a FIFO waits in the kernel for a writer. The epoll
// engine opens on a pool thread, which cannot be interrupted: the call
// outlives its deadline and returns the file once the writer comes (see
// file.hpp). io_uring first tries the open without blocking, which current
// kernels let succeed for a FIFO (no waiting at all); where it has to wait
// in io_uring's worker, the deadline cancels it: either way it returns
// without a writer.
TEST_P(IoFile, OpenWaitingForAFifoWriter) {
  temp_fifo fifo;
  weft::runtime rt(opts(2));
  // On epoll the open runs on the offload pool. A call still queued when its
  // deadline passes is withdrawn (timed_out, io.md); one a pool thread has
  // started waits past it for the writer. On a busy machine the pool thread
  // may start after the deadline, so a withdrawn call is retried with twice
  // the time until one starts: what is checked is the started case.
  for (auto deadline = 30ms;; deadline *= 2) {
    std::atomic<int> result{-2};
    auto opener = weft::spawn_in(rt, [&, deadline]() -> int {
      int r;
      try {
        io::file f = io::file::open(fifo.path, O_RDONLY, deadline);
        r = f.is_open() ? 1 : -1;
      } catch (const weft::error& e) {
        EXPECT_EQ(e.code(), weft::errc::timed_out) << e.what();
        r = 0;
      }
      result = r;
      return r;
    });
    if (GetParam() == weft::io_engine::io_uring) {
      EXPECT_NE(opener.join(), -1);
      return;
    }
    std::this_thread::sleep_for(2 * deadline);  // past the deadline, a started open still waits
    // A writer can open without blocking only once a reader waits (ENXIO before).
    int w = -1;
    ASSERT_TRUE(weft_test::eventually([&] {
      w = ::open(fifo.path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      return w >= 0 || errno != ENXIO || result.load() == 0;
    }));
    if (w < 0 && result.load() == 0) {
      EXPECT_EQ(opener.join(), 0);
      ASSERT_LT(deadline, weft_test::absurdly_late) << "the pool never started the open";
      continue;
    }
    EXPECT_GE(w, 0) << "no reader was waiting: " << std::strerror(errno);
    EXPECT_EQ(opener.join(), 1);
    ::close(w);
    return;
  }
}

}  // namespace
