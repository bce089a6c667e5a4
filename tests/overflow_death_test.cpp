// Stack overflow in a green thread is reported with the thread's id and name
// and aborts: through the guard page (SIGSEGV on the alternate signal stack)
// while guarded stacks last, through the canary at the next switch past that
// budget.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/tcb.hpp"
#include "test_support.hpp"
#include "core/worker.hpp"

namespace {

using namespace weft_test;

volatile bool g_stop_recursion = false;

// Unbounded recursion the optimizer cannot turn into a loop: each frame
// keeps live data that is read after the call returns.
__attribute__((noinline)) int recurse(int depth) {
  volatile char pad[256];
  pad[0] = static_cast<char>(depth);
  if (g_stop_recursion) return pad[0];
  return recurse(depth + 1) + pad[0];
}

TEST(OverflowDeathTest, GuardPageReportsTheThread) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::runtime rt({.workers = 1});
        weft::spawn_attrs a;
        a.name = "deep";
        weft::spawn_in(rt, [] { return recurse(0); }, a).join();
      },
      "stack overflow in green thread [0-9]+ 'deep' \\(stack of [0-9]+ bytes, guard page hit\\)");
}

TEST(OverflowDeathTest, GuardPageOnALargerStack) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::runtime rt({.workers = 2});
        weft::spawn_attrs a;
        a.name = "deeper";
        a.stack_size = 256 * 1024;
        weft::spawn_in(rt, [] { return recurse(0); }, a).join();
      },
      "stack overflow in green thread [0-9]+ 'deeper'");
}

constexpr std::size_t test_stack = 64 * 1024;

// Uses the stack down to its last 8 KiB (room for memset's own frame, which
// is large under ASan), then dirties the bottom 64 bytes
// (the canary zone) as one more frame would have, and returns normally.
__attribute__((noinline)) void dig(char* lo) {
  volatile char frame[512];
  frame[0] = 1;
  auto* here = static_cast<char*>(__builtin_frame_address(0));
  if (here - lo > 8192) {
    dig(lo);
    frame[1] = frame[0];
    return;
  }
  std::memset(lo, 0x5a, 64);
}

TEST(OverflowDeathTest, CanaryCheckedStackIsReportedAtTheNextSwitch) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::options o;
        o.workers = 1;
        o.stack_size = test_stack;
        o.max_guarded_stacks = 1;  // the second live stack is canary-checked
        weft::runtime rt(o);
        weft::event release;
        auto holder = weft::spawn_in(rt, [&] { release.wait(); });  // takes the one guarded stack
        weft::spawn_attrs a;
        a.name = "canary-victim";
        weft::spawn_in(
            rt,
            [] {
              weft::detail::stack s = weft::detail::current_tcb()->stk();
              if (s.guarded) std::abort();  // the test's premise broke: say so by the wrong death
              dig(s.lo);
              weft::this_thread::yield();  // the canary is checked here
            },
            a)
            .join();
        release.set();
      },
      "stack overflow in green thread [0-9]+ 'canary-victim' \\(stack of [0-9]+ bytes, canary damaged\\)");
}

// Past the guard budget stacks are canary-checked; threads that stay inside
// their stacks must never trip it.
TEST(Overflow, CanaryStacksWorkForWellBehavedThreads) {
  weft::options o;
  o.workers = 2;
  o.max_guarded_stacks = 4;
  weft::runtime rt(o);
  weft::event release;
  std::vector<weft::thread<int>> ts;
  for (int i = 0; i < 200; ++i)
    ts.push_back(weft::spawn_in(rt, [&] {
      volatile char buf[16 * 1024];
      buf[0] = 1;
      release.wait();
      weft::this_thread::yield();
      return static_cast<int>(buf[0]);
    }));
  release.set();
  int sum = 0;
  for (auto& t : ts) sum += t.join();
  EXPECT_EQ(sum, 200);
}

}  // namespace
