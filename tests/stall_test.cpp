// The stall report (options::stall_threshold, core/monitor.hpp): a green
// thread that runs past the threshold without a switch is reported once,
// through the log hook, with its id, name and where it is; a thread asleep in
// a blocking system call is reported without being signalled, so its call is
// not cut short.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "test_support.hpp"
#include "weft/weft.hpp"

using namespace std::chrono_literals;
using weft_test::eventually;

// Spins until *stop: a loop that never calls weft. extern "C", not inlined
// and exported (weft_tests links with ENABLE_EXPORTS) so the backtrace can
// name it.
extern "C" __attribute__((noinline, used)) void weft_test_stall_spin(const std::atomic<bool>* stop) {
  while (!stop->load(std::memory_order_relaxed)) {
#if defined(__SANITIZE_THREAD__)
    // TSan delivers a signal only at the next intercepted call: give it one.
    (void)::getpid();
#endif
    asm volatile("" ::: "memory");
  }
}

namespace {

// Collects the "stall" records; restores the handler and level afterwards.
class stall_log {
 public:
  stall_log() : level_(weft::current_log_level()) {
    weft::set_log_level(weft::log_level::warn);
    prev_ = weft::set_log_handler([this](const weft::log_record& r) {
      if (r.component != "stall") return;
      std::lock_guard lk(mu_);
      reports_.emplace_back(r.message);
    });
  }
  ~stall_log() {
    weft::set_log_handler(std::move(prev_));
    weft::set_log_level(level_);
  }
  // Reports about the thread named `name` (others may stall too: under TSan
  // a spawn alone can take longer than the threshold).
  int count(const std::string& name) {
    std::lock_guard lk(mu_);
    int n = 0;
    for (const auto& r : reports_) n += r.find("'" + name + "' has run") != std::string::npos;
    return n;
  }
  // The first report about `name`, or "".
  std::string report(const std::string& name) {
    std::lock_guard lk(mu_);
    for (const auto& r : reports_)
      if (r.find("'" + name + "' has run") != std::string::npos) return r;
    return {};
  }

