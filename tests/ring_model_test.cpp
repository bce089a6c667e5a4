// The FIFO ring (policy/fifo_ring.hpp) on 4 slots, run through every
// interleaving of its atomic steps. A small model checker plays the owner
// and the thieves as contexts on one kernel thread: the ring is instantiated
// with `stepped` atomics, each load, store and CAS first hands control back
// to the checker, which picks who takes the next step. A depth-first search
// over those picks replays each run from its start, so every schedule
// (within the stated preemption bound, for three threads) is tried once.
//
// What this covers: the algorithm under sequential consistency, including
// the torn head/tail snapshot of a thief and the 32-bit wrap of the counters
// (each scenario runs from 0 and from just below 2^32). What it does not:
// weaker memory orderings; those are for ThreadSanitizer and the hardware
// stress in ring_test.cpp.
#include <gtest/gtest.h>


#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/sanitizer.hpp"
#include "context/context.hpp"
#include "core/tcb.hpp"
#include "policy/fifo_ring.hpp"

namespace {

using weft::detail::context;
using weft::detail::san_state;
using weft::detail::tcb;

class checker;
checker* active = nullptr;  // the checker running a schedule, if any
void step();

// The atomic the ring is checked with: every access is a point where the
// checker may run another thread first. Orderings are accepted and ignored.
template <class T>
class stepped {
 public:
  stepped() = default;
  stepped(T v) : v_(v) {}  // NOLINT: as std::atomic's converting constructor
  T load(std::memory_order = std::memory_order_seq_cst) const {
    step();
    return v_;
  }
  void store(T v, std::memory_order = std::memory_order_seq_cst) {
    step();
    v_ = v;
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order, std::memory_order) {
    step();
    if (v_ == expected) {
      v_ = desired;
      return true;
    }
    expected = v_;
    return false;
  }

 private:
  T v_{};
};

// Runs a set of thread bodies under every schedule. A schedule is the
// sequence of picks "who resumes next" made each time a thread reaches a
// step; picks with one candidate are forced and not recorded.
class checker {
 public:
  static constexpr int max_threads = 3;
  static constexpr int no_bound = 1 << 30;
  // The full search is millions of schedules: seconds natively, minutes
  // under the sanitizers and qemu, and gigabytes under TSan, which records
  // every fiber switch as a synchronisation. The logic is the same on one
  // kernel thread, so there the search keeps to two preemptions: with three
  // the three-thread tests took over ctest's 300 s under ASan on a busy
  // machine. The native build explores every schedule; the slow builds are
  // there for memory and race errors, which two preemptions reach.
#if defined(WEFT_TSAN) || defined(WEFT_ASAN) || defined(WEFT_ECHO_SERVER_EMULATOR)
  static constexpr int slow_build_bound = 2;
#else
  static constexpr int slow_build_bound = no_bound;
#endif

  explicit checker(int preemption_bound = no_bound) : bound_(std::min(preemption_bound, slow_build_bound)) {
    for (auto& s : stacks_) s = std::make_unique<char[]>(stack_size);
    weft::detail::san_adopt_thread(main_san_);
#ifdef WEFT_TSAN
    for (auto& t : threads_) t.san.fiber = __tsan_create_fiber(0);
#endif
  }

  ~checker() {
#ifdef WEFT_TSAN
    for (auto& t : threads_) __tsan_destroy_fiber(t.san.fiber);
#endif
  }

  // Calls make_run() before each schedule for fresh state and its thread
  // bodies, runs them under the next schedule, then calls the check that
  // make_run returned. Returns how many schedules ran.
  template <class MakeRun>
  std::uint64_t explore(MakeRun make_run) {
    std::uint64_t runs = 0;
    trail_.clear();
    do {
      auto run = make_run();
      run_once(run.bodies);
      run.check();
      ++runs;
      if (::testing::Test::HasFatalFailure() || ::testing::Test::HasNonfatalFailure()) {
        ADD_FAILURE() << "failing schedule: " << schedule_text();
        break;
      }
    } while (advance());
    return runs;
  }

