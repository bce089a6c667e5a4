// join: values and exceptions, misuse (self, twice, empty), join_any (the
// waitpid(-1) analogue), orphans passing to the root, and what happens to
// exceptions nobody will see.
#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;

class JoinTest : public WorkerCount {};
WEFT_WORKER_COUNTS(JoinTest);

struct custom_error {
  int code;
};

TEST_P(JoinTest, ExceptionsPassThroughJoin) {
  weft::runtime rt(opts());
  auto a = weft::spawn_in(rt, []() -> int { throw std::runtime_error("boom in green"); });
  auto b = weft::spawn_in(rt, [] { throw custom_error{17}; });
  try {
    a.join();
    ADD_FAILURE() << "join did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom in green");
  }
  EXPECT_FALSE(a.joinable());
  try {
    b.join();
    ADD_FAILURE() << "join did not rethrow";
  } catch (const custom_error& e) {
    EXPECT_EQ(e.code, 17);
  }
}

TEST_P(JoinTest, ExceptionAfterBlockingPassesThroughJoin) {
  weft::run(opts(), [] {
    weft::mutex m;
    auto t = weft::spawn([&] {
      std::lock_guard lk(m);
      weft::this_thread::sleep_for(1ms);
      throw std::logic_error("after sleeping");
    });
    EXPECT_THROW(t.join(), std::logic_error);
    EXPECT_TRUE(m.try_lock());  // the guard released it while unwinding
    m.unlock();
  });
}

TEST_P(JoinTest, JoiningSelfIsADeadlockError) {
  weft::runtime rt(opts());
  weft::thread<void> h;
  weft::event handle_ready;
  h = weft::spawn_in(rt, [&] {
    handle_ready.wait();
    EXPECT_WEFT_ERROR(h.join(), weft::errc::deadlock);
    EXPECT_TRUE(h.joinable());  // a failed join leaves the handle as it was
  });
  handle_ready.set();
  h.join();
}

TEST_P(JoinTest, JoiningTwiceIsNotJoinable) {
  weft::runtime rt(opts());
  auto t = weft::spawn_in(rt, [] { return 1; });
  EXPECT_EQ(t.join(), 1);
  EXPECT_WEFT_ERROR(t.join(), weft::errc::not_joinable);
  EXPECT_WEFT_ERROR(t.detach(), weft::errc::not_joinable);
}

TEST_P(JoinTest, JoiningADetachedHandleIsNotJoinable) {
  weft::runtime rt(opts());
  auto t = weft::spawn_in(rt, [] {});
  t.detach();
  EXPECT_WEFT_ERROR(t.join(), weft::errc::not_joinable);
  EXPECT_WEFT_ERROR(t.detach(), weft::errc::not_joinable);
}

TEST_P(JoinTest, JoinFromForeignThreadWaitsForAGreenThread) {
  weft::runtime rt(opts());
  auto t = weft::spawn_in(rt, [] {
    weft::this_thread::sleep_for(10ms);
    return 5;
  });
  std::thread foreign([&] { EXPECT_EQ(t.join(), 5); });
  foreign.join();
}

TEST_P(JoinTest, JoinAnyReapsEveryChildOnce) {
  weft::run(opts(), [] {
    std::vector<weft::thread<int>> kids;
    std::set<weft::thread_id> ids;
    for (int i = 0; i < 20; ++i) {
      kids.push_back(weft::spawn([i] {
        weft::this_thread::sleep_for(std::chrono::microseconds(100 * (i % 5)));
        return i;
      }));
      ids.insert(kids.back().id());
    }
    std::set<weft::thread_id> reaped;
    for (int i = 0; i < 20; ++i) {
      weft::thread_id id = weft::join_any();
      EXPECT_TRUE(ids.count(id)) << id;
      EXPECT_TRUE(reaped.insert(id).second) << "reaped twice: " << id;
      EXPECT_EQ(state_of(id), weft::thread_state::terminated);
    }
    EXPECT_WEFT_ERROR(weft::join_any(), weft::errc::no_child);
    // Reaped children keep their results for their handles.
    for (int i = 0; i < 20; ++i) EXPECT_EQ(kids[i].join(), i);
  });
}

TEST_P(JoinTest, JoinAnyReturnsTheFirstChildToEnd) {
  weft::run(opts(), [] {
    weft::event release_slow;
    auto slow = weft::spawn([&] { release_slow.wait(); });
    auto fast = weft::spawn([] {});
    EXPECT_EQ(weft::join_any(), fast.id());
    release_slow.set();
    EXPECT_EQ(weft::join_any(), slow.id());
    slow.join();
    fast.join();
  });
}

