// Each green thread has its own exceptions in flight (base/eh_state.hpp):
// a thread that waits inside a catch block, or in a destructor during
// unwinding, finds its exception as it left it, and other threads on the
// same worker meanwhile see none of it.
#include <exception>
#include <stdexcept>
#include <string>

#include "test_support.hpp"

namespace {

using namespace weft_test;

std::string what_of(std::exception_ptr p) {
  try {
    std::rethrow_exception(p);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "?";
  }
}

class ExceptionSwitch : public WorkerCount {};

TEST_P(ExceptionSwitch, CatchBlocksThatWaitKeepTheirOwnException) {
  weft::run(opts(), [] {
    weft::event a_caught, b_caught;
    std::string a_after, b_after;
    int a_uncaught = -1, b_uncaught = -1;
    auto a = weft::spawn([&] {
      try {
        throw std::runtime_error("a");
      } catch (const std::exception& e) {
        a_caught.set();
        b_caught.wait();  // parks inside the handler while b is in its own
        a_after = std::string(e.what()) + "/" + what_of(std::current_exception());
        a_uncaught = std::uncaught_exceptions();
      }
    });
    auto b = weft::spawn([&] {
      a_caught.wait();
      try {
        throw std::runtime_error("b");
      } catch (const std::exception& e) {
        b_caught.set();
        weft::this_thread::yield();
        weft::this_thread::sleep_for(std::chrono::microseconds(100));
        b_after = std::string(e.what()) + "/" + what_of(std::current_exception());
        b_uncaught = std::uncaught_exceptions();
      }
    });
    a.join();
    b.join();
    EXPECT_EQ(a_after, "a/a");
    EXPECT_EQ(b_after, "b/b");
    EXPECT_EQ(a_uncaught, 0);
    EXPECT_EQ(b_uncaught, 0);
    EXPECT_FALSE(std::current_exception());
  });
}

// A destructor that waits while its frame unwinds: std::uncaught_exceptions()
// is 1 there and stays 1 after the wait, while another thread sees 0.
struct waits_in_destructor {
  weft::event& entered;
  weft::event& go_on;
  int& before;
  int& after;
  ~waits_in_destructor() {
    before = std::uncaught_exceptions();
    entered.set();
    go_on.wait();
    after = std::uncaught_exceptions();
  }
};

TEST_P(ExceptionSwitch, UnwindingThatWaitsKeepsItsUncaughtCount) {
  weft::run(opts(), [] {
    weft::event entered, go_on;
    int before = -1, after = -1, other = -1;
    bool caught = false;
    auto unwinder = weft::spawn([&] {
      try {
        waits_in_destructor w{entered, go_on, before, after};
        throw 42;
      } catch (int v) {
        caught = v == 42;
      }
    });
    auto observer = weft::spawn([&] {
      entered.wait();
      other = std::uncaught_exceptions();
      go_on.set();
    });
    unwinder.join();
    observer.join();
    EXPECT_TRUE(caught);
    EXPECT_EQ(before, 1);
    EXPECT_EQ(after, 1);
    EXPECT_EQ(other, 0);
  });
}

// Many threads throwing, catching and switching inside handlers at once:
// every one sees only its own exception.
TEST_P(ExceptionSwitch, ManyHandlersInterleaved) {
  constexpr int n = 200 / spawn_scale_down + 8;
  std::vector<int> ok(n, 0);
  weft::run(opts(), [&] {
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < n; ++i)
      ts.push_back(weft::spawn([&ok, i] {
        for (int round = 0; round < 5; ++round) {
          try {
            throw std::runtime_error(std::to_string(i));
          } catch (const std::exception&) {
            weft::this_thread::yield();
            if (what_of(std::current_exception()) == std::to_string(i) && std::uncaught_exceptions() == 0) ++ok[i];
          }
        }
      }));
    for (auto& t : ts) t.join();
  });
  for (int i = 0; i < n; ++i) EXPECT_EQ(ok[i], 5) << "thread " << i;
}

WEFT_WORKER_COUNTS(ExceptionSwitch);

}  // namespace
