// Priority policies, static (policy_kind::priority) and with aging
// (policy_kind::aging): one FIFO list per priority level (-64..64) and a
// bitmap of non-empty levels. Under aging a thread's effective priority is
// its own plus one level per `aging_step` spent waiting, so a low-priority
// thread under a steady stream of high-priority work still runs (the OS
// notes' cure for starvation); static priority never ages, and may starve. Only list heads are compared: within a level the head is
// the oldest, hence the most aged. A spinlock guards it; thieves take one
// thread at a time, as a priority order cannot be split in halves. The
// enqueue time lives in tcb::policy_word.
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>

#include "base/clock.hpp"
#include "core/policy.hpp"
#include "core/worker_loop.hpp"
#include "policy/registry.hpp"
#include "base/spinlock.hpp"
#include "core/tcb.hpp"

namespace weft::detail {
namespace {

constexpr int min_prio = -64;
constexpr int levels = 129;

class priority_policy final : public policy {
 public:
  // aging_ns 0: static priority.
  explicit priority_policy(std::int64_t aging_ns) : aging_ns_(aging_ns) {}

  bool push(tcb* t, enqueue_kind) noexcept override {
    int lv = level_of(t);
    t->policy_word.store(stamp(now_ns()), std::memory_order_relaxed);
    t->next = nullptr;
    lock_.lock();
    auto& l = lists_[lv];
    if (l.tail) l.tail->next = t;
    else l.head = t;
    l.tail = t;
    bits_[lv / 64] |= std::uint64_t{1} << (lv % 64);
    count_.fetch_add(1, std::memory_order_relaxed);
    lock_.unlock();
    return true;
  }

  tcb* pop() noexcept { return take_best(); }
  tcb* spill() noexcept { return nullptr; }  // push never fails
  tcb* steal_into(priority_policy&) noexcept { return take_best(); }
  bool empty() const noexcept override { return count_.load(std::memory_order_relaxed) == 0; }
  const worker_ops& loop() const noexcept override { return worker_loop<priority_policy>::ops; }
  // A queued thread's priority plus its aging; others (running, blocked, in
  // the global queue) their own.
  int effective_priority(const tcb& t, std::int64_t now) const noexcept override {
    int p = level_of(&t) + min_prio;
    if (t.policy_word.load(std::memory_order_relaxed) == 0) return p;
    std::int64_t eff = p + aged(&t, now);
    return eff > 1000000 ? 1000000 : static_cast<int>(eff);
  }

 private:
  struct list {
    tcb* head = nullptr;
    tcb* tail = nullptr;
  };

  // Enqueue times in 1.024 us units fit the TCB's 32 bits; differences
  // stay right across the wrap (every 73 minutes). Bit 0 is always set, so
  // 0 means "not in this queue" (reset at pop: a thread in the global queue,
  // or running, has not started aging).
  static std::uint32_t stamp(std::int64_t ns) noexcept { return static_cast<std::uint32_t>(ns >> 10) | 1u; }

  // Levels gained by waiting since t was queued.
  std::int64_t aged(const tcb* t, std::int64_t now) const noexcept {
    if (aging_ns_ == 0) return 0;
    std::uint32_t queued = t->policy_word.load(std::memory_order_relaxed);
    std::int64_t waited = static_cast<std::int64_t>(static_cast<std::uint32_t>(stamp(now) - queued)) << 10;
    return waited / aging_ns_;
  }

  static int level_of(const tcb* t) noexcept {
    int p = t->priority < min_prio ? min_prio : (t->priority > 64 ? 64 : t->priority);
    return p - min_prio;
  }

  tcb* take_best() noexcept {
    if (empty()) return nullptr;
    std::int64_t now = now_ns();
    lock_.lock();
    int best = -1;
    std::int64_t best_eff = 0;
    for (int word = 2; word >= 0; --word) {
      for (std::uint64_t b = bits_[word]; b;) {
        int bit = 63 - std::countl_zero(b);
        b &= ~(std::uint64_t{1} << bit);
        int lv = word * 64 + bit;
        tcb* h = lists_[lv].head;
        std::int64_t eff = lv + aged(h, now);
        if (best < 0 || eff > best_eff) {
          best = lv;
          best_eff = eff;
        }
      }
    }
    tcb* t = nullptr;
    if (best >= 0) {
      auto& l = lists_[best];
      t = l.head;
      l.head = t->next;
      if (!l.head) {
        l.tail = nullptr;
        bits_[best / 64] &= ~(std::uint64_t{1} << (best % 64));
      }
      t->next = nullptr;
      t->policy_word.store(0, std::memory_order_relaxed);  // aging stops
      count_.fetch_sub(1, std::memory_order_relaxed);
    }
    lock_.unlock();
    return t;
  }

  std::int64_t aging_ns_;
  spinlock lock_;
  std::uint64_t bits_[3] = {};
  list lists_[levels];
  std::atomic<std::size_t> count_{0};
};

}  // namespace

std::unique_ptr<policy> make_priority_policy(const options& opts) {
  if (opts.policy != policy_kind::aging) return std::make_unique<priority_policy>(0);
  std::int64_t step = std::chrono::duration_cast<std::chrono::nanoseconds>(opts.aging_step).count();
  return std::make_unique<priority_policy>(step > 0 ? step : 1);
}

}  // namespace weft::detail
