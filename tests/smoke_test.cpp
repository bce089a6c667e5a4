#include <gtest/gtest.h>

#include <atomic>

#include "weft/weft.hpp"

TEST(Smoke, SpawnJoinValue) {
  weft::runtime rt({.workers = 2});
  auto t = weft::spawn_in(rt, [] { return 42; });
  EXPECT_EQ(t.join(), 42);
}

TEST(Smoke, ManyYields) {
  weft::runtime rt({.workers = 2});
  std::atomic<int> sum{0};
  std::vector<weft::thread<void>> ts;
  for (int i = 0; i < 100; ++i)
    ts.push_back(weft::spawn_in(rt, [&] {
      for (int k = 0; k < 100; ++k) {
        sum.fetch_add(1);
        weft::this_thread::yield();
      }
    }));
  for (auto& t : ts) t.join();
  EXPECT_EQ(sum.load(), 10000);
}