 private:
  weft::log_level level_;
  weft::log_handler prev_;
  std::mutex mu_;
  std::vector<std::string> reports_;
};

weft::options stall_options(unsigned workers) {
  weft::options o;
  o.workers = workers;
  o.stall_threshold = 20ms;
  return o;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(Stall, OptionsAreChecked) {
  weft::options o;
  o.workers = 1;
  o.stall_threshold = -1ms;
  EXPECT_WEFT_ERROR(weft::runtime{o}, weft::errc::invalid_argument);
  o.stall_threshold = 10ms;
  for (int sig : {SIGSEGV, SIGBUS, SIGKILL, SIGSTOP, SIGABRT, 0, NSIG + 3}) {
    o.stall_signal = sig;
    EXPECT_WEFT_ERROR(weft::runtime{o}, weft::errc::invalid_argument);
  }
  try {
    o.stall_signal = SIGSEGV;
    weft::runtime rt(o);
    ADD_FAILURE() << "SIGSEGV accepted";
  } catch (const weft::error& e) {
    EXPECT_TRUE(contains(e.what(), "options.stall_signal")) << e.what();
  }
  // A signal that is fine when the monitor is off is not checked.
  o.stall_threshold = 0ms;
  o.stall_signal = SIGSEGV;
  EXPECT_NO_THROW(weft::runtime{o});
}

TEST(Stall, SpinningThreadIsReportedOnceWithItsNameAndBacktrace) {
  stall_log log;
  std::atomic<bool> stop{false};
  weft::thread_id spinner_id = 0;
  weft::run(stall_options(1), [&] {
    weft::spawn_attrs a;
    a.name = "spinner";
    auto t = weft::spawn([&] { weft_test_stall_spin(&stop); }, a);
    spinner_id = t.id();
    // A foreign thread waits: the only worker is taken by the spinner.
    std::thread watcher([&] {
      eventually([&] { return log.count("spinner") >= 1; }, 60s);
      // Once per stall: the monitor looks every 5 ms; let it look a few
      // times more before the thread switches (a busy machine only makes
      // it look fewer times, never report twice).
      auto t0 = std::chrono::steady_clock::now();
      while (std::chrono::steady_clock::now() - t0 < 100ms) std::this_thread::sleep_for(5ms);
      stop.store(true);
    });
    t.join();
    watcher.join();
  });
  ASSERT_EQ(log.count("spinner"), 1);
  std::string r = log.report("spinner");
  EXPECT_TRUE(contains(r, "stall: green thread " + std::to_string(spinner_id) + " 'spinner' has run ")) << r;
  EXPECT_TRUE(contains(r, " ms on worker 0 without a switch (threshold 20.0 ms)")) << r;
#if !defined(__SANITIZE_THREAD__)
  // Under TSan the spinner calls getpid(): it may be found in the kernel.
  EXPECT_TRUE(contains(r, "\n  backtrace:\n    #0  ")) << r;
  EXPECT_TRUE(contains(r, "weft_test_stall_spin")) << r;
#endif
}

TEST(Stall, ThreadAsleepInABlockingCallIsReportedWithoutBeingInterrupted) {
  stall_log log;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ssize_t got = 0;
  char byte = 0;
  weft::run(stall_options(1), [&] {
    weft::spawn_attrs a;
    a.name = "reader";
    auto t = weft::spawn([&] { got = ::read(fds[0], &byte, 1); }, a);  // blocks its worker
    std::thread writer([&] {
      eventually([&] { return log.count("reader") >= 1; }, 60s);
      char c = 'x';
      EXPECT_EQ(::write(fds[1], &c, 1), 1);
    });
    t.join();
    writer.join();
  });
  ::close(fds[0]);
  ::close(fds[1]);
  // A signal would have cut the read short (or run a handler in it).
  EXPECT_EQ(got, 1);
  EXPECT_EQ(byte, 'x');
  ASSERT_GE(log.count("reader"), 1);
  std::string r = log.report("reader");
  EXPECT_TRUE(contains(r, "'reader' has run ")) << r;
  EXPECT_TRUE(contains(r, "\n  asleep in the kernel (state ")) << r;
#if defined(__x86_64__)
  // Under qemu-user /proc shows the host's system call numbers.
  EXPECT_TRUE(contains(r, ", in system call read (")) << r;
  EXPECT_TRUE(contains(r, "\n  called from ")) << r;
#endif
}

TEST(Stall, EachStallIsReportedAgainAfterASwitch) {
  stall_log log;
  std::atomic<bool> stop{false};
  weft::run(stall_options(2), [&] {
    weft::spawn_attrs a;
    a.name = "looper";
    auto t = weft::spawn([&] {
      for (int round = 1; round <= 2; ++round) {
        stop.store(false);
        std::thread releaser([&, round] {
          eventually([&] { return log.count("looper") >= round; }, 60s);
          stop.store(true);
        });
        weft_test_stall_spin(&stop);
        releaser.join();
        weft::this_thread::yield();
      }
    }, a);
    t.join();
  });
  EXPECT_EQ(log.count("looper"), 2);
}

// Signals weft did not send go on to the handler the program had.
std::atomic<int> g_foreign_urg{0};
void count_urg(int) { g_foreign_urg.fetch_add(1); }

TEST(Stall, ForeignSignalsReachThePreviousHandler) {
  struct sigaction sa {}, old {};
  sa.sa_handler = &count_urg;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(::sigaction(SIGURG, &sa, &old), 0);
  g_foreign_urg = 0;
  weft::run(stall_options(1), [&] {
    weft::spawn([] { ::raise(SIGURG); }).join();
    ::raise(SIGURG);
  });
  EXPECT_EQ(g_foreign_urg.load(), 2);
  // The last monitor gone, the program's handler is back in place.
  struct sigaction now {};
  ASSERT_EQ(::sigaction(SIGURG, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, &count_urg);
  ::sigaction(SIGURG, &old, nullptr);
}

}  // namespace