  // A thread reached an atomic step: let the checker pick who goes next.
  void yield_from_thread() {
    int me = current_;
    switch_to_main(me, false);
  }

 private:
  struct thread_slot {
    context ctx;
    san_state san;
    std::function<void()> body;
    bool done = false;
  };
  struct pick {
    int chosen, options;
  };
  static constexpr std::size_t stack_size = 256 * 1024;

  static void entry(void* arg, void*) {
    auto* self = static_cast<checker*>(arg);
    int me = self->current_;
    weft::detail::san_after_switch(self->threads_[me].san);
    self->threads_[me].body();
    self->threads_[me].done = true;
    self->switch_to_main(me, true);
    __builtin_unreachable();
  }

  void switch_to_main(int me, bool dying) {
    weft::detail::san_before_switch(threads_[me].san, main_san_, dying);
    weft::detail::context_switch(threads_[me].ctx, main_ctx_, nullptr);
    weft::detail::san_after_switch(threads_[me].san);
  }

  void resume(int t) {
    current_ = t;
    weft::detail::san_before_switch(main_san_, threads_[t].san, false);
    weft::detail::context_switch(main_ctx_, threads_[t].ctx, nullptr);
    weft::detail::san_after_switch(main_san_);
    current_ = -1;
  }

  void run_once(std::vector<std::function<void()>>& bodies) {
    n_ = static_cast<int>(bodies.size());
    for (int i = 0; i < n_; ++i) {
      thread_slot& t = threads_[i];
      t.body = std::move(bodies[static_cast<std::size_t>(i)]);
      t.done = false;
      char* hi = stacks_[i].get() + stack_size;
      weft::detail::context_make(t.ctx, hi, stack_size, &checker::entry, this);
#ifdef WEFT_ASAN
      // The last run's fake stack died with its thread (switch_to_main's
      // `dying`); a fresh context starts without one.
      t.san.fake_stack = nullptr;
      t.san.stack_lo = stacks_[i].get();
      t.san.stack_size = stack_size;
#endif
    }
    depth_ = 0;
    taken_.clear();
    int last = -1, preemptions = 0;
    active = this;
    for (;;) {
      // Candidates: the last thread first (continuing is not a preemption),
      // then the others in index order.
      int cand[max_threads], k = 0;
      bool last_runnable = last >= 0 && !threads_[last].done;
      if (last_runnable) cand[k++] = last;
      if (!last_runnable || preemptions < bound_)
        for (int i = 0; i < n_; ++i)
          if (i != last && !threads_[i].done) cand[k++] = i;
      if (k == 0) break;
      int c = 0;
      if (k > 1) {
        if (depth_ < trail_.size()) {
          c = trail_[depth_].chosen;
        } else {
          trail_.push_back({0, k});
        }
        ++depth_;
      }
      int t = cand[c];
      if (last_runnable && t != last) ++preemptions;
      taken_.push_back(t);
      last = t;
      resume(t);
    }
    active = nullptr;
    trail_.resize(depth_);
  }

  // Moves the trail to the next schedule in depth-first order.
  bool advance() {
    while (!trail_.empty() && trail_.back().chosen + 1 >= trail_.back().options) trail_.pop_back();
    if (trail_.empty()) return false;
    ++trail_.back().chosen;
    return true;
  }

  std::string schedule_text() const {
    std::string s;
    for (int t : taken_) s += static_cast<char>('A' + t);
    return s + " (A, B, C: the scenario's threads in order; one letter per resumed step)";
  }

