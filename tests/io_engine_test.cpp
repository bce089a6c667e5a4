// Engine selection: options::io, WEFT_IO_ENGINE, and the automatic fallback
// to epoll when io_uring_setup is refused (simulated with a seccomp filter
// that makes it fail with EPERM, as a container's profile does).
#include <gtest/gtest.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <string>

#include "io_test_support.hpp"

namespace io = weft::io;

namespace {

std::string engine_of(const weft::options& o) {
  weft::runtime rt(o);
  return weft::spawn_in(rt, [] { return std::string(io::engine_name()); }).join();
}

// Makes io_uring_setup fail with EPERM in this process from now on.
void refuse_io_uring() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
    std::_Exit(3);
}

void fallback_child() {
  ::unsetenv("WEFT_IO_ENGINE");  // the automatic choice is under test, whatever the caller's environment
  ::unsetenv("WEFT_LOG");        // the fallback is a warning, shown at the default threshold
  refuse_io_uring();
  // Automatic: epoll, and sockets work on it.
  weft::runtime rt({.workers = 2});
  int code = weft::spawn_in(rt, [] {
    if (std::string(io::engine_name()) != "epoll") return 4;
    auto [a, b] = io::socket::pair();
    a.write_all("x", 1);
    char c;
    return b.read(&c, 1) == 1 ? 0 : 5;
  }).join();
  if (code != 0) std::_Exit(code);
  // Asking for io_uring explicitly is an error that names the reason.
  try {
    weft::runtime bad({.workers = 1, .io = weft::io_engine::io_uring});
    std::_Exit(6);
  } catch (const weft::error& e) {
    if (std::string(e.what()).find("Operation not permitted") == std::string::npos) std::_Exit(7);
  }
  std::exit(0);
}

TEST(IoEngineSelection, FallsBackToEpollWhenIoUringIsRefused) {
  // Without io_uring (no liburing in this build, or a kernel that refuses it)
  // the fallback is what every other test already runs on.
  // (Asked in the parent only: the re-executed child must meet io_uring for
  // the first time under the filter, so that the probe itself is refused.)
  bool child = !GTEST_FLAG_GET(internal_run_death_test).empty();
  if (!child && !weft_io_test::uring_available()) GTEST_SKIP() << "io_uring is not available here";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(fallback_child(), ::testing::ExitedWithCode(0),
              "weft: I/O engine: epoll \\(io_uring_setup failed: Operation not permitted");
}

// io_uring worked when probed, and is refused afterwards (a sandbox set up
// later): a new automatic runtime falls back to epoll, a forced one fails.
void refused_after_probe_child() {
  ::unsetenv("WEFT_IO_ENGINE");
  ::unsetenv("WEFT_LOG");
  if (!weft_io_test::uring_available()) std::_Exit(8);  // probes, and caches the answer
  refuse_io_uring();
  if (engine_of({.workers = 2}) != "epoll") std::_Exit(9);
  try {
    weft::runtime bad({.workers = 1, .io = weft::io_engine::io_uring});
    std::_Exit(10);
  } catch (const weft::error& e) {
    if (e.code() != weft::errc::resource_exhausted) std::_Exit(11);
  }
  std::exit(0);
}

TEST(IoEngineSelection, FallsBackWhenIoUringIsRefusedAfterTheProbe) {
  bool child = !GTEST_FLAG_GET(internal_run_death_test).empty();
  if (!child && !weft_io_test::uring_available()) GTEST_SKIP() << "io_uring is not available here";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(refused_after_probe_child(), ::testing::ExitedWithCode(0),
              "weft: I/O engine: epoll \\(cannot set up an io_uring for worker 0: Operation not permitted");
}

TEST(IoEngineSelection, OptionsChooseTheEngine) {
  EXPECT_EQ(engine_of({.workers = 1, .io = weft::io_engine::epoll}), "epoll");
  if (weft_io_test::uring_available()) {
    EXPECT_EQ(engine_of({.workers = 1, .io = weft::io_engine::io_uring}), "io_uring");
  }
}

TEST(IoEngineSelection, EnvironmentVariableOverridesAutomatic) {
  ::setenv("WEFT_IO_ENGINE", "epoll", 1);
  EXPECT_EQ(engine_of({.workers = 1}), "epoll");
  // An explicit option still wins over the variable.
  if (weft_io_test::uring_available()) {
    EXPECT_EQ(engine_of({.workers = 1, .io = weft::io_engine::io_uring}), "io_uring");
  }
  ::setenv("WEFT_IO_ENGINE", "kqueue", 1);
  try {
    weft::runtime rt({.workers = 1});
    ADD_FAILURE() << "WEFT_IO_ENGINE=kqueue accepted";
  } catch (const weft::error& e) {
    EXPECT_EQ(e.code(), weft::errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("WEFT_IO_ENGINE"), std::string::npos) << e.what();
  }
  ::unsetenv("WEFT_IO_ENGINE");
}

}  // namespace
