// The log hook (weft/log.hpp, runtime/base/log.*): records reach the
// handler with their level, component and text; the threshold filters them
// before formatting; WEFT_LOG sets it (every accepted value, and a bad one,
// read for real: in a child process, since the variable is read once per
// process); the default handler is silent at info and prints warnings; a
// handler swapped while green and kernel threads log never loses a record,
// never runs after set_log_handler returned, and can be freed right then;
// the fatal path still writes stderr whatever the handler does.
//
// The child processes are gtest death tests in the threadsafe style: the
// test binary is executed again with the parent's environment, so a child
// meets WEFT_LOG the way a program does, at its first use of the log.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/fatal.hpp"
#include "base/log.hpp"
#include "test_support.hpp"

namespace {

using namespace weft_test;
using weft::log_level;

struct seen {
  log_level level;
  std::string component;
  std::string message;
};

// A handler's state: every record of component "test" it received.
struct recorder {
  std::mutex mu;
  std::vector<seen> records;

  weft::log_handler handler() {
    return [this](const weft::log_record& r) {
      if (r.component != "test") return;  // a runtime of another test may speak meanwhile
      std::lock_guard lk(mu);
      records.push_back({r.level, std::string(r.component), std::string(r.message)});
    };
  }
  std::vector<seen> take() {
    std::lock_guard lk(mu);
    return std::exchange(records, {});
  }
};

// Restores the handler and the threshold a test changed.
class log_state_guard {
 public:
  log_state_guard() : level_(weft::current_log_level()) {}
  ~log_state_guard() {
    if (handler_) weft::set_log_handler(std::move(*handler_));
    weft::set_log_level(level_);
  }
  void install(weft::log_handler h) {
    auto prev = weft::set_log_handler(std::move(h));
    if (!handler_) handler_ = std::move(prev);
  }

 private:
  log_level level_;
  std::optional<weft::log_handler> handler_;
};

// Sets (or, with nullptr, unsets) an environment variable for a scope.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~scoped_env() {
    if (old_) ::setenv(name_.c_str(), old_->c_str(), 1);
    else ::unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// Runs f with file descriptor 2 redirected to a temporary file; returns
// what was written there. f must have stopped every thread it started.
template <class F>
std::string capture_stderr(F f) {
  std::fflush(stderr);
  FILE* tmp = std::tmpfile();
  if (!tmp) std::abort();
  int saved = ::dup(2);
  ::dup2(::fileno(tmp), 2);
  f();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::string out;
  std::rewind(tmp);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) out.append(buf, n);
  std::fclose(tmp);
  return out;
}

// A child's verdict: exit 0, or say why on stderr (the death test shows it) and exit 1.
[[noreturn]] void child_exit(bool ok, const std::string& why, const std::string& captured) {
  if (!ok) std::fprintf(stderr, "child: %s\ncaptured stderr: [%s]\n", why.c_str(), captured.c_str());
  std::exit(ok ? 0 : 1);
}

// Creates a runtime on epoll (its engine line is info whatever the kernel
// allows), runs one green thread and destroys the runtime.
void run_one_runtime() {
  weft::runtime rt({.workers = 1, .io = weft::io_engine::epoll});
  weft::spawn_in(rt, [] {}).join();
}

// ---------------------------------------------------------------- levels

TEST(Log, ParsesTheLevelNames) {
  using weft::detail::parse_log_level;
  EXPECT_EQ(parse_log_level("debug"), log_level::debug);
  EXPECT_EQ(parse_log_level("info"), log_level::info);
  EXPECT_EQ(parse_log_level("warn"), log_level::warn);
  EXPECT_EQ(parse_log_level("error"), log_level::error);
  EXPECT_EQ(parse_log_level("fatal"), log_level::fatal);
  EXPECT_EQ(parse_log_level("off"), log_level::off);
  EXPECT_EQ(parse_log_level("Info"), log_level::info);  // case does not matter
  EXPECT_EQ(parse_log_level("WARN"), log_level::warn);
  for (const char* bad : {"", "bogus", "warning", "inf", "info ", " off", "2", "debugx"})
    EXPECT_EQ(parse_log_level(bad), std::nullopt) << "'" << bad << "'";
}

TEST(Log, NamesEachLevel) {
  for (log_level l : {log_level::debug, log_level::info, log_level::warn, log_level::error, log_level::fatal,
                      log_level::off})
    EXPECT_EQ(weft::detail::parse_log_level(weft::to_string(l)), l);
  EXPECT_STREQ(weft::to_string(static_cast<log_level>(42)), "?");
}