  int bound_;
  int n_ = 0;
  int current_ = -1;
  std::size_t depth_ = 0;
  std::vector<pick> trail_;
  std::vector<int> taken_;
  context main_ctx_;
  san_state main_san_;
  thread_slot threads_[max_threads];
  std::unique_ptr<char[]> stacks_[max_threads];
};

void step() {
  if (active) active->yield_from_thread();
}

struct run {
  std::vector<std::function<void()>> bodies;
  std::function<void()> check;
};

// The checker itself: a non-atomic increment (load, then store) done twice
// by two threads must lose an update in some schedule, and the number of
// schedules is the binomial count of interleaving 5 resumes with 5.
TEST(RingModel, CheckerFindsALostUpdateAndCountsSchedules) {
  checker c;
  int lowest = 4;
  std::uint64_t runs = c.explore([&] {
    auto x = std::make_shared<stepped<int>>(0);
    auto inc = [x] {
      for (int i = 0; i < 2; ++i) x->store(x->load() + 1);
    };
    return run{{inc, inc}, [x, &lowest] { lowest = std::min(lowest, x->load()); }};
  });
  if (checker::slow_build_bound == checker::no_bound) {
    EXPECT_EQ(runs, 252u);  // C(10, 5)
  }
  EXPECT_EQ(lowest, 2);
}

using ring4 = weft::detail::fifo_ring<4, stepped>;

// A scenario's shared state: the rings, the items (dummy control blocks,
// tagged by push order in policy_word) and what each thread took.
struct world {
  explicit world(std::uint32_t start, int n_rings) {
    for (int i = 0; i < n_rings; ++i) rings.push_back(std::make_unique<ring4>(start));
    for (std::uint32_t i = 0; i < items; ++i) ts[i].policy_word = i;
  }
  static constexpr std::uint32_t items = 8;
  tcb ts[items];
  std::uint32_t pushed = 0;
  std::vector<std::unique_ptr<ring4>> rings;
  std::vector<std::uint32_t> owner_took;  // pops and spills, in order
  std::vector<tcb*> run_now;              // per thief: what its steal returned

  void push_next() {
    if (rings[0]->push(&ts[pushed])) ++pushed;
  }
  void owner_pop() {
    if (tcb* t = rings[0]->pop()) owner_took.push_back(t->policy_word);
  }
  void owner_spill() {
    for (tcb* t = rings[0]->spill(); t; t = t->next) owner_took.push_back(t->policy_word);
  }
  void steal(std::size_t thief) { run_now[thief - 1] = rings[0]->steal_into(*rings[thief]); }

  // The indices a ring holds, popped (after the run: not schedule steps).
  std::vector<std::uint32_t> drain(ring4& r) {
    std::vector<std::uint32_t> v;
    while (tcb* t = r.pop()) v.push_back(t->policy_word);
    return v;
  }

