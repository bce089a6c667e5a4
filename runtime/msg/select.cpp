// select: the first of several channel operations, after Go's selectgo.
//
// Steps:
//   1. Pick a poll order (a random permutation: fair among ready cases) and
//      a lock order (the distinct channels by address: two selects over the
//      same channels cannot deadlock; plain operations hold one lock only).
//   2. Lock every channel. Poll the cases in poll order; the first that can
//      complete now (chan_ops::send_now/recv_now, the same code a plain
//      operation runs) fires. Unlock all, finish its partner's wake, return.
//   3. None ready and a default branch: unlock all, return would_block.
//   4. Otherwise take the select's gate (a wait_queue of its own, used only
//      for its lock), link one chan_node per case into the channels' queues,
//      all pointing at one waiter, unlock the channels and park on the gate.
//      With every channel locked during steps 2-4, no case can become ready
//      unseen between the poll and the linking.
//   5. A waker claims the waiter through one node (the claim is the single
//      point where exactly one case wins, against other channels and the
//      timer), writes the case index and result, then passes the gate before
//      complete(): park() releases the gate only after the switch, so the
//      select is never woken while still running. Other channels' wakers
//      find the waiter claimed, drop their node and move on.
//   6. Woken (or timed out), the select unlinks its remaining nodes.
//
// A select never claims its own waiter while linked, and never claims two
// waiters at once, so no claim ever has to be undone.
#include <algorithm>
#include <vector>

#include "base/clock.hpp"
#include "msg/chan_ops.hpp"
#include "core/park.hpp"
#include "weft/error.hpp"
#include "weft/select.hpp"

namespace weft::detail {
namespace {

// A xorshift generator per kernel thread; used only before parking, so a
// green thread that migrates afterwards never touches another worker's state.
std::uint64_t next_random() noexcept {
  thread_local std::uint64_t s = 0;
  if (s == 0) s = ticks() | 1;
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

// Small selects (the usual case) keep their arrays on the stack.
template <class T, std::size_t N>
class small_array {
 public:
  explicit small_array(std::size_t n) : heap_(n > N ? n : 0), p_(n > N ? heap_.data() : inline_) {}
  T& operator[](std::size_t i) noexcept { return p_[i]; }
  T* data() noexcept { return p_; }

 private:
  T inline_[N];
  std::vector<T> heap_;
  T* p_;
};

struct locked_set {
  chan_core** cores;
  std::size_t n;
  void lock() noexcept {
    for (std::size_t i = 0; i < n; ++i) chan_ops::lock(*cores[i]);
  }
  void unlock() noexcept {
    for (std::size_t i = n; i-- > 0;) chan_ops::unlock(*cores[i]);
  }
};

select_result wait_without_cases(long long deadline, bool nonblock) {
  if (nonblock) return {-1, op_status::would_block};
  if (deadline < 0) throw error(errc::invalid_argument, "select: no cases and no timeout would wait forever");
  waiter w = make_waiter();
  if (park_until_cancellable(w, deadline, wait_reason::select) == wake_status::canceled)
    return {-1, op_status::canceled};
  return {-1, op_status::timeout};
}

}  // namespace

select_result select_impl(const select_case* cases, std::size_t n, long long deadline, bool nonblock) {
  if (n == 0) return wait_without_cases(deadline, nonblock);
  if (n > 0xffffffffu) throw error(errc::invalid_argument, "select: too many cases");
  for (std::size_t i = 0; i < n; ++i)
    if (!cases[i].core || !cases[i].slot)
      throw error(errc::invalid_argument, "select: case " + std::to_string(i) + " is empty (make it with on_recv/on_send)");

  // Step 1.
  small_array<std::uint32_t, 8> order(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t j = static_cast<std::size_t>(((next_random() >> 32) * (i + 1)) >> 32);
    order[i] = order[j];
    order[j] = static_cast<std::uint32_t>(i);
  }
  small_array<chan_core*, 8> cores(n);
  for (std::size_t i = 0; i < n; ++i) cores[i] = cases[i].core;
  std::sort(cores.data(), cores.data() + n);
  locked_set locks{cores.data(), static_cast<std::size_t>(std::unique(cores.data(), cores.data() + n) - cores.data())};

  // Step 2.
  locks.lock();
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t k = order[i];
    const select_case& c = cases[k];
    op_status st = op_status::would_block;
    chan_node* wake = nullptr;
    bool done;
    if (c.is_send) {
      try {
        done = chan_ops::send_now(*c.core, c.slot, 0, st, wake);
      } catch (...) {
        locks.unlock();
        throw;
      }
    } else {
      done = chan_ops::recv_now(*c.core, c.slot, nullptr, st, wake);
    }
    if (done) {
      locks.unlock();
      chan_ops::finish_wake(wake);
      return {static_cast<int>(k), st};
    }
  }

  // Step 3.
  if (nonblock) {
    locks.unlock();
    return {-1, op_status::would_block};
  }

  // Step 4.
  waiter w = make_waiter();
  wait_queue gate;
  wq_lock(gate);
  small_array<chan_node, 8> nodes(n);
  for (std::size_t k = 0; k < n; ++k) {
    chan_node& nd = nodes[k];
    nd.w = &w;
    nd.gate = &gate;
    nd.slot = cases[k].slot;
    nd.index = static_cast<std::uint32_t>(k);
    chan_ops::enqueue(*cases[k].core, nd, cases[k].is_send);
  }
  locks.unlock();
  wake_status s = park_cancellable(gate, w, deadline, wait_reason::select);

  // Step 6.
  for (std::size_t k = 0; k < n; ++k) {
    chan_ops::lock(*cases[k].core);
    chan_ops::dequeue(*cases[k].core, nodes[k], cases[k].is_send);
    chan_ops::unlock(*cases[k].core);
  }
  if (s == wake_status::canceled) return {-1, op_status::canceled};
  if (s != wake_status::notified) return {-1, op_status::timeout};
  auto k = static_cast<std::size_t>(w.value);
  return {static_cast<int>(k), nodes[k].result};
}

}  // namespace weft::detail
