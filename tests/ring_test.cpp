// The FIFO run-queue ring (policy/fifo_ring.hpp) driven directly, without a
// runtime: its single-threaded semantics, a random sequence of operations
// checked against a std::deque model, and a stress of one owner (push, pop,
// spill) against thief kernel threads (steal_into their own rings) that
// checks every pushed thread is taken exactly once.
//
// The control blocks are dummies that never run; the ring only stores their
// addresses and links spilled ones through tcb::next. The stress tags each
// push with a sequence number in tcb::policy_word (the policy's own field).
//
// Everything that names the ring is in the first lines below, so a rename or
// move of the class only touches those.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "core/tcb.hpp"
#include "policy/fifo_ring.hpp"

namespace {

using weft::detail::tcb;
using ring = weft::detail::fifo_ring<256>;
constexpr std::uint32_t ring_size = ring::size;

#if defined(__SANITIZE_THREAD__)
constexpr int scale_down = 10;
#else
constexpr int scale_down = 1;
#endif

// Dummy control blocks, addressed by index.
class tcbs {
 public:
  explicit tcbs(std::size_t n) : v_(new tcb[n]) {}
  tcb* operator[](std::size_t i) const { return &v_[i]; }
  std::size_t index(const tcb* t) const { return static_cast<std::size_t>(t - v_.get()); }

