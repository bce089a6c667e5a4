// The channel steps that channel operations and select share. Everything
// here except finish_wake() runs with the channel's lock held; see
// chan_core.cpp for the protocol.
#pragma once

#include "core/park.hpp"
#include "weft/detail/chan_core.hpp"

namespace weft::detail {

struct chan_ops {
  static void lock(chan_core& c) noexcept { wq_lock_backoff(c.q_); }
  static void unlock(chan_core& c) noexcept { wq_unlock(c.q_); }
  static wait_queue& queue(chan_core& c) noexcept { return c.q_; }
  static bool is_mailbox(const chan_core& c) noexcept { return c.mailbox_; }

  // Completes a send of the T at src if it can be done without waiting:
  // true with st = ok or closed, and `wake` = a claimed node to finish after
  // unlocking (or null). False: the caller would have to wait. May throw
  // std::bad_alloc (unbounded buffer growth), changing nothing.
  static bool send_now(chan_core& c, void* src, int prio, op_status& st, chan_node*& wake);
  // The receive twin: fills the std::optional<T> at sink.
  static bool recv_now(chan_core& c, void* sink, const chan_pred* pred, op_status& st, chan_node*& wake) noexcept;

  // Queues a blocked operation's node.
  static void enqueue(chan_core& c, chan_node& n, bool is_send) noexcept;
  // Removes an owner's node if no claimer removed it first.
  static void dequeue(chan_core& c, chan_node& n, bool is_send) noexcept;

  // After unlocking: passes the node's gate (select) and completes its waiter.
  static void finish_wake(chan_node* n) noexcept {
    if (!n) return;
    waiter* w = n->w;
    if (wait_queue* g = n->gate) {
      // The select that owns w holds g until it is parked; completing before
      // that would wake a thread that is still running.
      wq_lock(*g);
      wq_unlock(*g);
    }
    complete(*w);  // n may be gone from here on
  }
};

}  // namespace weft::detail
