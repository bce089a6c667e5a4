// The weft::thread handle beyond plain join: std::thread-style arguments to
// spawn, try_join/join_for, and handles that outlive their runtime.
#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;
using weft::thread_state;

class HandleTest : public WorkerCount {};
WEFT_WORKER_COUNTS(HandleTest);

// ---------------------------------------------------------------- spawn(f, args...)

int add(int a, int b) { return a + b; }

struct counter {
  int n = 0;
  int bump(int by) { return n += by; }
};

TEST_P(HandleTest, SpawnPassesArguments) {
  weft::run(opts(), [] {
    EXPECT_EQ(weft::spawn(add, 2, 3).join(), 5);
    EXPECT_EQ(weft::spawn([](std::string a, const std::string& b) { return a + b; }, std::string("ab"), "cd").join(),
              "abcd");
    // Member functions, as std::invoke calls them.
    counter c;
    EXPECT_EQ(weft::spawn(&counter::bump, &c, 4).join(), 4);
    EXPECT_EQ(c.n, 4);
    // No arguments is the plain spawn.
    EXPECT_EQ(weft::spawn([] { return 9; }).join(), 9);
  });
}

TEST_P(HandleTest, ArgumentsAreDecayCopiedByTheSpawner) {
  weft::run(opts(), [] {
    std::string s = "before";
    weft::event go;
    auto t = weft::spawn(
        [&go](std::string copy) {
          go.wait();
          return copy;
        },
        s);
    s = "after";  // the thread holds its own copy, made by spawn()
    go.set();
    EXPECT_EQ(t.join(), "before");

    // std::ref passes a reference, as with std::thread.
    int target = 0;
    weft::spawn([](int& r) { r = 7; }, std::ref(target)).join();
    EXPECT_EQ(target, 7);

    // Move-only arguments are moved in and handed over as rvalues.
    auto p = std::make_unique<int>(11);
    EXPECT_EQ(weft::spawn([](std::unique_ptr<int> q) { return *q; }, std::move(p)).join(), 11);
    EXPECT_EQ(p, nullptr);

    // The copy is made in the spawner: a copy that throws fails the spawn there.
    struct bad_copy {
      bad_copy() = default;
      bad_copy(const bad_copy&) { throw std::runtime_error("no copies"); }
    };
    bad_copy b;
    EXPECT_THROW(weft::spawn([](const bad_copy&) {}, b), std::runtime_error);
  });
}

// Like std::thread, a function taking a non-const reference cannot bind the
// rvalue copy: the call does not compile (no overload), rather than binding
// to a temporary.
template <class F, class... A>
concept spawnable = requires(F f, A... a) { weft::spawn(f, a...); };
static_assert(spawnable<void (*)(int), int>);
static_assert(!spawnable<void (*)(int&), int>);
static_assert(spawnable<void (*)(int&), std::reference_wrapper<int>>);
static_assert(!spawnable<int (*)(int, int), int>);

TEST_P(HandleTest, AttributesAndArgumentsTogether) {
  weft::run(opts(), [] {
    weft::spawn_attrs a;
    a.name = "adder";
    // A spawn_attrs right after the function gives the attributes...
    auto t = weft::spawn(
        [](int x, int y) { return weft::this_thread::name() + std::to_string(x + y); }, a, 1, 2);
    EXPECT_EQ(t.join(), "adder3");
    // ... so the existing forms keep their meaning.
    EXPECT_EQ(weft::spawn([] { return weft::this_thread::name(); }, a).join(), "adder");
    EXPECT_EQ(weft::spawn([] { return weft::this_thread::name(); }, {.name = "braced"}).join(), "braced");
    // Attributes as a later argument are an ordinary argument.
    EXPECT_EQ(weft::spawn([](int, const weft::spawn_attrs& x) { return x.name; }, 0, a).join(), "adder");
  });
}

TEST_P(HandleTest, SpawnInPassesArguments) {
  weft::runtime rt(opts());
  EXPECT_EQ(weft::spawn_in(rt, add, 20, 22).join(), 42);
  EXPECT_EQ(weft::spawn_in(rt, add, {.name = "x"}, 1, 1).join(), 2);
  EXPECT_EQ(weft::spawn_in(rt, [] { return 1; }, {.name = "p", .priority = 3}).join(), 1);
}

// ---------------------------------------------------------------- try_join / join_for

TEST_P(HandleTest, TryJoinDoesNotWait) {
  weft::run(opts(), [] {
    weft::event go;
    auto t = weft::spawn([&] {
      go.wait();
      return 5;
    });
    static_assert(std::is_same_v<decltype(t.try_join()), std::optional<int>>);
    EXPECT_EQ(t.try_join(), std::nullopt);  // blocked on go: not ended
    EXPECT_TRUE(t.joinable());              // and the handle is untouched
    go.set();
    std::optional<int> r;
    ASSERT_TRUE(eventually([&] { return (r = t.try_join()).has_value(); }));
    EXPECT_EQ(*r, 5);
    EXPECT_FALSE(t.joinable());
    EXPECT_WEFT_ERROR(t.try_join(), weft::errc::not_joinable);
  });
}