 private:
  std::unique_ptr<tcb[]> v_;
};

// The indices a ring holds, popped until empty (the caller owns the ring).
std::vector<std::size_t> drain(ring& r, const tcbs& ts) {
  std::vector<std::size_t> out;
  while (tcb* t = r.pop()) out.push_back(ts.index(t));
  return out;
}

std::vector<std::size_t> iota(std::size_t from, std::size_t to) {
  std::vector<std::size_t> v;
  for (std::size_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

// Pushes ts[from, to), expecting room for all.
void push_range(ring& r, const tcbs& ts, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) ASSERT_TRUE(r.push(ts[i])) << "push " << i;
}

TEST(Ring, PopsInPushOrder) {
  tcbs ts(64);
  auto r = std::make_unique<ring>();
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(r->pop(), nullptr);
  push_range(*r, ts, 0, 10);
  EXPECT_FALSE(r->empty());
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(r->pop(), ts[i]);
  push_range(*r, ts, 10, 20);
  EXPECT_EQ(drain(*r, ts), iota(5, 20));
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(r->pop(), nullptr);
}

TEST(Ring, Holds256ThenPushFails) {
  tcbs ts(ring_size + 2);
  auto r = std::make_unique<ring>();
  push_range(*r, ts, 0, ring_size);
  EXPECT_FALSE(r->push(ts[ring_size])) << "a full ring took one more";
  EXPECT_FALSE(r->push(ts[ring_size]));
  EXPECT_EQ(r->pop(), ts[0]);
  EXPECT_TRUE(r->push(ts[ring_size])) << "a slot freed by pop is usable again";
  EXPECT_FALSE(r->push(ts[ring_size + 1]));
  EXPECT_EQ(drain(*r, ts), iota(1, ring_size + 1)) << "the failed pushes left nothing behind";
}

// The list spill() returned, as indices, checking it is null-terminated.
std::vector<std::size_t> list_of(tcb* head, const tcbs& ts) {
  std::vector<std::size_t> out;
  for (tcb* t = head; t; t = t->next) {
    out.push_back(ts.index(t));
    if (out.size() > ring_size) break;  // not terminated
  }
  return out;
}

TEST(Ring, SpillHandsOutTheOlderHalfLinkedInOrder) {
  tcbs ts(ring_size + ring_size / 2);
  auto r = std::make_unique<ring>();
  push_range(*r, ts, 0, ring_size);
  // Stale links must not leak into the list: spill writes every next.
  for (std::size_t i = 0; i < ring_size; ++i) ts[i]->next = ts[ring_size];
  EXPECT_EQ(list_of(r->spill(), ts), iota(0, ring_size / 2));
  // The newer half stays, and the spilled half's slots take new pushes.
  push_range(*r, ts, ring_size, ring_size + ring_size / 2);
  EXPECT_FALSE(r->push(ts[0]));
  EXPECT_EQ(drain(*r, ts), iota(ring_size / 2, ring_size + ring_size / 2));
}

TEST(Ring, SpillOfAFewRoundsDown) {
  tcbs ts(8);
  auto r = std::make_unique<ring>();
  EXPECT_EQ(r->spill(), nullptr) << "empty";
  push_range(*r, ts, 0, 1);
  EXPECT_EQ(r->spill(), nullptr) << "one: half rounds down to none";
  EXPECT_EQ(drain(*r, ts), iota(0, 1));
  push_range(*r, ts, 0, 3);
  EXPECT_EQ(list_of(r->spill(), ts), iota(0, 1));
  EXPECT_EQ(drain(*r, ts), iota(1, 3));
}

TEST(Ring, StealMovesTheOlderHalfAndReturnsItsNewestToRun) {
  for (std::size_t k : {1u, 2u, 3u, 4u, 9u, 10u, 255u, 256u}) {
    SCOPED_TRACE("victim holds " + std::to_string(k));
    tcbs ts(k);
    auto victim = std::make_unique<ring>();
    auto thief = std::make_unique<ring>();
    push_range(*victim, ts, 0, k);
    std::size_t n = k - k / 2;  // half, rounded up
    tcb* run_now = victim->steal_into(*thief);
    ASSERT_NE(run_now, nullptr);
    EXPECT_EQ(ts.index(run_now), n - 1);
    EXPECT_EQ(thief->empty(), n == 1);
    EXPECT_EQ(drain(*thief, ts), iota(0, n - 1));
    EXPECT_EQ(drain(*victim, ts), iota(n, k));
  }
}

TEST(Ring, StealFromAnEmptyRingTakesNothing) {
  tcbs ts(4);
  auto victim = std::make_unique<ring>();
  auto thief = std::make_unique<ring>();
  push_range(*thief, ts, 0, 2);
  EXPECT_EQ(victim->steal_into(*thief), nullptr);
  EXPECT_EQ(drain(*thief, ts), iota(0, 2)) << "the thief's own ring was disturbed";
}

TEST(Ring, StealAppendsBehindWhatTheThiefHolds) {
  tcbs ts(20);
  auto victim = std::make_unique<ring>();
  auto thief = std::make_unique<ring>();
  push_range(*thief, ts, 0, 5);
  push_range(*victim, ts, 5, 15);
  EXPECT_EQ(victim->steal_into(*thief), ts[9]);
  EXPECT_EQ(drain(*thief, ts), iota(0, 9));
  EXPECT_EQ(drain(*victim, ts), iota(10, 15));
}

// A random sequence of every operation on two rings against std::deque
// models, long enough to wrap the slot index many times. steal_into does not
// check the destination's room (the runtime steals into an empty ring), so
// the sequence only steals where the stolen half fits.
// Run twice: from zero, and with both rings' counters starting just below
// 2^32 so the sequence crosses the 32-bit wrap of head and tail (the ring
// relies on unsigned differences across it).
void random_operations_match_a_deque_model(std::uint32_t start) {
  constexpr std::size_t pool = 1024;
  tcbs ts(pool);
  std::vector<std::size_t> free_ids = iota(0, pool);
  auto take_id = [&](std::size_t id) { free_ids.push_back(id); };
  std::unique_ptr<ring> r[2] = {std::make_unique<ring>(start), std::make_unique<ring>(start)};
  std::deque<std::size_t> m[2];
  std::mt19937 rng(12345);
  const int ops = 400000 / scale_down;
  for (int op = 0; op < ops; ++op) {
    int a = static_cast<int>(rng() % 2), b = 1 - a;
    // Phases lean towards filling or emptying, so full and empty both come up.
    bool filling = (op / 2000) % 2 == 0;
    unsigned dice = rng() % 100;
    if (dice < (filling ? 70u : 30u)) {
      if (free_ids.empty()) continue;
      std::size_t id = free_ids.back();
      bool ok = r[a]->push(ts[id]);
      ASSERT_EQ(ok, m[a].size() < ring_size) << "op " << op;
      if (ok) {
        free_ids.pop_back();
        m[a].push_back(id);
      }
    } else if (dice < 85) {
      tcb* t = r[a]->pop();
      if (m[a].empty()) {
        ASSERT_EQ(t, nullptr) << "op " << op;
      } else {
        ASSERT_NE(t, nullptr) << "op " << op;
        ASSERT_EQ(ts.index(t), m[a].front()) << "op " << op;
        take_id(m[a].front());
        m[a].pop_front();
      }
    } else if (dice < 92) {
      std::size_t n = m[a].size() / 2;
      std::vector<std::size_t> got = list_of(r[a]->spill(), ts);
      ASSERT_EQ(got.size(), n) << "op " << op;
      for (std::size_t id : got) {
        ASSERT_EQ(id, m[a].front()) << "op " << op;
        take_id(id);
        m[a].pop_front();
      }
    } else {
      std::size_t n = m[a].size() - m[a].size() / 2;
      if (n > 0 && m[b].size() + n - 1 > ring_size) continue;  // would overrun b
      tcb* t = r[a]->steal_into(*r[b]);
      ASSERT_EQ(r[b]->empty(), m[b].empty() && n <= 1) << "op " << op;
      if (n == 0) {
        ASSERT_EQ(t, nullptr) << "op " << op;
        continue;
      }
      for (std::size_t i = 0; i + 1 < n; ++i) {
        m[b].push_back(m[a].front());
        m[a].pop_front();
      }
      ASSERT_NE(t, nullptr) << "op " << op;
      ASSERT_EQ(ts.index(t), m[a].front()) << "op " << op;
      take_id(m[a].front());
      m[a].pop_front();
    }
    ASSERT_EQ(r[a]->empty(), m[a].empty()) << "op " << op;
  }
  for (int i = 0; i < 2; ++i) EXPECT_EQ(drain(*r[i], ts), std::vector<std::size_t>(m[i].begin(), m[i].end()));
}

TEST(Ring, RandomOperationsMatchADequeModel) { random_operations_match_a_deque_model(0); }

TEST(Ring, RandomOperationsMatchADequeModelAcrossTheCounterWrap) {
  random_operations_match_a_deque_model(0xFFFFFFFFu - 3000);
}

// A full ring straddling the wrap: full, spill, pop and steal across it,
// into a ring whose counters are near zero.
TEST(Ring, FullRingAcrossTheCounterWrap) {
  tcbs ts(ring_size + 1);
  auto r = std::make_unique<ring>(0xFFFFFFFFu - 100);
  auto thief = std::make_unique<ring>();
  push_range(*r, ts, 0, ring_size);  // tail wraps inside the ring
  EXPECT_FALSE(r->push(ts[ring_size])) << "full across the wrap";
  EXPECT_FALSE(r->empty());
  EXPECT_EQ(list_of(r->spill(), ts), iota(0, ring_size / 2));
  EXPECT_EQ(r->pop(), ts[ring_size / 2]);
  EXPECT_EQ(r->steal_into(*thief), ts[ring_size / 2 + 64]);
  EXPECT_EQ(drain(*thief, ts), iota(ring_size / 2 + 1, ring_size / 2 + 64));
  EXPECT_EQ(drain(*r, ts), iota(ring_size / 2 + 65, ring_size));
  EXPECT_TRUE(r->empty());
}

// One owner thread pushes, pops and spills at random; thief threads empty
// their own ring and then steal into it, half the time from the owner
// and half from each other. Every push carries a sequence number; each
// taker checks off the number, so a thread taken twice or never shows up.
// Also checked: everything taken out of one ring by its owner (pops, spill
// lists) comes out in push order, as do spill lists and stolen batches.
class ring_stress {
 public:
  static constexpr int thieves = 3;
  static constexpr std::size_t pool = 4096;  // > 256 + thieves * 128 in flight

  explicit ring_stress(std::uint32_t max_pushes)
      : ts_(pool), in_flight_(new std::atomic<bool>[pool]()), seen_(new std::atomic<std::uint8_t>[max_pushes]()),
        max_pushes_(max_pushes) {
    for (auto& r : rings_) r = std::make_unique<ring>();
  }

  void run(std::uint32_t seed) {
    std::vector<std::thread> ts;
    for (int i = 0; i < thieves; ++i) ts.emplace_back([this, i, seed] { thief(i, seed + 1 + static_cast<std::uint32_t>(i)); });
    owner(seed);
    done_.store(true, std::memory_order_release);
    for (auto& t : ts) t.join();
    // Everyone has stopped: what is left in the rings is taken here.
    for (auto& r : rings_)
      while (tcb* t = r->pop()) take(t);
  }

  void check() const {
    EXPECT_EQ(errors_.load(), 0u) << "duplicates, or out-of-order batches";
    EXPECT_EQ(taken_.load(), pushed_);
    std::uint32_t missing = 0, twice = 0;
    for (std::uint32_t s = 0; s < pushed_; ++s) {
      std::uint8_t n = seen_[s].load();
      missing += n == 0;
      twice += n > 1;
    }
    EXPECT_EQ(missing, 0u) << "pushed threads never taken";
    EXPECT_EQ(twice, 0u) << "pushed threads taken twice";
  }

 private:
  static std::uint32_t seq_of(const tcb* t) { return t->policy_word; }

  // Checks t off; returns its sequence number.
  std::uint32_t take(tcb* t) {
    std::uint32_t s = seq_of(t);  // read before t is handed back for reuse
    if (s >= max_pushes_ || seen_[s].fetch_add(1, std::memory_order_relaxed) != 0) errors_.fetch_add(1);
    if (!in_flight_[ts_.index(t)].exchange(false, std::memory_order_acq_rel)) errors_.fetch_add(1);
    taken_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }

  void owner(std::uint32_t seed) {
    ring& own = *rings_[0];
    std::mt19937 rng(seed);
    std::size_t cursor = 0;
    std::int64_t last = -1;  // the newest sequence number the owner took from its ring
    auto take_own = [&](tcb* t) {
      std::uint32_t s = take(t);
      if (static_cast<std::int64_t>(s) <= last) errors_.fetch_add(1);
      last = s;
    };
    auto take_spill = [&](tcb* head) {
      // In push order and consecutive: the spill is one contiguous batch.
      std::int64_t prev = -1;
      while (tcb* t = head) {
        head = t->next;
        std::uint32_t s = seq_of(t);
        if (prev >= 0 && s != prev + 1) errors_.fetch_add(1);
        prev = s;
        take_own(t);
      }
    };
    auto push_one = [&] {
      while (in_flight_[cursor].load(std::memory_order_acquire)) cursor = (cursor + 1) % pool;
      tcb* t = ts_[cursor];
      t->policy_word = pushed_;
      in_flight_[cursor].store(true, std::memory_order_relaxed);
      if (own.push(t)) {
        ++pushed_;
        return true;
      }
      in_flight_[cursor].store(false, std::memory_order_relaxed);
      return false;
    };
    // Start full and wait for the first steal, so the thieves are running
    // and stealing is exercised however the machine schedules them.
    while (pushed_ < ring_size && push_one()) {
    }
    while (stolen_.load(std::memory_order_relaxed) == 0) std::this_thread::yield();
    for (std::uint32_t op = 0; pushed_ < max_pushes_; ++op) {
      // Phases of mostly pushing (the ring fills and spills) and of mostly
      // popping (it runs empty, so pops race steals for the last ones).
      bool filling = (op / 512) % 2 == 0;
      unsigned dice = rng() % 100;
      if (dice < (filling ? 75u : 35u)) {
        if (!push_one()) take_spill(own.spill());
      } else if (dice < 97) {
        if (tcb* t = own.pop()) take_own(t);
      } else {
        take_spill(own.spill());
      }
    }
  }

  void thief(int me, std::uint32_t seed) {
    ring& own = *rings_[1 + me];
    std::mt19937 rng(seed);
    for (;;) {
      bool last_round = done_.load(std::memory_order_acquire);
      // Others may steal from this ring meanwhile, always its oldest ones.
      std::int64_t prev = -1;
      while (tcb* t = own.pop()) {
        std::uint32_t s = take(t);
        if (static_cast<std::int64_t>(s) <= prev) errors_.fetch_add(1);
        prev = s;
      }
      if (last_round) return;
      // Steal only into the empty own ring (as the runtime does).
      int v = rng() % 2 == 0 ? 1 + static_cast<int>(rng() % thieves) : 0;
      if (v == 1 + me) v = 0;
      if (tcb* t = rings_[v]->steal_into(own)) {
        stolen_.fetch_add(1, std::memory_order_relaxed);
        std::uint32_t s = take(t);
        // The batch is contiguous and t its newest: what it left in the own
        // ring comes right before it (unless stolen from here meanwhile).
        std::int64_t before = -1;
        for (tcb* u; (u = own.pop()) != nullptr;) {
          std::uint32_t su = take(u);
          if (su >= s || static_cast<std::int64_t>(su) <= before) errors_.fetch_add(1);
          before = su;
        }
      } else {
        std::this_thread::yield();
      }
    }
  }

  tcbs ts_;
  std::unique_ptr<std::atomic<bool>[]> in_flight_;     // pushed and not yet taken, by tcb index
  std::unique_ptr<std::atomic<std::uint8_t>[]> seen_;  // times taken, by sequence number
  std::uint32_t max_pushes_;
  std::uint32_t pushed_ = 0;  // owner only; read after the joins
  std::unique_ptr<ring> rings_[1 + thieves];
  std::atomic<bool> done_{false};
  std::atomic<std::uint64_t> taken_{0}, stolen_{0}, errors_{0};
};

TEST(RingStress, OwnerAndThievesTakeEveryPushExactlyOnce) {
  for (std::uint32_t round = 0; round < 8; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ring_stress s(400000 / scale_down);
    s.run(round * 100 + 7);
    s.check();
  }
}

}  // namespace
