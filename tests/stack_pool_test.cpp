// The stack pool's layout promises (stack/stack_pool.hpp): guarded stacks
// while the budget lasts, then slab stacks whose canary shares a page with
// the top of the stack below, so checking it costs no page of its own.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include <unistd.h>

#include "stack/stack_pool.hpp"

namespace {

using weft::detail::canary_bytes;
using weft::detail::stack;
using weft::detail::stack_pool;

std::uintptr_t addr(const char* p) { return reinterpret_cast<std::uintptr_t>(p); }

TEST(StackPool, GuardedWhileTheBudgetLastsThenSlabStacks) {
  stack_pool pool(64 * 1024, 2);
  std::vector<stack> got;
  for (int i = 0; i < 5; ++i) got.push_back(pool.take(0));
  ASSERT_TRUE(got[0] && got[1]);
  EXPECT_TRUE(got[0].guarded);
  EXPECT_TRUE(got[1].guarded);
  for (int i = 2; i < 5; ++i) {
    ASSERT_TRUE(got[i]) << i;
    EXPECT_FALSE(got[i].guarded) << i;
    EXPECT_TRUE(got[i].from_slab) << i;
    EXPECT_EQ(got[i].size, pool.default_size()) << i;
  }
  for (auto& s : got) pool.give(s);
}

TEST(StackPool, SlabCanaryEndsOnAPageBoundarySoItSharesTheStackBelowsTopPage) {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  stack_pool pool(64 * 1024, 1);
  std::vector<stack> got;
  for (int i = 0; i < 8; ++i) got.push_back(pool.take(0));
  for (int i = 1; i < 8; ++i) {
    ASSERT_TRUE(got[i]);
    ASSERT_FALSE(got[i].guarded);
    // The canary [lo, lo+64) is the last 64 bytes of a page...
    EXPECT_EQ((addr(got[i].lo) + canary_bytes) % page, 0u) << i;
    EXPECT_TRUE(stack_pool::canary_intact(got[i])) << i;
  }
  // ...and that page holds the top of the previous slab stack.
  for (int i = 2; i < 8; ++i) {
    const char* below_top = got[i - 1].lo + got[i - 1].size;
    EXPECT_EQ(below_top, got[i].lo) << i;
    EXPECT_EQ((addr(below_top) - 1) / page, addr(got[i].lo) / page) << i;
  }
  for (auto& s : got) pool.give(s);
}

TEST(StackPool, DamagedCanaryIsSeen) {
  stack_pool pool(64 * 1024, 1);
  stack guarded = pool.take(0);
  stack s = pool.take(0);
  ASSERT_TRUE(s);
  ASSERT_FALSE(s.guarded);
  EXPECT_TRUE(stack_pool::canary_intact(s));
  s.lo[canary_bytes - 1] = 1;
  EXPECT_FALSE(stack_pool::canary_intact(s));
  s.lo[canary_bytes - 1] = 0;
  EXPECT_TRUE(stack_pool::canary_intact(s));
  pool.give(s);
  pool.give(guarded);
}

}  // namespace
