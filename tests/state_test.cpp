// The seven-state model: every legal transition is observable in a
// snapshot, every illegal request is rejected with weft::error(invalid_state)
// (or no_such_thread) and leaves the thread as it was.
//
//   created -> ready -> running -> terminated
//                ^  <-yield-- |
//                |            v
//                +--wake-- blocked
//   ready   <-> suspended_ready      blocked <-> suspended_blocked
//   suspended_blocked --event--> suspended_ready
//
// One worker makes "ready" observable: a spawned thread cannot run while the
// spawning green thread keeps the only worker.
#include <atomic>
#include <string>

#include "test_support.hpp"

namespace {

using namespace weft_test;
using weft::thread_state;

weft::options one_worker() {
  weft::options o;
  o.workers = 1;
  return o;
}

std::string what_of(void (*fn)(weft::thread_id), weft::thread_id id) {
  try {
    fn(id);
  } catch (const weft::error& e) {
    return e.what();
  }
  return "no error";
}

TEST(State, CreatedThreadCannotBeSuspendedOrResumed) {
  weft::runtime rt(one_worker());
  // tcb_create/tcb_abandon are the two halves of spawn(); between them the
  // TCB is in `created`, which nothing may move but admission.
  weft::detail::tcb* t = weft::detail::tcb_create(&rt, {}, 16, 8);
  weft::thread_id id = weft::detail::tcb_id(t);
  EXPECT_EQ(find_info(rt.snapshot(), id)->state, thread_state::created);
  EXPECT_WEFT_ERROR(weft::suspend(id), weft::errc::invalid_state);
  EXPECT_WEFT_ERROR(weft::resume(id), weft::errc::invalid_state);
  EXPECT_EQ(find_info(rt.snapshot(), id)->state, thread_state::created);
  weft::detail::tcb_abandon(t);
  EXPECT_FALSE(find_info(rt.snapshot(), id).has_value());
}

TEST(State, SpawnedThreadIsReadyUntilTheWorkerIsFree) {
  weft::run(one_worker(), [] {
    std::atomic<bool> ran{false};
    auto t = weft::spawn([&] { ran.store(true); });
    EXPECT_EQ(state_of(t.id()), thread_state::ready);
    EXPECT_FALSE(ran.load());
    t.join();
    EXPECT_TRUE(ran.load());
  });
}

TEST(State, RunningThreadSeesItselfRunning) {
  weft::run(one_worker(), [] { EXPECT_EQ(state_of(weft::this_thread::id()), thread_state::running); });
}

TEST(State, YieldingThreadGoesBackToReady) {
  weft::run(one_worker(), [] {
    weft::thread_id main_id = weft::this_thread::id();
    // The child runs while main is ready (main yielded to it).
    auto t = weft::spawn([main_id] { return state_of(main_id); });
    weft::this_thread::yield();
    EXPECT_EQ(t.join(), thread_state::ready);
  });
}

TEST(State, BlockedUntilWokenThenTerminatedUntilJoined) {
  weft::runtime rt(one_worker());
  weft::event ev;
  auto t = weft::spawn_in(rt, [&] { ev.wait(); });
  weft::thread_id id = t.id();
  ASSERT_TRUE(reaches(id, thread_state::blocked));
  EXPECT_EQ(info_of(id)->waiting_for, weft::wait_reason::event);
  ev.set();
  ASSERT_TRUE(reaches(id, thread_state::terminated));
  EXPECT_EQ(info_of(id)->waiting_for, weft::wait_reason::none);
  t.join();
}

TEST(State, SuspendReadyAndResume) {
  weft::run(one_worker(), [] {
    std::atomic<bool> ran{false};
    auto t = weft::spawn([&] { ran.store(true); });
    weft::thread_id id = t.id();
    weft::suspend(id);  // ready -> suspended_ready
    EXPECT_EQ(state_of(id), thread_state::suspended_ready);
    // Give the worker many chances to run it: it must not.
    for (int i = 0; i < 100; ++i) weft::this_thread::yield();
    weft::this_thread::sleep_for(2ms);
    EXPECT_FALSE(ran.load());
    EXPECT_EQ(state_of(id), thread_state::suspended_ready);
    weft::resume(id);  // suspended_ready -> ready
    t.join();
    EXPECT_TRUE(ran.load());
  });
}

TEST(State, SuspendedBlockedBecomesSuspendedReadyWhenItsEventComes) {
  weft::runtime rt(one_worker());
  weft::event ev;
  std::atomic<bool> past_wait{false};
  auto t = weft::spawn_in(rt, [&] {
    ev.wait();
    past_wait.store(true);
  });
  weft::thread_id id = t.id();
  ASSERT_TRUE(reaches(id, thread_state::blocked));
  weft::suspend(id);  // blocked -> suspended_blocked
  EXPECT_EQ(state_of(id), thread_state::suspended_blocked);
  EXPECT_EQ(info_of(id)->waiting_for, weft::wait_reason::event);
  ev.set();  // suspended_blocked -> suspended_ready
  ASSERT_TRUE(reaches(id, thread_state::suspended_ready));
  weft::this_thread::sleep_for(5ms);
  EXPECT_FALSE(past_wait.load());
  weft::resume(id);  // suspended_ready -> ready -> running
  t.join();
  EXPECT_TRUE(past_wait.load());
}

TEST(State, ResumeBeforeTheEventReturnsToBlocked) {
  weft::runtime rt(one_worker());
  weft::event ev;
  auto t = weft::spawn_in(rt, [&] { ev.wait(); });
  weft::thread_id id = t.id();
  ASSERT_TRUE(reaches(id, thread_state::blocked));
  weft::suspend(id);
  EXPECT_EQ(state_of(id), thread_state::suspended_blocked);
  weft::resume(id);  // suspended_blocked -> blocked
  EXPECT_EQ(state_of(id), thread_state::blocked);
  ev.set();
  t.join();
}

TEST(State, RunningThreadSuspendsItself) {
  weft::runtime rt(one_worker());
  std::atomic<int> step{0};
  auto t = weft::spawn_in(rt, [&] {
    step.store(1);
    weft::this_thread::suspend();  // running -> suspended_ready
    step.store(2);
  });
  weft::thread_id id = t.id();
  ASSERT_TRUE(reaches(id, thread_state::suspended_ready));
  EXPECT_EQ(step.load(), 1);
  weft::resume(id);
  t.join();
  EXPECT_EQ(step.load(), 2);
}

TEST(State, IllegalSuspendsAreRejected) {
  weft::runtime rt(one_worker());
  weft::event ev;
  auto blocked = weft::spawn_in(rt, [&] { ev.wait(); });
  auto done = weft::spawn_in(rt, [] {});
  ASSERT_TRUE(reaches(blocked.id(), thread_state::blocked));
  ASSERT_TRUE(reaches(done.id(), thread_state::terminated));

  EXPECT_WEFT_ERROR(weft::suspend(done.id()), weft::errc::invalid_state);
  EXPECT_NE(what_of(&weft::suspend, done.id()).find("terminated"), std::string::npos);

  weft::suspend(blocked.id());
  EXPECT_WEFT_ERROR(weft::suspend(blocked.id()), weft::errc::invalid_state);
  EXPECT_NE(what_of(&weft::suspend, blocked.id()).find("already suspended"), std::string::npos);
  EXPECT_EQ(state_of(blocked.id()), thread_state::suspended_blocked);
  weft::resume(blocked.id());
  ev.set();
  blocked.join();
  done.join();
}

TEST(State, IllegalResumesAreRejected) {
  weft::run(one_worker(), [] {
    weft::event ev;
    auto ready = weft::spawn([] {});
    // ready
    EXPECT_WEFT_ERROR(weft::resume(ready.id()), weft::errc::invalid_state);
    EXPECT_NE(what_of(&weft::resume, ready.id()).find("not suspended"), std::string::npos);
    // running (the caller itself)
    EXPECT_WEFT_ERROR(weft::resume(weft::this_thread::id()), weft::errc::invalid_state);
    auto blocked = weft::spawn([&] { ev.wait(); });
    EXPECT_TRUE(reaches(ready.id(), thread_state::terminated));
    EXPECT_TRUE(reaches(blocked.id(), thread_state::blocked));
    // blocked
    EXPECT_WEFT_ERROR(weft::resume(blocked.id()), weft::errc::invalid_state);
    // terminated
    EXPECT_WEFT_ERROR(weft::resume(ready.id()), weft::errc::invalid_state);
    EXPECT_EQ(state_of(blocked.id()), thread_state::blocked);
    ev.set();
    blocked.join();
    ready.join();
  });
}

TEST(State, UnknownIdsAreRejected) {
  weft::runtime rt(one_worker());
  EXPECT_WEFT_ERROR(weft::suspend(987654321), weft::errc::no_such_thread);
  EXPECT_WEFT_ERROR(weft::resume(987654321), weft::errc::no_such_thread);
  auto t = weft::spawn_in(rt, [] {});
  weft::thread_id id = t.id();
  t.join();
  ASSERT_TRUE(eventually([&] { return !find_info(rt.snapshot(), id).has_value(); }));
  EXPECT_WEFT_ERROR(weft::suspend(id), weft::errc::no_such_thread);
}

TEST(State, StartSuspendedWaitsForResume) {
  weft::runtime rt(one_worker());
  std::atomic<bool> ran{false};
  weft::spawn_attrs a;
  a.start_suspended = true;
  auto t = weft::spawn_in(rt, [&] { ran.store(true); }, a);
  EXPECT_EQ(find_info(rt.snapshot(), t.id())->state, thread_state::suspended_ready);
  weft::this_thread::sleep_for(5ms);
  EXPECT_FALSE(ran.load());
  weft::resume(t.id());
  t.join();
  EXPECT_TRUE(ran.load());
}

TEST(State, StateNamesAndReasons) {
  EXPECT_STREQ(weft::to_string(thread_state::created), "created");
  EXPECT_STREQ(weft::to_string(thread_state::ready), "ready");
  EXPECT_STREQ(weft::to_string(thread_state::running), "running");
  EXPECT_STREQ(weft::to_string(thread_state::blocked), "blocked");
  EXPECT_STREQ(weft::to_string(thread_state::terminated), "terminated");
  EXPECT_STREQ(weft::to_string(thread_state::suspended_ready), "suspended_ready");
  EXPECT_STREQ(weft::to_string(thread_state::suspended_blocked), "suspended_blocked");
  EXPECT_STREQ(weft::to_string(weft::wait_reason::none), "none");
  EXPECT_STREQ(weft::to_string(weft::wait_reason::mutex), "mutex");
  EXPECT_STREQ(weft::to_string(weft::wait_reason::sleep), "sleep");
  EXPECT_STREQ(weft::to_string(weft::wait_reason::wait_group), "wait_group");
  EXPECT_STREQ(weft::to_string(weft::wait_reason::suspended), "suspended");
}

}  // namespace