TEST_P(JoinTest, JoinAnyWithoutChildrenIsNoChild) {
  weft::run(opts(), [] { EXPECT_WEFT_ERROR(weft::join_any(), weft::errc::no_child); });
}

TEST_P(JoinTest, JoinedAndDetachedChildrenAreNotJoinAnyCandidates) {
  weft::run(opts(), [] {
    auto joined = weft::spawn([] {});
    joined.join();
    weft::spawn([] {}).detach();
    EXPECT_WEFT_ERROR(weft::join_any(), weft::errc::no_child);
  });
}

TEST_P(JoinTest, JoinAnyFromAForeignThreadReapsForeignSpawns) {
  weft::runtime rt(opts());
  auto a = weft::spawn_in(rt, [] { return 1; });
  auto b = weft::spawn_in(rt, [] { return 2; });
  std::set<weft::thread_id> got{weft::join_any(), weft::join_any()};
  EXPECT_EQ(got, (std::set<weft::thread_id>{a.id(), b.id()}));
  EXPECT_WEFT_ERROR(weft::join_any(), weft::errc::no_child);
  EXPECT_EQ(a.join() + b.join(), 3);
}

TEST_P(JoinTest, OrphansPassToTheRoot) {
  weft::run(opts(), [] {
    weft::thread_id root = weft::this_thread::id();
    // Shared: the detached grandchild below is never joined and may still be
    // inside wait() when this function returns, so it keeps the event alive
    // (a stack event here was a use after scope: it hung 1 run in ~100 under TSan).
    auto release_owner = std::make_shared<weft::event>();
    weft::event& release = *release_owner;
    weft::thread_id grandchild = 0;
    auto parent = weft::spawn([&] {
      auto g = weft::spawn([keep = release_owner] { keep->wait(); });
      grandchild = g.id();
      EXPECT_EQ(info_of(grandchild)->parent, weft::this_thread::id());
      g.detach();
      // Detached: not a child any more, so it cannot be an orphan either.
      auto orphan = weft::spawn([&] {
        release.wait();
        return 9;
      });
      grandchild = orphan.id();
      // Handing the handle up keeps it joinable by the root.
      return orphan;
    });
    weft::thread_id parent_id = parent.id();
    auto orphan = parent.join();
    ASSERT_TRUE(eventually([&] { return !info_of(parent_id).has_value(); }));
    auto info = info_of(grandchild);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->parent, root);
    auto root_info = info_of(root);
    ASSERT_TRUE(root_info.has_value());
    EXPECT_NE(std::find(root_info->children.begin(), root_info->children.end(), grandchild),
              root_info->children.end());
    release.set();
    // The root reaps its adopted child like its own.
    EXPECT_EQ(weft::join_any(), grandchild);
    EXPECT_EQ(orphan.join(), 9);
  });
}

TEST_P(JoinTest, FinishedOrphansPassToTheRootToo) {
  weft::run(opts(), [] {
    weft::thread_id root = weft::this_thread::id();
    auto parent = weft::spawn([] {
      auto kid = weft::spawn([] { return 4; });
      EXPECT_TRUE(reaches(kid.id(), weft::thread_state::terminated));
      return kid;  // a terminated, unjoined child outlives its parent
    });
    auto kid = parent.join();
    auto info = info_of(kid.id());
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->state, weft::thread_state::terminated);
    EXPECT_EQ(info->parent, root);
    EXPECT_EQ(weft::join_any(), kid.id());
    EXPECT_EQ(kid.join(), 4);
  });
}

TEST_P(JoinTest, WithoutARootOrphansHaveNoParent) {
  weft::runtime rt(opts());
  weft::event release;
  auto parent = weft::spawn_in(rt, [&] { return weft::spawn([&] { release.wait(); }); });
  weft::thread_id parent_id = parent.id();
  auto kid = parent.join();
  ASSERT_TRUE(eventually([&] { return !find_info(rt.snapshot(), parent_id).has_value(); }));
  auto info = find_info(rt.snapshot(), kid.id());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->parent, 0u);
  release.set();
  kid.join();
}

TEST(JoinDeathTest, DetachedThreadsExceptionIsReportedNotLost) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::runtime rt({.workers = 1});
        weft::spawn_attrs a;
        a.name = "thrower";
        weft::spawn_in(rt, [] { throw std::runtime_error("lost exception"); }, a).detach();
      },
      "green thread [0-9]+ 'thrower' ended with an uncaught exception that nobody joins: lost exception");
}

TEST(JoinDeathTest, DestroyedHandlesExceptionIsReportedNotLost) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::runtime rt({.workers = 1});
        auto t = weft::spawn_in(rt, [] { throw std::runtime_error("nobody joined me"); });
      },
      "ended with an uncaught exception that nobody joins: nobody joined me");
}

}  // namespace