TEST_P(HandleTest, TryJoinVoidAndReference) {
  weft::run(opts(), [] {
    weft::event go;
    auto v = weft::spawn([&] { go.wait(); });
    static_assert(std::is_same_v<decltype(v.try_join()), bool>);
    EXPECT_FALSE(v.try_join());
    go.set();
    EXPECT_TRUE(eventually([&] { return v.try_join(); }));
    EXPECT_FALSE(v.joinable());

    int target = 1;
    auto r = weft::spawn([&]() -> int& { return target; });
    static_assert(std::is_same_v<decltype(r.join_for(1s)), std::optional<std::reference_wrapper<int>>>);
    auto got = r.join_for(std::chrono::hours::max());
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(&got->get(), &target);
  });
}

TEST_P(HandleTest, JoinForWaitsUntilTheThreadEnds) {
  weft::run(opts(), [] {
    weft::event go;
    auto t = weft::spawn([&] {
      go.wait();
      return std::string("done");
    });
    auto waiter = weft::spawn([&] { return t.join_for(std::chrono::seconds::max()); });
    // The waiter parks in join until t ends (a forever timeout is no timeout).
    EXPECT_TRUE(eventually([&] {
      auto i = info_of(waiter.id());
      return i && i->state == thread_state::blocked && i->waiting_for == weft::wait_reason::join;
    }));
    go.set();
    EXPECT_EQ(waiter.join(), std::optional<std::string>("done"));
    EXPECT_FALSE(t.joinable());  // joined through join_for, in the waiter
  });
}

TEST_P(HandleTest, JoinForGivesUpAtItsDeadline) {
  weft::run(opts(), [] {
    weft::event go;
    auto t = weft::spawn([&] { go.wait(); });
    EXPECT_FALSE(t.join_for(1ms));
    EXPECT_FALSE(t.join_for(0s));  // a poll, like try_join
    EXPECT_TRUE(t.joinable());
    go.set();
    EXPECT_TRUE(t.join_for(std::chrono::duration<long, std::ratio<86400 * 365>>::max()));
  });
}

TEST_P(HandleTest, JoinForRejectsBadTimeouts) {
  weft::run(opts(), [] {
    auto t = weft::spawn([] {});
    EXPECT_WEFT_ERROR(t.join_for(-1ms), weft::errc::invalid_argument);
    EXPECT_WEFT_ERROR(t.join_for(std::chrono::hours::min()), weft::errc::invalid_argument);
    EXPECT_WEFT_ERROR(t.join_for(std::chrono::duration<double>(std::nan(""))), weft::errc::invalid_argument);
    EXPECT_TRUE(t.joinable());  // a rejected call leaves the handle as it was
    t.join();
    EXPECT_WEFT_ERROR(t.join_for(1s), weft::errc::not_joinable);
  });
}

TEST_P(HandleTest, TimedJoinsRethrowAndRejectSelf) {
  weft::run(opts(), [] {
    auto t = weft::spawn([]() -> int { throw std::logic_error("bad"); });
    EXPECT_THROW((void)t.join_for(std::chrono::hours::max()), std::logic_error);
    EXPECT_FALSE(t.joinable());
    auto u = weft::spawn([]() -> int { throw std::logic_error("worse"); });
    EXPECT_THROW(eventually([&] { return u.try_join().has_value(); }), std::logic_error);

    weft::thread<void> self;
    weft::event ready;
    self = weft::spawn([&] {
      ready.wait();
      EXPECT_WEFT_ERROR(self.try_join(), weft::errc::deadlock);
      EXPECT_WEFT_ERROR(self.join_for(1s), weft::errc::deadlock);
    });
    ready.set();
    self.join();
  });
}

TEST(Handle, ForeignThreadJoinFor) {
  weft::runtime rt({.workers = 2});
  weft::event go;
  auto t = weft::spawn_in(rt, [&] {
    go.wait();
    return 3;
  });
  EXPECT_EQ(t.join_for(1ms), std::nullopt);
  std::thread setter([&] { go.set(); });
  EXPECT_EQ(t.join_for(std::chrono::hours::max()), std::optional<int>(3));
  setter.join();
}

// ---------------------------------------------------------------- handles that outlive the runtime

TEST(HandleOutlivesRuntime, JoinThrowsShutDown) {
  weft::thread<int> h;
  weft::thread_id id = 0;
  {
    weft::runtime rt({.workers = 2});
    h = weft::spawn_in(rt, [] { return 1; });
    id = h.id();
  }
  EXPECT_TRUE(h.joinable());
  EXPECT_EQ(h.id(), id);
  try {
    h.join();
    ADD_FAILURE() << "join after the runtime's end returned";
  } catch (const weft::error& e) {
    EXPECT_EQ(e.code(), weft::errc::shut_down);
    std::string m = e.what();
    EXPECT_NE(m.find("join: the runtime of green thread " + std::to_string(id) + " has been destroyed"),
              std::string::npos)
        << m;
  }
  EXPECT_FALSE(h.joinable());  // the handle let go
  EXPECT_WEFT_ERROR(h.join(), weft::errc::not_joinable);
}

