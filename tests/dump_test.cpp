// The thread dump (weft::dump, options::dump_signal; core/dump.hpp): every
// green thread with its state, wait reason and the backtrace of its
// suspended context, unwound from the registers its last switch saved.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "test_support.hpp"
#include "weft/weft.hpp"

using namespace std::chrono_literals;
using weft_test::blocked_on;
using weft_test::eventually;

// The function a thread parks in: the dump's backtrace must name it.
// noinline and extern "C" so the frame exists and its name is plain.
extern "C" __attribute__((noinline)) int weft_test_dump_wait_on_channel(weft::channel<int>* ch) {
  int v = ch->recv().value();
  asm volatile("" ::: "memory");  // not a tail call: the frame stays
  return v;
}

extern "C" __attribute__((noinline)) void weft_test_dump_sleep(std::atomic<bool>* stop) {
  while (!stop->load()) weft::this_thread::sleep_for(20ms);
  asm volatile("" ::: "memory");
}

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// weft::dump into a string.
std::string dump_text() {
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  if (!f) return "open_memstream failed";
  weft::dump(f);
  std::fclose(f);
  std::string s(buf, len);
  std::free(buf);
  return s;
}

// The dump's block about thread `id`: from its headline to the next one.
std::string block_of(const std::string& dump, weft::thread_id id) {
  std::string head = "green thread " + std::to_string(id) + " ";
  std::size_t at = dump.find(head);
  if (at == std::string::npos) return {};
  std::size_t end = dump.find("\ngreen thread ", at + head.size());
  return dump.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

weft::options two_workers() {
  weft::options o;
  o.workers = 2;
  return o;
}

}  // namespace

TEST(Dump, ParkedThreadShowsStateReasonAndTheFunctionThatParked) {
  std::string dump, block;
  weft::thread_id rx_id = 0, me = 0;
  weft::run(two_workers(), [&] {
    me = weft::this_thread::id();
    weft::channel<int> ch(0);
    weft::spawn_attrs a;
    a.name = "receiver";
    auto rx = weft::spawn([&] { return weft_test_dump_wait_on_channel(&ch); }, a);
    rx_id = rx.id();
    ASSERT_TRUE(blocked_on(rx_id, weft::wait_reason::channel_recv));
    dump = dump_text();
    EXPECT_TRUE(ch.send(7).ok());
    EXPECT_EQ(rx.join(), 7);
  });
  block = block_of(dump, rx_id);
  EXPECT_TRUE(contains(dump, "weft: dump of ")) << dump;
  EXPECT_TRUE(contains(block, "'receiver' (parent " + std::to_string(me) + "): blocked, waiting for channel_recv (wait queue 0x"))
      << dump;
  EXPECT_TRUE(contains(block_of(dump, me), ": running on worker ")) << dump;
#if WEFT_HAVE_LIBUNWIND
  EXPECT_TRUE(contains(block, "\n    #0  0x")) << dump;
  EXPECT_TRUE(contains(block, " in weft_test_dump_wait_on_channel+0x")) << dump;
#else
  EXPECT_TRUE(contains(block, "(stacks unavailable: built without libunwind)")) << dump;
#endif
}

TEST(Dump, SleepingThreadShowsSleep) {
  std::string dump;
  weft::thread_id id = 0;
  std::atomic<bool> stop{false};
  weft::run(two_workers(), [&] {
    weft::spawn_attrs a;
    a.name = "sleeper";
    auto t = weft::spawn([&] { weft_test_dump_sleep(&stop); }, a);
    id = t.id();
    ASSERT_TRUE(blocked_on(id, weft::wait_reason::sleep));
    dump = dump_text();
    stop.store(true);
    t.join();
  });
  std::string block = block_of(dump, id);
  EXPECT_TRUE(contains(block, "'sleeper'")) << dump;
  EXPECT_TRUE(contains(block, ": blocked, waiting for sleep for ")) << dump;
#if WEFT_HAVE_LIBUNWIND
  EXPECT_TRUE(contains(block, " in weft_test_dump_sleep+0x")) << dump;
#endif
}

TEST(Dump, ManyParkedThreadsAreAllListed) {
  std::string dump;
  weft::run(two_workers(), [&] {
    weft::latch gate(1);
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < 20; ++i) ts.push_back(weft::spawn([&] { gate.wait(); }));
    std::vector<weft::thread_id> ids;
    for (auto& t : ts) ids.push_back(t.id());
    for (auto id : ids) ASSERT_TRUE(blocked_on(id, weft::wait_reason::latch));
    dump = dump_text();
    gate.count_down();
    for (auto& t : ts) t.join();
    for (auto id : ids) EXPECT_TRUE(contains(block_of(dump, id), ": blocked, waiting for latch")) << dump;
  });
}

TEST(Dump, BadArgumentsAreRejected) {
  weft::run(two_workers(), [] { EXPECT_WEFT_ERROR(weft::dump(nullptr), weft::errc::invalid_argument); });
  EXPECT_WEFT_ERROR(weft::dump(stderr), weft::errc::no_runtime);
  weft::options o;
  o.workers = 1;
  for (int sig : {SIGSEGV, SIGKILL, SIGABRT, -1, NSIG + 3}) {
    o.dump_signal = sig;
    EXPECT_WEFT_ERROR(weft::runtime{o}, weft::errc::invalid_argument);
  }
  o.dump_signal = SIGURG;
  o.stall_threshold = 100ms;
  o.stall_signal = SIGURG;
  EXPECT_WEFT_ERROR(weft::runtime{o}, weft::errc::invalid_argument);
}

// The signal's dump goes to stderr: redirected to a file for the test.
TEST(Dump, SignalPrintsTheDumpFromAThreadOfItsOwn) {
  char path[] = "/tmp/weft_dump_test_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  std::fflush(stderr);
  int saved = ::dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ::dup2(fd, STDERR_FILENO);
  struct sigaction before {};
  sigaction(SIGUSR2, nullptr, &before);
  auto text = [&] {
    std::fflush(stderr);
    std::string s;
    char buf[4096];
    ssize_t n;
    for (off_t off = 0; (n = ::pread(fd, buf, sizeof buf, off)) > 0; off += n) s.append(buf, static_cast<std::size_t>(n));
    return s;
  };
  std::string got;
  weft::thread_id id = 0;
  {
    weft::options o = two_workers();
    o.dump_signal = SIGUSR2;
    weft::run(o, [&] {
      weft::channel<int> ch(0);
      weft::spawn_attrs a;
      a.name = "signalled";
      auto rx = weft::spawn([&] { return weft_test_dump_wait_on_channel(&ch); }, a);
      id = rx.id();
      ASSERT_TRUE(blocked_on(id, weft::wait_reason::channel_recv));
      // To this kernel thread, not the process: under TSan a signal waits
      // for its thread's next intercepted call, and a worker asleep in a raw
      // io_uring_enter may never make one while the test waits.
      ::pthread_kill(::pthread_self(), SIGUSR2);
      // Written by another thread: complete once the trailer is there.
      EXPECT_TRUE(eventually([&] { return contains(text(), "weft: end of dump"); }, 60s));
      EXPECT_TRUE(ch.send(1).ok());
      rx.join();
    });
  }
  got = text();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fd);
  // The runtime gave the signal back its old action.
  struct sigaction after {};
  sigaction(SIGUSR2, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
  EXPECT_TRUE(contains(got, "weft: dump of ")) << got;
  EXPECT_TRUE(contains(block_of(got, id), "'signalled' (parent ")) << got;
}
