// Migration between kernel threads (the LLVM 98479 / libgo 256 trap): a
// green thread may resume on another worker after any switch, so the
// runtime's "current worker / current thread" accessors must be re-read, not
// cached. These tests must be built with optimization (the project's
// RelWithDebInfo default is -O2) to mean anything: that is where a compiler
// would fold two reads of a thread_local address across a call.
//
// The truth about which kernel thread runs the code comes from gettid(2), a
// real system call no compiler can cache. Each kernel thread is a fixed
// worker, so the pair (gettid, worker_index) must be one-to-one for the whole
// run; a stale accessor would pair a tid with its previous worker's index.
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <sys/syscall.h>
#include <unistd.h>

#include "test_support.hpp"
#include "weft/semaphore.hpp"
#include "core/worker.hpp"

namespace {

using namespace weft_test;

pid_t kernel_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

#ifndef __OPTIMIZE__
#warning "migration_test.cpp is meant to be built with optimization (-O2): the trap it checks needs it"
#endif

// Records every (kernel tid, worker index) pair seen; reports a conflict.
class pairing {
 public:
  void see(pid_t tid, int index) {
    std::lock_guard lk(mu_);
    auto [it, fresh] = by_tid_.emplace(tid, index);
    if (!fresh && it->second != index) ++conflicts_;
    auto [jt, fresh2] = by_index_.emplace(index, tid);
    if (!fresh2 && jt->second != tid) ++conflicts_;
  }
  int conflicts() {
    std::lock_guard lk(mu_);
    return conflicts_;
  }

 private:
  std::mutex mu_;
  std::map<pid_t, int> by_tid_;
  std::map<int, pid_t> by_index_;
  int conflicts_ = 0;
};

// One step of a migrating thread: switch away, then read everything fresh.
// Both accessors are read twice around the same switch inside one function,
// which is exactly the shape where a cached TLS address would show.
struct observation {
  int before, after, after_internal;
  pid_t tid_after;
  weft::thread_id id_before, id_after;
};

// With `kick`, every 16th step waits for a unit a foreign thread releases:
// a thread woken from outside the runtime goes to the global queue, which
// every worker serves, so it migrates about every other time even when both
// workers are too busy to steal (as under ThreadSanitizer).
__attribute__((noinline)) observation step(int i, weft::counting_semaphore* kick = nullptr) {
  observation o{};
  o.before = weft::this_thread::worker_index();
  o.id_before = weft::this_thread::id();
  if (kick && i % 16 == 15) (void)kick->try_acquire_for(5ms);
  else if (i % 8 == 7) weft::this_thread::sleep_for(20us);
  else weft::this_thread::yield();
  o.after = weft::this_thread::worker_index();
  o.after_internal = static_cast<int>(weft::detail::current_worker()->index);
  o.tid_after = kernel_tid();
  o.id_after = weft::this_thread::id();
  return o;
}

TEST(Migration, AccessorsFollowTheThreadAcrossWorkers) {
  weft::runtime rt({.workers = 2});
  pairing pairs;
  std::atomic<long> migrations{0};
  std::atomic<int> bad_internal{0}, bad_id{0};
  std::atomic<bool> enough{false};
  weft::counting_semaphore kick(0);
  std::atomic<bool> done{false};
  std::thread kicker([&] {
    while (!done.load()) {
      kick.release();
      std::this_thread::sleep_for(50us);
    }
  });
  std::vector<weft::thread<void>> ts;
  for (int k = 0; k < 8; ++k)
    ts.push_back(weft::spawn_in(rt, [&] {
      // 3 s only caps the work once some migration was seen; before that the
      // run goes on (both workers may be starved for seconds on a loaded
      // machine), and only absurdly_late gives up.
      auto soft_end = std::chrono::steady_clock::now() + 3s;
      auto hard_end = std::chrono::steady_clock::now() + absurdly_late;
      for (int i = 0;; ++i) {
        auto now = std::chrono::steady_clock::now();
        bool did_enough =
            i >= 2000 / spawn_scale_down && (enough.load() || (now >= soft_end && migrations.load() > 0));
        if (did_enough || now >= hard_end) break;
        observation o = step(i, &kick);
        pairs.see(o.tid_after, o.after);
        if (o.after_internal != o.after) bad_internal.fetch_add(1);
        if (o.id_before != o.id_after) bad_id.fetch_add(1);
        if (o.before != o.after && migrations.fetch_add(1) >= 50) enough.store(true);
      }
    }));
  for (auto& t : ts) t.join();
  done.store(true);
  kicker.join();
  EXPECT_EQ(pairs.conflicts(), 0) << "worker_index() disagreed with the kernel thread running the code";
  EXPECT_EQ(bad_internal.load(), 0);
  EXPECT_EQ(bad_id.load(), 0);
  EXPECT_GT(migrations.load(), 0) << "no thread ever changed worker: the test proved nothing";
}

TEST(Migration, PinnedThreadNeverChangesWorker) {
  weft::runtime rt({.workers = 2});
  weft::spawn_attrs pinned;
  pinned.pinned = true;
  std::vector<weft::thread<int>> ts;
  // Unpinned company keeps both workers busy and stealing.
  std::atomic<bool> stop{false};
  std::vector<weft::thread<void>> company;
  for (int k = 0; k < 6; ++k)
    company.push_back(weft::spawn_in(rt, [&] {
      while (!stop.load()) {
        weft::this_thread::yield();
        weft::this_thread::sleep_for(10us);
      }
    }));
  std::atomic<int> homes[2] = {0, 0};
  for (int k = 0; k < 4; ++k)
    ts.push_back(weft::spawn_in(
        rt,
        [&homes] {
          int home = weft::this_thread::worker_index();
          ++homes[home];
          pid_t tid = kernel_tid();
          int moves = 0;
          for (int i = 0; i < 1500; ++i) {
            observation o = step(i);
            if (o.after != home || o.tid_after != tid || o.after_internal != home) ++moves;
          }
          return moves;
        },
        pinned));
  for (auto& t : ts) EXPECT_EQ(t.join(), 0);
  // Spawned from outside, pinned threads take the workers in turn.
  EXPECT_EQ(homes[0].load(), 2);
  EXPECT_EQ(homes[1].load(), 2);
  stop.store(true);
  for (auto& t : company) t.join();
}

}  // namespace
