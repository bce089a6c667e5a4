// The idle protocol's transitions; the numbered steps are in idle.hpp.
#include "core/idle.hpp"

#include <algorithm>

#include "base/clock.hpp"
#include "base/futex.hpp"
#include "core/worker.hpp"

namespace weft::detail {

bool idle_protocol::try_start_spinning(worker& w) noexcept {
  idle_slot& me = w.idling;
  if (me.spinning) return true;
  int busy = nworkers_ - nidle_.load(std::memory_order_relaxed);
  if (2 * nspinning_.load(std::memory_order_relaxed) > busy) return false;
  me.spinning = true;
  nspinning_.fetch_add(1);
  return true;
}

void idle_protocol::found_work(worker& w) noexcept {
  idle_slot& me = w.idling;
  if (!me.spinning) return;
  me.spinning = false;
  // W2: the last spinner hands spinning on even when nothing else is visible
  // yet: the woken worker's kernel wake-up overlaps with the work just
  // found, so the next cross-worker hand-over finds a spinner.
  if (nspinning_.fetch_sub(1) == 1) notify_work();
}

void idle_protocol::transition_to_parked(worker& w) noexcept {
  {
    std::lock_guard lk(mu_);
    idle_.push_back(&w);
    nidle_.fetch_add(1);
  }
  if (w.idling.spinning) {
    w.idling.spinning = false;
    nspinning_.fetch_sub(1);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);  // F1
}

void idle_protocol::transition_from_parked(worker& w) noexcept {
  {
    std::lock_guard lk(mu_);
    auto it = std::find(idle_.begin(), idle_.end(), &w);
    if (it != idle_.end()) {  // else a waker took it off (N5)
      idle_.erase(it);
      nidle_.fetch_sub(1);
    }
  }
  wake_watcher();
}

void idle_protocol::wake_watcher() noexcept {
  // After the count changed (here or at N5, which happened before this
  // worker's wake-up): pairs with the monitor's store of the word.
  if (watcher_asleep_.load(std::memory_order_seq_cst) != 0 && watcher_asleep_.exchange(0) == 1)
    futex_wake(watcher_asleep_);
}

void idle_protocol::take_handed_spinning(worker& w) noexcept {
  if (w.idling.handed_spinning.exchange(false, std::memory_order_acq_rel)) w.idling.spinning = true;
}

void idle_protocol::leave(worker& w) noexcept {
  if (!w.idling.spinning) return;
  w.idling.spinning = false;
  nspinning_.fetch_sub(1);
}

void idle_protocol::notify_work() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);  // F2
  if (nidle_.load(std::memory_order_relaxed) == 0 || nspinning_.load(std::memory_order_relaxed) != 0) return;  // N3
  int zero = 0;
  if (!nspinning_.compare_exchange_strong(zero, 1)) return;  // N4
  worker* w = nullptr;
  {
    std::lock_guard lk(mu_);  // N5
    if (!idle_.empty()) {
      w = idle_.back();
      idle_.pop_back();
      nidle_.fetch_sub(1);
    }
  }
  if (!w) {
    nspinning_.fetch_sub(1);
    return;
  }
  w->idling.handed_spinning.store(true, std::memory_order_release);  // N6
  unpark(*w);
}

void idle_protocol::park(worker& w, std::int64_t deadline) noexcept {
  idle_slot& me = w.idling;
  for (;;) {
    std::uint32_t where = w.driver->quiet() ? idle_slot::in_futex : idle_slot::in_poller;
    me.sleeping.store(where, std::memory_order_seq_cst);
    if (me.wake_word.exchange(0, std::memory_order_seq_cst) != 0) break;
    if (deadline >= 0 && now_ns() >= deadline) break;
    if (where == idle_slot::in_futex) {
      futex_wait(me.wake_word, 0, deadline);
    } else if (w.driver->wait(deadline)) {
      break;  // completions made threads ready
    }
  }
  me.sleeping.store(idle_slot::awake, std::memory_order_relaxed);
}

void idle_protocol::unpark(worker& w) noexcept {
  idle_slot& me = w.idling;
  if (me.wake_word.exchange(1, std::memory_order_seq_cst) != 0) return;
  switch (me.sleeping.load(std::memory_order_seq_cst)) {
    case idle_slot::in_futex: futex_wake(me.wake_word); break;
    case idle_slot::in_poller: w.driver->wake(); break;
    default: break;  // awake: it exchanges wake_word before it sleeps again
  }
}

}  // namespace weft::detail