TEST(Log, SetLogLevelRejectsAValueOutsideTheEnum) {
  log_state_guard g;
  weft::set_log_level(log_level::error);
  EXPECT_WEFT_ERROR(weft::set_log_level(static_cast<log_level>(42)), weft::errc::invalid_argument);
  EXPECT_WEFT_ERROR(weft::set_log_level(static_cast<log_level>(-1)), weft::errc::invalid_argument);
  EXPECT_EQ(weft::current_log_level(), log_level::error);
}

// ---------------------------------------------------------------- the handler

TEST(Log, HandlerGetsRecordsAtAndAboveTheThreshold) {
  log_state_guard g;
  recorder rec;
  g.install(rec.handler());

  weft::set_log_level(log_level::debug);
  EXPECT_EQ(weft::current_log_level(), log_level::debug);
  WEFT_LOG_DEBUG("test", "d %d", 1);
  WEFT_LOG_INFO("test", "i %s", "two");
  WEFT_LOG_WARN("test", "w %zu", std::size_t{3});
  WEFT_LOG_ERROR("test", "e");
  auto got = rec.take();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].level, log_level::debug);
  EXPECT_EQ(got[0].message, "d 1");
  EXPECT_EQ(got[1].level, log_level::info);
  EXPECT_EQ(got[1].message, "i two");
  EXPECT_EQ(got[2].level, log_level::warn);
  EXPECT_EQ(got[2].message, "w 3");
  EXPECT_EQ(got[3].level, log_level::error);
  EXPECT_EQ(got[3].message, "e");
  EXPECT_EQ(got[3].component, "test");

  weft::set_log_level(log_level::warn);
  WEFT_LOG_DEBUG("test", "dropped");
  WEFT_LOG_INFO("test", "dropped");
  WEFT_LOG_WARN("test", "kept");
  WEFT_LOG_ERROR("test", "kept too");
  got = rec.take();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].message, "kept");
  EXPECT_EQ(got[1].message, "kept too");

  weft::set_log_level(log_level::off);
  WEFT_LOG_ERROR("test", "dropped");
  EXPECT_TRUE(rec.take().empty());
}

TEST(Log, ADroppedRecordIsNeitherFormattedNorEvaluated) {
  log_state_guard g;
  weft::set_log_level(log_level::warn);
  int evaluated = 0;
  auto arg = [&] { return ++evaluated; };
  WEFT_LOG_DEBUG("test", "%d", arg());
  WEFT_LOG_INFO("test", "%d", arg());
  EXPECT_EQ(evaluated, 0);
}

TEST(Log, ALongMessageIsTruncatedVisibly) {
  log_state_guard g;
  recorder rec;
  g.install(rec.handler());
  weft::set_log_level(log_level::info);
  std::string big(5000, 'x');
  WEFT_LOG_INFO("test", "%s", big.c_str());
  auto got = rec.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_LT(got[0].message.size(), big.size());
  EXPECT_GE(got[0].message.size(), 1000u);
  EXPECT_EQ(got[0].message.substr(got[0].message.size() - 3), "...");
}

TEST(Log, SetLogHandlerReturnsThePreviousOne) {
  log_state_guard g;
  weft::set_log_level(log_level::info);
  recorder a, b;
  g.install(a.handler());
  weft::log_handler prev = weft::set_log_handler(b.handler());
  // prev is a's handler: calling it records into a.
  prev(weft::log_record{log_level::warn, "test", "via prev"});
  auto got = a.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message, "via prev");

  // An empty handler restores the default; the default comes back as
  // default_log_handler (callable, so a wrapper can chain to it).
  weft::log_handler was_b = weft::set_log_handler({});
  EXPECT_TRUE(was_b);
  weft::log_handler was_default = weft::set_log_handler(b.handler());
  ASSERT_TRUE(was_default);
  auto* fp = was_default.target<void (*)(const weft::log_record&) noexcept>();
  ASSERT_NE(fp, nullptr);
  EXPECT_EQ(*fp, &weft::default_log_handler);
  // Installing default_log_handler itself is the default too.
  weft::set_log_handler(weft::default_log_handler);
  std::string err = capture_stderr([] { WEFT_LOG_WARN("test", "to stderr"); });
  EXPECT_EQ(err, "weft: to stderr\n");
  EXPECT_TRUE(b.take().empty());
}

TEST(Log, AThrowingHandlerDoesNotLoseTheRecord) {
  log_state_guard g;
  weft::set_log_level(log_level::info);
  g.install([](const weft::log_record& r) {
    if (r.component == "test") throw std::runtime_error("handler broke");
  });
  std::string err = capture_stderr([] { WEFT_LOG_WARN("test", "must survive"); });
  EXPECT_NE(err.find("weft: must survive\n"), std::string::npos) << err;
  EXPECT_NE(err.find("the log handler threw (handler broke)"), std::string::npos) << err;
}

