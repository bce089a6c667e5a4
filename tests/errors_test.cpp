// Bad input and misuse get a weft::error with a code and a message that
// names the problem, never a crash or a hang.
#include <cstring>
#include <string>
#include <thread>

#include "core/thread_label.hpp"
#include "test_support.hpp"

namespace {

using namespace weft_test;

std::string message_of(void (*fn)()) {
  try {
    fn();
  } catch (const weft::error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Errors, SpawnAfterShutdownIsShutDown) {
  weft::runtime rt({.workers = 2});
  weft::spawn_in(rt, [] {}).join();
  rt.shutdown();
  EXPECT_WEFT_ERROR(weft::spawn_in(rt, [] {}), weft::errc::shut_down);
  rt.shutdown();  // idempotent
}

TEST(Errors, BadSpawnAttributesAreInvalidArguments) {
  weft::runtime rt({.workers = 1});
  weft::spawn_attrs a;
  a.priority = 65;
  EXPECT_WEFT_ERROR(weft::spawn_in(rt, [] {}, a), weft::errc::invalid_argument);
  a.priority = -65;
  EXPECT_WEFT_ERROR(weft::spawn_in(rt, [] {}, a), weft::errc::invalid_argument);
  a.priority = 64;
  a.stack_size = 1024;
  EXPECT_WEFT_ERROR(weft::spawn_in(rt, [] {}, a), weft::errc::invalid_argument);
  a.stack_size = std::size_t{4} << 30;
  EXPECT_WEFT_ERROR(weft::spawn_in(rt, [] {}, a), weft::errc::invalid_argument);
  // The extremes of the ranges are fine, and a rejected spawn leaves no trace.
  a.stack_size = 16 * 1024;
  weft::spawn_in(rt, [] {}, a).join();
  a.priority = -64;
  weft::spawn_in(rt, [] {}, a).join();
  EXPECT_TRUE(eventually([&] { return rt.snapshot().empty(); }));
}

TEST(Errors, MessagesNameTheProblem) {
  weft::runtime rt({.workers = 1});
  std::string m = message_of([] {
    weft::spawn_attrs a;
    a.priority = 100;
    weft::spawn([] {}, a);
  });
  EXPECT_NE(m.find("priority"), std::string::npos) << m;
  EXPECT_NE(m.find("100"), std::string::npos) << m;
  m = message_of([] { weft::this_thread::sleep_for(std::chrono::milliseconds(-3)); });
  EXPECT_NE(m.find("negative"), std::string::npos) << m;
  m = message_of([] { weft::thread<void>().join(); });
  EXPECT_NE(m.find("join"), std::string::npos) << m;
}

TEST(Errors, ThreadLabel) {
  char buf[64];
  EXPECT_EQ(weft::detail::thread_label(buf, sizeof buf, 42, nullptr), std::strlen("green thread 42"));
  EXPECT_STREQ(buf, "green thread 42");
  weft::detail::thread_label(buf, sizeof buf, 42, "");
  EXPECT_STREQ(buf, "green thread 42");
  weft::detail::thread_label(buf, sizeof buf, 7, "worker");
  EXPECT_STREQ(buf, "green thread 7 'worker'");
  weft::detail::thread_label(buf, 10, 7, "worker");  // truncated, still terminated
  EXPECT_STREQ(buf, "green thr");
  EXPECT_EQ(weft::detail::thread_label(18446744073709551615ull, "x"), "green thread 18446744073709551615 'x'");
  EXPECT_EQ(weft::detail::thread_label(0, nullptr), "green thread 0");
}

// Messages name a thread as "green thread N", adding 'name' only when it has one.
TEST(Errors, MessagesNameThreadsOneWay) {
  weft::runtime rt({.workers = 2});
  weft::event release;
  auto unnamed = weft::spawn_in(rt, [&] { release.wait(); });
  auto named = weft::spawn_in(rt, [&] { release.wait(); }, {.name = "worker"});
  auto resume_message = [](weft::thread_id id) {
    try {
      weft::resume(id);
    } catch (const weft::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string id1 = std::to_string(unnamed.id()), id2 = std::to_string(named.id());
  EXPECT_EQ(resume_message(unnamed.id()).rfind("resume: green thread " + id1 + " is not suspended (state ", 0), 0u)
      << resume_message(unnamed.id());
  EXPECT_EQ(resume_message(named.id()).rfind("resume: green thread " + id2 + " 'worker' is not suspended", 0), 0u)
      << resume_message(named.id());
  release.set();
  unnamed.join();
  named.join();
  auto self = weft::spawn_in(rt, [] {
    std::string m = "no error";
    try {
      (void)weft::receive<int>();
    } catch (const weft::error& e) {
      m = e.what();
    }
    return m;
  });
  std::string id3 = std::to_string(self.id());
  EXPECT_EQ(self.join().rfind("weft::receive: green thread " + id3 + " has no mailbox", 0), 0u);
  weft::thread<std::string> me;
  weft::event ready;
  me = weft::spawn_in(rt, [&] {
    ready.wait();
    try {
      me.join();
    } catch (const weft::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  }, {.name = "narcissus"});
  std::string id4 = std::to_string(me.id());
  ready.set();
  std::string m = me.join();
  EXPECT_EQ(m.rfind("join: green thread " + id4 + " 'narcissus' cannot join itself", 0), 0u) << m;
}

TEST(ErrorsDeathTest, UnnamedThreadsExceptionReportHasNoEmptyQuotes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::runtime rt({.workers = 1});
        weft::spawn_in(rt, [] { throw std::runtime_error("lost"); }).detach();
      },
      "weft: fatal: green thread [0-9]+ ended with an uncaught exception that nobody joins: lost");
}

TEST(Errors, BadRuntimeOptionsAreInvalidArguments) {
  EXPECT_WEFT_ERROR(weft::runtime({.workers = 100000}), weft::errc::invalid_argument);
  weft::options o;
  o.workers = 1;
  o.stack_size = std::size_t{8} << 30;
  EXPECT_WEFT_ERROR(weft::runtime{o}, weft::errc::invalid_argument);
  EXPECT_WEFT_ERROR(weft::run({.workers = 100000}, [] {}), weft::errc::invalid_argument);
}

TEST(Errors, EmptyHandlesAreNotJoinable) {
  weft::thread<int> empty;
  EXPECT_FALSE(empty.joinable());
  EXPECT_EQ(empty.id(), 0u);
  EXPECT_WEFT_ERROR(empty.join(), weft::errc::not_joinable);
  EXPECT_WEFT_ERROR(empty.detach(), weft::errc::not_joinable);
}

TEST(Errors, NoRuntimeForForeignCalls) {
  EXPECT_WEFT_ERROR(weft::spawn([] {}), weft::errc::no_runtime);
  EXPECT_WEFT_ERROR(weft::join_any(), weft::errc::no_runtime);
  EXPECT_WEFT_ERROR(weft::suspend(1), weft::errc::no_runtime);
  EXPECT_WEFT_ERROR(weft::resume(1), weft::errc::no_runtime);
  EXPECT_WEFT_ERROR(weft::snapshot(), weft::errc::no_runtime);
  // Two runtimes: a foreign caller's spawn() is ambiguous.
  weft::runtime a({.workers = 1});
  weft::runtime b({.workers = 1});
  EXPECT_WEFT_ERROR(weft::spawn([] {}), weft::errc::no_runtime);
}

TEST(Errors, ShutdownFromItsOwnGreenThreadIsADeadlock) {
  weft::runtime rt({.workers = 1});
  auto t = weft::spawn_in(rt, [&] { EXPECT_WEFT_ERROR(rt.shutdown(), weft::errc::deadlock); });
  t.join();
}

TEST(Errors, RunRejectsAnEmptyMain) {
  EXPECT_WEFT_ERROR(weft::run({.workers = 1}, std::function<int()>()), weft::errc::invalid_argument);
  EXPECT_WEFT_ERROR(weft::run({.workers = 1}, std::function<void()>()), weft::errc::invalid_argument);
}

TEST(Errors, ErrorCategory) {
  const std::error_category& c = weft::category();
  EXPECT_STREQ(c.name(), "weft");
  std::error_code ec = weft::errc::deadlock;
  EXPECT_EQ(&ec.category(), &c);
  EXPECT_EQ(ec.message(), "operation would deadlock");
  EXPECT_EQ(std::error_code(weft::errc::shut_down).message(), "runtime is shut down");
  weft::error e(weft::errc::timed_out, "waited too long");
  EXPECT_EQ(e.code(), weft::errc::timed_out);
  EXPECT_NE(std::string(e.what()).find("waited too long"), std::string::npos);
}

}  // namespace