  // Every pushed item taken exactly once; the owner's takes in push order;
  // each stolen batch (the thief's ring, then what it runs now)
  // consecutive; what the owner's ring still holds is the newest, in order.
  void check() {
    std::vector<std::uint32_t> left = drain(*rings[0]);
    std::vector<int> seen(items, 0);
    auto count = [&](const std::vector<std::uint32_t>& v) {
      for (auto s : v) {
        ASSERT_LT(s, pushed);
        ++seen[s];
      }
    };
    count(owner_took);
    count(left);
    for (std::size_t i = 0; i < run_now.size(); ++i) {
      std::vector<std::uint32_t> batch = drain(*rings[i + 1]);
      if (run_now[i]) {
        batch.push_back(run_now[i]->policy_word);
      } else {
        EXPECT_TRUE(batch.empty()) << "a steal that returned nothing left items behind";
      }
      count(batch);
      for (std::size_t k = 1; k < batch.size(); ++k) EXPECT_EQ(batch[k], batch[k - 1] + 1) << "stolen batch not consecutive";
    }
    for (std::uint32_t s = 0; s < pushed; ++s) EXPECT_EQ(seen[s], 1) << "item " << s << " taken " << seen[s] << " times";
    EXPECT_TRUE(std::is_sorted(owner_took.begin(), owner_took.end())) << "owner took out of push order";
    if (!left.empty() && !owner_took.empty()) {
      EXPECT_LT(owner_took.back(), left.front());
    }
    for (std::size_t i = 1; i < left.size(); ++i) EXPECT_EQ(left[i], left[i - 1] + 1);
  }
};

// Builds a scenario: prefill items pushed before the threads start, then
// the owner's and each thief's operations.
run scenario(std::uint32_t start, std::uint32_t prefill, std::function<void(world&)> owner,
             std::vector<std::function<void(world&)>> thieves) {
  auto w = std::make_shared<world>(start, 1 + static_cast<int>(thieves.size()));
  w->run_now.resize(thieves.size(), nullptr);
  for (std::uint32_t i = 0; i < prefill; ++i) w->push_next();
  run r;
  r.bodies.push_back([w, owner] { owner(*w); });
  for (auto& t : thieves) r.bodies.push_back([w, t] { t(*w); });
  r.check = [w] { w->check(); };
  return r;
}

const std::uint32_t starts[] = {0u, 0xFFFFFFFFu - 1};  // the second crosses the 32-bit wrap

std::function<void(world&)> thief(std::size_t index) {
  return [index](world& w) { w.steal(index); };
}

TEST(RingModel, PushAndPopAgainstASteal) {
  for (std::uint32_t start : starts)
    for (std::uint32_t prefill : {0u, 1u, 2u, 3u}) {
      SCOPED_TRACE("start " + std::to_string(start) + ", prefill " + std::to_string(prefill));
      checker c;
      auto runs = c.explore([&] {
        return scenario(start, prefill, [](world& w) {
          w.push_next();
          w.owner_pop();
        }, {thief(1)});
      });
      EXPECT_GT(runs, 1u);
    }
}

TEST(RingModel, PopsRaceAStealForTheLastItems) {
  for (std::uint32_t start : starts)
    for (std::uint32_t prefill : {1u, 2u}) {
      SCOPED_TRACE("start " + std::to_string(start) + ", prefill " + std::to_string(prefill));
      checker c;
      c.explore([&] {
        return scenario(start, prefill, [](world& w) {
          w.owner_pop();
          w.owner_pop();
        }, {thief(1)});
      });
    }
}

// A full ring: the owner spills half and pushes into the freed slots while
// a thief steals; the pushes reuse slots the thief may still be copying.
// Every schedule with one push; with two, up to three preemptions.
TEST(RingModel, SpillAndPushesAgainstASteal) {
  for (std::uint32_t start : starts)
    for (int pushes : {1, 2}) {
      SCOPED_TRACE("start " + std::to_string(start) + ", pushes " + std::to_string(pushes));
      checker c(pushes == 1 ? checker::no_bound : 3);
      c.explore([&] {
        return scenario(start, 4,
                        [pushes](world& w) {
                          w.owner_spill();
                          for (int i = 0; i < pushes; ++i) w.push_next();
                        },
                        {thief(1)});
      });
    }
}

// The owner empties the ring and pushes three while a thief's head and tail
// reads straddle that: tail - head then exceeds the ring (a torn snapshot),
// which the thief must discard, never copying a slot twice. Torn reads need
// two preemptions; up to three are tried.
TEST(RingModel, PopsThenPushesAgainstAStealTearItsSnapshot) {
  for (std::uint32_t start : starts) {
    SCOPED_TRACE("start " + std::to_string(start));
    checker c(3);
    c.explore([&] {
      return scenario(start, 2,
                      [](world& w) {
                        w.owner_pop();
                        w.owner_pop();
                        for (int i = 0; i < 3; ++i) w.push_next();
                      },
                      {thief(1)});
    });
  }
}

// Two thieves and the owner; three threads multiply the schedules, so at
// most three preemptions per schedule (most races need one or two).
TEST(RingModel, TwoThievesAndAPoppingOwner) {
  for (std::uint32_t start : starts)
    for (std::uint32_t prefill : {2u, 3u, 4u}) {
      SCOPED_TRACE("start " + std::to_string(start) + ", prefill " + std::to_string(prefill));
      checker c(3);
      auto runs = c.explore([&] { return scenario(start, prefill, [](world& w) { w.owner_pop(); }, {thief(1), thief(2)}); });
      EXPECT_GT(runs, 1u);
    }
}

}  // namespace
