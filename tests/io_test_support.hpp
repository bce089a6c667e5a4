// Helpers for the I/O tests: a fixture that runs each test on both engines,
// and a loopback echo server.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

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