TEST(HandleOutlivesRuntime, TimedJoinsThrowShutDown) {
  weft::thread<std::string> a, b;
  {
    weft::runtime rt({.workers = 1});
    a = weft::spawn_in(rt, [] { return std::string(100, 'x'); });  // its result dies with the runtime
    b = weft::spawn_in(rt, [] { return std::string("y"); });
  }
  EXPECT_WEFT_ERROR(a.try_join(), weft::errc::shut_down);
  EXPECT_WEFT_ERROR(b.join_for(1s), weft::errc::shut_down);
  EXPECT_FALSE(a.joinable());
  EXPECT_FALSE(b.joinable());
}

TEST(HandleOutlivesRuntime, DetachAndDestroyLetGo) {
  std::vector<weft::thread<int>> hs;
  weft::thread<void> moved_into;
  {
    weft::runtime rt({.workers = 2});
    for (int i = 0; i < 20; ++i) hs.push_back(weft::spawn_in(rt, [i] { return i; }));
    moved_into = weft::spawn_in(rt, [] {});
  }
  hs[0].detach();
  EXPECT_FALSE(hs[0].joinable());
  weft::thread<void> other = std::move(moved_into);
  other = weft::thread<void>();  // move-assigning over a dead runtime's handle lets it go
  hs.clear();                    // destroying them does too
}

// Handles of a dead runtime next to a new one: the new runtime's handles work,
// the old ones fail, in any order.
TEST(HandleOutlivesRuntime, NewRuntimeIsUnaffected) {
  weft::thread<int> old_handle;
  {
    weft::runtime rt({.workers = 1});
    old_handle = weft::spawn_in(rt, [] { return 1; });
  }
  weft::runtime rt2({.workers = 2});
  auto fresh = weft::spawn_in(rt2, [] { return 2; });
  EXPECT_WEFT_ERROR(old_handle.join(), weft::errc::shut_down);
  EXPECT_EQ(fresh.join(), 2);
  // A green thread of another runtime gets the same answer.
  weft::thread<int> old2;
  {
    weft::runtime rt3({.workers = 1});
    old2 = weft::spawn_in(rt3, [] { return 3; });
  }
  auto asker = weft::spawn_in(rt2, [&] {
    try {
      old2.join();
    } catch (const weft::error& e) {
      return e.code() == weft::errc::shut_down;
    }
    return false;
  });
  EXPECT_TRUE(asker.join());
}

// A result that is itself a handle of the same runtime: freeing the outer
// result at the runtime's end lets go of the inner one.
TEST(HandleOutlivesRuntime, ResultHoldingAHandle) {
  weft::thread<weft::thread<int>> outer;
  {
    weft::runtime rt({.workers = 2});
    outer = weft::spawn_in(rt, [] { return weft::spawn([] { return 5; }); });
  }
  EXPECT_WEFT_ERROR(outer.join(), weft::errc::shut_down);
}

// Joins from kernel threads while another thread destroys the runtime: each
// join either returns the value (the runtime was still there) or throws
// shut_down; none touches freed memory (ASan and TSan check that).
TEST(HandleOutlivesRuntime, JoinRacingTheRuntimesEnd) {
  for (int round = 0; round < 20; ++round) {
    constexpr int n = 4;
    std::vector<weft::thread<int>> hs(n);
    auto rt = std::make_unique<weft::runtime>(weft::options{.workers = 2});
    weft::event go;
    for (int i = 0; i < n; ++i)
      hs[i] = weft::spawn_in(*rt, [&go, i] {
        go.wait();
        return i;
      });
    std::atomic<int> ok{0}, gone{0};
    std::vector<std::thread> joiners;
    for (int i = 0; i < n; ++i)
      joiners.emplace_back([&, i] {
        try {
          if (hs[i].join() == i) ok.fetch_add(1);
        } catch (const weft::error& e) {
          if (e.code() == weft::errc::shut_down) gone.fetch_add(1);
        }
      });
    std::thread killer([&] { rt.reset(); });  // waits for the threads, then ends
    go.set();
    killer.join();
    for (auto& j : joiners) j.join();
    EXPECT_EQ(ok.load() + gone.load(), n);
  }
}

TEST(HandleOutlivesRuntimeDeathTest, UnjoinedExceptionIsReportedAtTheRuntimesEnd) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::thread<void> h;
        {
          weft::runtime rt({.workers = 1});
          h = weft::spawn_in(rt, [] { throw std::runtime_error("outlived"); }, {.name = "orphan"});
        }
      },
      "green thread [0-9]+ 'orphan' ended with an uncaught exception that nobody joins: outlived");
}

}  // namespace
