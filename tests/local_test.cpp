// weft::local<T>: one value per green thread, following it across
// workers, destroyed when the thread ends; per kernel thread on foreign threads.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace weft_test;

class LocalTest : public WorkerCount {};
WEFT_WORKER_COUNTS(LocalTest);

std::atomic<int> g_live{0};
std::atomic<int> g_destroyed{0};

struct tracked {
  long value = 0;
  tracked() { g_live.fetch_add(1); }
  ~tracked() {
    g_live.fetch_sub(1);
    g_destroyed.fetch_add(1);
  }
};

TEST_P(LocalTest, EachThreadHasItsOwnValue) {
  weft::local<long> slot;
  weft::run(opts(), [&] {
    std::vector<weft::thread<bool>> ts;
    for (long k = 1; k <= 50; ++k)
      ts.push_back(weft::spawn([&slot, k] {
        EXPECT_EQ(*slot, 0);  // default-constructed on first use
        *slot = k;
        for (int i = 0; i < 50; ++i) {
          // Switch (and maybe migrate); the value stays the thread's own.
          if (i % 10 == 0) weft::this_thread::sleep_for(10us);
          else weft::this_thread::yield();
          if (*slot != k) return false;
          *slot = k;
        }
        return true;
      }));
    for (auto& t : ts) EXPECT_TRUE(t.join());
  });
}

TEST_P(LocalTest, ValuesAreDestroyedWhenTheirThreadEnds) {
  g_live = 0;
  g_destroyed = 0;
  weft::local<tracked> slot;
  weft::runtime rt(opts());
  weft::event release;
  std::vector<weft::thread<void>> ts;
  for (int k = 0; k < 20; ++k)
    ts.push_back(weft::spawn_in(rt, [&] {
      slot->value = 1;
      release.wait();
    }));
  auto untouched = weft::spawn_in(rt, [] {});  // never uses the slot: nothing to destroy
  untouched.join();
  ASSERT_TRUE(eventually([] { return g_live.load() == 20; }));
  EXPECT_EQ(g_destroyed.load(), 0);
  release.set();
  for (auto& t : ts) t.join();
  // A joined thread's values are gone: destruction happens as the thread ends.
  EXPECT_EQ(g_live.load(), 0);
  EXPECT_EQ(g_destroyed.load(), 20);
}

TEST_P(LocalTest, SeveralSlotsAndTypes) {
  weft::local<std::string> name;
  weft::local<int> counter;
  weft::run(opts(), [&] {
    auto a = weft::spawn([&] {
      *name = "a";
      ++*counter;
      weft::this_thread::yield();
      ++*counter;
      return *name + std::to_string(*counter);
    });
    auto b = weft::spawn([&] {
      *name = "b";
      weft::this_thread::yield();
      return *name + std::to_string(*counter);
    });
    EXPECT_EQ(a.join(), "a2");
    EXPECT_EQ(b.join(), "b0");
  });
}

TEST(Local, ForeignThreadsHaveTheirOwnValues) {
  weft::local<int> slot;
  *slot = 7;
  std::thread other([&] {
    EXPECT_EQ(*slot, 0);
    *slot = 8;
  });
  other.join();
  EXPECT_EQ(*slot, 7);
  weft::runtime rt({.workers = 1});
  // A green thread does not see the value of the foreign thread that spawned it.
  auto t = weft::spawn_in(rt, [&] { return *slot; });
  EXPECT_EQ(t.join(), 0);
}

TEST(Local, ForeignThreadValuesAreDestroyedAtThreadExit) {
  g_live = 0;
  g_destroyed = 0;
  weft::local<tracked> slot;
  std::thread other([&] { slot->value = 3; });
  other.join();
  EXPECT_EQ(g_live.load(), 0);
  EXPECT_EQ(g_destroyed.load(), 1);
}

}  // namespace
