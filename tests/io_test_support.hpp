// Helpers for the I/O tests: a fixture that runs each test on both engines,
// a look at the system call a plain thread is blocked in, and a loopback
// echo server.
#pragma once

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "weft/io.hpp"
#include "weft/weft.hpp"

namespace weft_io_test {

// True if this machine lets a runtime use io_uring.
inline bool uring_available() {
  static const bool ok = [] {
    try {
      weft::runtime rt({.workers = 1, .io = weft::io_engine::io_uring});
      return true;
    } catch (const weft::error&) {
      return false;
    }
  }();
  return ok;
}

// Runs a test once per I/O engine; GetParam() is the engine.
class IoEngine : public ::testing::TestWithParam<weft::io_engine> {
 protected:
  weft::options opts(unsigned workers = 2) const {
    weft::options o;
    o.workers = workers;
    o.io = GetParam();
    return o;
  }
  void SetUp() override {
    if (GetParam() == weft::io_engine::io_uring && !uring_available())
      GTEST_SKIP() << "io_uring is refused on this machine";
  }
};

inline std::string engine_name(const ::testing::TestParamInfo<weft::io_engine>& info) {
  return info.param == weft::io_engine::io_uring ? "io_uring" : "epoll";
}

#define WEFT_IO_ENGINES(suite)                                                                                   \
  INSTANTIATE_TEST_SUITE_P(Engines, suite, ::testing::Values(weft::io_engine::io_uring, weft::io_engine::epoll), \
                           ::weft_io_test::engine_name)

// A path in the test temp directory unique to this process and test
// ("Case/io_uring" -> "Case_io_uring"), plus a tag.
inline std::string temp_path(const std::string& tag = "") {
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::replace(name.begin(), name.end(), '/', '_');
  return ::testing::TempDir() + "weft_io_" + std::to_string(::getpid()) + "_" + name + tag;
}

// A FIFO in the temp directory, removed when this goes out of scope.
struct temp_fifo {
  std::string path = temp_path(".fifo");
  temp_fifo() {
    ::unlink(path.c_str());
    if (::mkfifo(path.c_str(), 0600) != 0) ADD_FAILURE() << "mkfifo " << path;
  }
  ~temp_fifo() { ::unlink(path.c_str()); }
  temp_fifo(const temp_fifo&) = delete;
  temp_fifo& operator=(const temp_fifo&) = delete;
};

// The system call kernel thread `tid` of this process is blocked in, with
// its six arguments (/proc/self/task/TID/syscall); nullopt while it runs, or
// if /proc cannot tell.
struct in_syscall {
  long nr;
  unsigned long arg[6];
};
inline std::optional<in_syscall> blocked_syscall(pid_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string tok;
  if (!(f >> tok) || tok == "running") return std::nullopt;
  in_syscall s{std::stol(tok), {}};
  if (s.nr < 0) return std::nullopt;  // blocked, but not in a system call
  for (auto& a : s.arg) {
    if (!(f >> tok)) return std::nullopt;
    a = std::stoul(tok, nullptr, 16);
  }
  return s;
}

inline pid_t kernel_tid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// Whether blocked_syscall() can be trusted here: the file must show this
// thread inside the read(2) that reads it. Not under qemu-user, which shows
// the host's system calls (the emulator is only known in a cross build).
inline bool syscalls_visible() {
#if defined(WEFT_ECHO_SERVER_EMULATOR)
  return false;
#else
  std::ifstream f("/proc/self/task/" + std::to_string(kernel_tid()) + "/syscall");
  std::string first;
  return (f >> first) && first == std::to_string(SYS_read);
#endif
}

// Runs call and returns the weft::errc it threw (or a failure).
template <class F>
weft::errc weft_error_of(F call) {
  try {
    call();
  } catch (const weft::error& e) {
    return static_cast<weft::errc>(e.code().value());
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw something else: " << e.what();
    return weft::errc{};
  }
  ADD_FAILURE() << "did not throw weft::error";
  return weft::errc{};
}

// Runs call and returns the std::errc of the std::system_error it threw.
template <class F>
std::error_code errno_error_of(F call) {
  try {
    call();
  } catch (const std::system_error& e) {
    return e.code();
  }
  ADD_FAILURE() << "did not throw std::system_error";
  return {};
}

// A loopback echo server on an ephemeral port: one green thread per
// connection. stop() closes the listener and every connection.
class echo_server {
 public:
  echo_server() : listener_(weft::io::socket::listen(weft::io::address::loopback(0))) {
    port_ = listener_.local_address().port();
    acceptor_ = weft::spawn([this] { accept_loop(); });
  }
  ~echo_server() { stop(); }
  std::uint16_t port() const { return port_; }
  weft::io::address address() const { return weft::io::address::loopback(port_); }

  void stop() {
    if (stopped_.exchange(true)) return;
    listener_.close();
    acceptor_.join();
    {
      std::lock_guard lk(mu_);
      for (auto* c : conns_) c->close();
    }
    done_.wait();
  }

 private:
  void accept_loop() {
    for (;;) {
      weft::io::socket c;
      try {
        c = listener_.accept();
      } catch (const weft::error&) {
        return;  // closed by stop()
      }
      done_.add(1);
      weft::spawn([this, c = std::move(c)]() mutable {
        {
          std::lock_guard lk(mu_);
          conns_.push_back(&c);
        }
        char buf[4096];
        try {
          while (std::size_t n = c.read(buf, sizeof buf)) c.write_all(buf, n);
        } catch (const std::system_error&) {
        }
        {
          std::lock_guard lk(mu_);
          std::erase(conns_, &c);
        }
        done_.done();
      }).detach();
    }
  }

  weft::io::socket listener_;
  std::uint16_t port_ = 0;
  weft::thread<void> acceptor_;
  std::atomic<bool> stopped_{false};
  weft::mutex mu_;
  std::vector<weft::io::socket*> conns_;
  weft::wait_group done_;
};

}  // namespace weft_io_test