TEST(Log, AHandlerThatLogsOrSwapsDoesNotReenter) {
  log_state_guard g;
  weft::set_log_level(log_level::info);
  std::atomic<int> calls{0};
  std::atomic<bool> swap_refused{false};
  g.install([&](const weft::log_record& r) {
    if (r.component != "test") return;
    calls.fetch_add(1);
    // weft speaking from inside the handler (as a runtime created here
    // would): goes to stderr, not back into this handler.
    WEFT_LOG_WARN("test", "nested");
    try {
      weft::set_log_handler({});
    } catch (const weft::error& e) {
      swap_refused = e.code() == weft::errc::deadlock;
    }
  });
  std::string err = capture_stderr([] { WEFT_LOG_WARN("test", "outer"); });
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(swap_refused.load());
  EXPECT_EQ(err, "weft: nested\n");
}

// Green threads and kernel threads log without pause while the main thread
// swaps handlers. Every record reaches exactly one handler; once
// set_log_handler returned, no call of the handler it replaced is still
// running, so its state is freed right there (ASan would see a late call).
TEST(Log, HandlerSwappedWhileThreadsLog) {
  log_state_guard g;
  weft::set_log_level(log_level::info);

  struct sink {
    std::atomic<long> records{0};
    std::atomic<int> inside{0};
  };
  auto make_handler = [](sink* s) {
    return [s](const weft::log_record& r) {
      if (r.component != "test") return;
      s->inside.fetch_add(1, std::memory_order_relaxed);
      s->records.fetch_add(1, std::memory_order_relaxed);
      s->inside.fetch_sub(1, std::memory_order_release);
    };
  };

  std::atomic<bool> stop{false};
  std::atomic<long> sent{0};
  auto log_loop = [&](bool green) {
    while (!stop.load(std::memory_order_relaxed)) {
      WEFT_LOG_INFO("test", "record %ld", sent.load(std::memory_order_relaxed));
      sent.fetch_add(1, std::memory_order_relaxed);
      if (green) weft::this_thread::yield();
    }
  };

  auto first = std::make_unique<sink>();
  g.install(make_handler(first.get()));
  long received = 0;
  {
    weft::runtime rt({.workers = 2});
    std::vector<weft::thread<void>> greens;
    for (int i = 0; i < 2; ++i) greens.push_back(weft::spawn_in(rt, [&] { log_loop(true); }));
    std::vector<std::thread> kernels;
    for (int i = 0; i < 2; ++i) kernels.emplace_back([&] { log_loop(false); });

    std::unique_ptr<sink> current = std::move(first);
    for (int round = 0; round < 50; ++round) {
      // Swap only once the current handler has been called: the swaps
      // really race with calls.
      if (!eventually([&] { return current->records.load() > 0; })) {
        ADD_FAILURE() << "round " << round << ": no record reached the handler";
        break;
      }
      auto next = std::make_unique<sink>();
      weft::set_log_handler(make_handler(next.get()));
      EXPECT_EQ(current->inside.load(std::memory_order_acquire), 0) << "round " << round;
      received += current->records.load();
      current = std::move(next);  // frees the replaced sink
    }
    stop = true;
    for (auto& t : kernels) t.join();
    for (auto& t : greens) t.join();
    weft::set_log_handler({});
    EXPECT_EQ(current->inside.load(std::memory_order_acquire), 0);
    received += current->records.load();
  }
  EXPECT_EQ(received, sent.load());
}

// ---------------------------------------------------------------- stderr and WEFT_LOG, in child processes

void silent_by_default_child() {
  ::unsetenv("WEFT_LOG");
  std::string err = capture_stderr(run_one_runtime);
  child_exit(err.empty() && weft::current_log_level() == log_level::warn,
             "a runtime printed at the default threshold", err);
}

TEST(LogDeathTest, DefaultIsSilentAtInfo) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(silent_by_default_child(), ::testing::ExitedWithCode(0), "");
}

void info_shows_engine_child() {
  ::unsetenv("WEFT_LOG");
  weft::set_log_level(log_level::info);
  std::string err = capture_stderr(run_one_runtime);
  child_exit(err == "weft: I/O engine: epoll (options.io = epoll)\n", "no engine line at info", err);
}

TEST(LogDeathTest, InfoShowsTheEngineLine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(info_shows_engine_child(), ::testing::ExitedWithCode(0), "");
}

// WEFT_LOG=<value> in the environment at start-up gives threshold `want`;
// WEFT_LOG=info also shows the engine line, and debug the runtime's own.
struct env_case {
  const char* value;
  log_level want;
};

void weft_log_env_child(env_case c) {
  std::string err = capture_stderr([] {
    (void)weft::current_log_level();  // the first use reads WEFT_LOG
    run_one_runtime();
    WEFT_LOG_WARN("test", "a warning");
  });
  bool ok = weft::current_log_level() == c.want;
  bool engine = err.find("weft: I/O engine: epoll (options.io = epoll)\n") != std::string::npos;
  bool created = err.find("weft: runtime created: 1 workers") != std::string::npos;
  bool warning = err.find("weft: a warning\n") != std::string::npos;
  ok = ok && engine == (c.want <= log_level::info) && created == (c.want == log_level::debug) &&
       warning == (c.want <= log_level::warn) && err.find("not a log level") == std::string::npos;
  child_exit(ok, std::string("WEFT_LOG=") + c.value + ": threshold " + weft::to_string(weft::current_log_level()) +
                     ", want " + weft::to_string(c.want),
             err);
}

class LogEnvDeathTest : public ::testing::TestWithParam<env_case> {};

TEST_P(LogEnvDeathTest, SetsTheThreshold) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  scoped_env env("WEFT_LOG", GetParam().value);
  EXPECT_EXIT(weft_log_env_child(GetParam()), ::testing::ExitedWithCode(0), "");
}

INSTANTIATE_TEST_SUITE_P(Values, LogEnvDeathTest,
                         ::testing::Values(env_case{"debug", log_level::debug}, env_case{"info", log_level::info},
                                           env_case{"warn", log_level::warn}, env_case{"error", log_level::error},
                                           env_case{"fatal", log_level::fatal}, env_case{"off", log_level::off},
                                           env_case{"ERROR", log_level::error}, env_case{"", log_level::warn}),
                         [](const ::testing::TestParamInfo<env_case>& i) {
                           return std::string(*i.param.value ? i.param.value : "empty") +
                                  (i.param.value[0] >= 'A' && i.param.value[0] <= 'Z' ? "_upper" : "");
                         });

void bad_env_child() {
  std::string err = capture_stderr([] {
    run_one_runtime();                        // first use: the warning, and no engine line (info)
    weft::set_log_level(log_level::warn);     // later uses: no second warning
    (void)weft::current_log_level();
  });
  child_exit(err ==
                     "weft: WEFT_LOG=bo?gus is not a log level (accepted: debug, info, warn, error, fatal, off); "
                     "using warn\n" &&
                 weft::current_log_level() == log_level::warn,
             "want exactly one warning naming the value", err);
}

TEST(LogDeathTest, BadWeftLogWarnsOnceAndKeepsTheDefault) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  scoped_env env("WEFT_LOG", "bo\ngus");  // the warning shows it on one line: bo?gus
  EXPECT_EXIT(bad_env_child(), ::testing::ExitedWithCode(0), "");
}

void set_level_wins_child() {
  // WEFT_LOG=off, but the program asks for info before weft's first message.
  weft::set_log_level(log_level::info);
  std::string err = capture_stderr(run_one_runtime);
  child_exit(err == "weft: I/O engine: epoll (options.io = epoll)\n", "set_log_level did not win over WEFT_LOG", err);
}

TEST(LogDeathTest, SetLogLevelWinsOverWeftLog) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  scoped_env env("WEFT_LOG", "off");
  EXPECT_EXIT(set_level_wins_child(), ::testing::ExitedWithCode(0), "");
}

// ---------------------------------------------------------------- the fatal path

TEST(LogDeathTest, FatalGoesToStderrAndThenToTheHandler) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::set_log_handler([](const weft::log_record& r) {
          std::fprintf(stderr, "handler: %s %.*s: %.*s\n", weft::to_string(r.level),
                       static_cast<int>(r.component.size()), r.component.data(), static_cast<int>(r.message.size()),
                       r.message.data());
        });
        WEFT_FATAL("broken %d", 7);
      },
      "weft: fatal: broken 7\n  in kernel thread [0-9]+, at [^\n]*log_test.cpp:[0-9]+\n"
      "handler: fatal fatal: broken 7 \\(in kernel thread [0-9]+, at [^\n]*log_test.cpp:[0-9]+\\)\n");
}

TEST(LogDeathTest, FatalReachesStderrWhenTheHandlerThrows) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::set_log_handler([](const weft::log_record&) { throw std::runtime_error("no"); });
        WEFT_FATAL("broken %d", 8);
      },
      "weft: fatal: broken 8\n");
}

TEST(LogDeathTest, FatalReachesStderrWhenLoggingIsOff) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::set_log_level(log_level::off);
        weft::set_log_handler([](const weft::log_record&) { std::fprintf(stderr, "handler called\n"); });
        WEFT_FATAL("broken %d", 9);
      },
      // Nothing after the report but, under qemu-user, qemu's own line about
      // the abort: the handler did not run.
      "weft: fatal: broken 9\n  in [^\n]*\n(qemu: [^\n]*\n)?$");
}

}  // namespace
