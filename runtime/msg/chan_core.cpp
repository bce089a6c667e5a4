// Channels: the protocol every channel, mailbox and select follows.
//
// State. One spin lock (the lock of the channel's wait_queue q_) guards the
// buffer, its count, the closed flag and two queues of blocked operations,
// sendq_ and recvq_. The queues hold chan_nodes (Go's sudogs), not bare
// waiters: a select stands in several channels' queues with one waiter, and
// one channel needs two queues under one lock. The node points at its
// waiter; park() still does the blocking, with q_ passed only so that it
// releases the channel lock after the switch. q_'s own waiter list stays
// empty, so park()'s timeout path finds nothing of ours to unlink there.
//
// Invariants (under the lock):
//   - a receiver blocks only if no buffered value and no blocked sender's
//     value passes its filter; so a blocked unfiltered receiver means an
//     empty buffer;
//   - a sender blocks only if the buffer is full (always, at capacity 0) and
//     no blocked receiver accepts its value;
//   - after close() nobody blocks, and nobody is left blocked.
//
// Waking, in steps (the same for plain operations and select cases):
//   1. under the lock, unlink the partner's node and claim its waiter
//      (pending -> claimed). A failed claim means that operation timed out or
//      its select fired on another channel: drop the node and look further;
//   2. move the value: sender to the receiver's slot directly (no buffer
//      round trip, and at capacity 0 the only way a value moves, so a send
//      completes exactly when a receiver takes it), or a blocked sender's
//      value into the slot a receive just freed (keeps FIFO order across the
//      full-buffer boundary); write the node's result and, for a select, the
//      case index into the waiter;
//   3. release the lock, pass the node's gate if it has one (a select holds
//      its gate until it is parked), and complete() the waiter.
// The owner of a node that timed out relocks and unlinks it if no waker did.
// A claimed node's memory stays valid until complete(): its owner cannot
// return from park() before that.
//
// Nothing is dropped: a value is either in the buffer, in a receiver's slot
// (delivered), or still in the sender's hands (every failed send returns it).
//
// Rejected: separate locks for the two queues (a send that finds the buffer
// full and a receive that empties it could cross without seeing each other)
// and a lock-free ring for buffered channels (Go and Boost.Fiber found that
// blocked-waiter hand-off needs the lock anyway; the critical sections here
// are a few dozen instructions).
#include "weft/detail/chan_core.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/intrusive_list.hpp"
#include "base/fatal.hpp"
#include "msg/chan_ops.hpp"
#include "core/park.hpp"
#include "weft/error.hpp"

namespace weft {

const char* to_string(op_status s) noexcept {
  switch (s) {
    case op_status::ok: return "ok";
    case op_status::closed: return "closed";
    case op_status::timeout: return "timeout";
    case op_status::would_block: return "would_block";
    case op_status::canceled: return "canceled";
  }
  return "?";
}

namespace detail {

void throw_status(op_status s, const char* what) {
  switch (s) {
    case op_status::closed: throw error(errc::closed, std::string(what) + ": the channel is closed");
    case op_status::timeout: throw error(errc::timed_out, std::string(what) + ": timed out");
    case op_status::would_block: throw error(errc::invalid_state, std::string(what) + ": nothing was ready");
    case op_status::canceled:
      throw error(errc::canceled, std::string(what) + ": stop was requested on the calling thread");
    case op_status::ok: break;
  }
  throw error(errc::invalid_state, std::string(what));
}

long long msg_deadline_in(long long timeout_ns, const char* what) { return deadline_after(timeout_ns, what); }

namespace {

void list_push(chan_list& l, chan_node& n) noexcept { ilist_push_back(l, n); }
void list_unlink(chan_list& l, chan_node& n) noexcept { ilist_unlink(l, n); }

// Step 1 of waking: unlink n and claim its waiter for this operation.
bool claim(chan_list& l, chan_node& n) noexcept {
  list_unlink(l, n);
  if (!try_claim(*n.w)) return false;
  n.w->value = n.index;
  return true;
}

// The first blocked receiver whose filter accepts the value at src, claimed.
chan_node* claim_receiver(chan_list& q, const void* src) noexcept {
  for (chan_node* n = q.head; n;) {
    chan_node* next = n->next;
    if ((!n->pred || n->pred->fn(n->pred->ctx, src)) && claim(q, *n)) return n;
    n = next;
  }
  return nullptr;
}

// The first blocked sender whose value pred accepts (any if pred is null),
// claimed; with by_prio, the highest-priority one (first among equals).
chan_node* claim_sender(chan_list& q, const chan_pred* pred, bool by_prio) noexcept {
  for (;;) {
    chan_node* best = nullptr;
    for (chan_node* n = q.head; n; n = n->next) {
      if (n->w->load() != wake_status::pending) continue;
      if (pred && !pred->fn(pred->ctx, n->slot)) continue;
      if (!best || n->prio > best->prio) best = n;
      if (!by_prio) break;
    }
    if (!best) return nullptr;
    if (claim(q, *best)) return best;
    // It timed out (or its select fired elsewhere) between the look and the claim.
  }
}

}  // namespace

bool chan_ops::send_now(chan_core& c, void* src, int prio, op_status& st, chan_node*& wake) {
  wake = nullptr;
  if (c.closed_) {
    st = op_status::closed;
    return true;
  }
  if (c.recvq_.head) {
    if (chan_node* r = claim_receiver(c.recvq_, src)) {
      c.deliver_(r->slot, src);
      r->result = op_status::ok;
      wake = r;
      st = op_status::ok;
      return true;
    }
  }
  if (c.size_ < c.cap_) {
    c.buf_->push(src, prio);
    ++c.size_;
    st = op_status::ok;
    return true;
  }
  return false;
}

bool chan_ops::recv_now(chan_core& c, void* sink, const chan_pred* pred, op_status& st, chan_node*& wake) noexcept {
  wake = nullptr;
  if (c.size_ > 0) {
    bool got = true;
    if (pred) got = c.buf_->pop_match(*pred, sink);
    else c.buf_->pop(sink);
    if (got) {
      --c.size_;
      // A slot came free: the first blocked sender (if the buffer was full)
      // moves in behind the others. The push reuses the freed slot, so it
      // cannot throw.
      if (c.sendq_.head) {
        if (chan_node* s = claim_sender(c.sendq_, nullptr, c.prio_senders_)) {
          c.buf_->push(s->slot, s->prio);
          ++c.size_;
          s->result = op_status::ok;
          wake = s;
        }
      }
      st = op_status::ok;
      return true;
    }
  }
  if (c.sendq_.head) {
    if (chan_node* s = claim_sender(c.sendq_, pred, c.prio_senders_)) {
      c.deliver_(sink, s->slot);
      s->result = op_status::ok;
      wake = s;
      st = op_status::ok;
      return true;
    }
  }
  if (c.closed_) {
    st = op_status::closed;
    return true;
  }
  return false;
}

void chan_ops::enqueue(chan_core& c, chan_node& n, bool is_send) noexcept {
  list_push(is_send ? c.sendq_ : c.recvq_, n);
}

void chan_ops::dequeue(chan_core& c, chan_node& n, bool is_send) noexcept {
  if (n.linked) list_unlink(is_send ? c.sendq_ : c.recvq_, n);
}

namespace {

// Blocks the caller on c with node n queued; c is locked and released by park.
op_status wait_on(chan_core& c, chan_node& n, waiter& w, bool is_send, std::int64_t deadline) {
  chan_ops::enqueue(c, n, is_send);
  wait_reason why = chan_ops::is_mailbox(c) ? wait_reason::mailbox
                    : is_send                  ? wait_reason::channel_send
                                               : wait_reason::channel_recv;
  // A stop request races the partner's claim through the waiter's CAS: if
  // it wins, no partner touched the node, so the value is still the
  // sender's (handed back) or was never delivered to this receiver.
  wake_status s = park_cancellable(chan_ops::queue(c), w, deadline, why);
  if (s == wake_status::notified) return n.result;
  chan_ops::lock(c);
  chan_ops::dequeue(c, n, is_send);
  chan_ops::unlock(c);
  return s == wake_status::canceled ? op_status::canceled : op_status::timeout;
}

}  // namespace

chan_core::chan_core(std::size_t capacity, chan_buffer* buf, void (*deliver)(void*, void*) noexcept,
                     bool prio_senders, bool mailbox) noexcept
    : cap_(capacity), buf_(buf), deliver_(deliver), prio_senders_(prio_senders), mailbox_(mailbox) {}

chan_core::~chan_core() {
  WEFT_CHECK(!sendq_.head && !recvq_.head, "a channel was destroyed while threads were still blocked on it");
}

op_status chan_core::send(void* src, int prio, std::int64_t deadline, bool nonblock) {
  op_status st = op_status::would_block;
  chan_node* wake;
  chan_ops::lock(*this);
  bool done;
  try {
    done = chan_ops::send_now(*this, src, prio, st, wake);
  } catch (...) {
    chan_ops::unlock(*this);
    throw;
  }
  if (done || nonblock) {
    chan_ops::unlock(*this);
    chan_ops::finish_wake(wake);
    return done ? st : op_status::would_block;
  }
  waiter w = make_waiter();
  chan_node n;
  n.w = &w;
  n.slot = src;
  n.prio = prio;
  return wait_on(*this, n, w, true, deadline);
}

op_status chan_core::recv(void* sink, const chan_pred* pred, std::int64_t deadline, bool nonblock) {
  op_status st = op_status::would_block;
  chan_node* wake;
  chan_ops::lock(*this);
  bool done = chan_ops::recv_now(*this, sink, pred, st, wake);
  if (done || nonblock) {
    chan_ops::unlock(*this);
    chan_ops::finish_wake(wake);
    return done ? st : op_status::would_block;
  }
  waiter w = make_waiter();
  chan_node n;
  n.w = &w;
  n.slot = sink;
  n.pred = pred;
  return wait_on(*this, n, w, false, deadline);
}

bool chan_core::close() noexcept {
  chan_ops::lock(*this);
  if (closed_) {
    chan_ops::unlock(*this);
    return false;
  }
  closed_ = true;
  // Claim every blocked operation and chain the claimed nodes through `next`
  // (nobody else touches a claimed node), so the wakes run after unlocking.
  chan_node* woken = nullptr;
  for (chan_list* l : {&sendq_, &recvq_}) {
    while (chan_node* n = l->head) {
      if (claim(*l, *n)) {
        n->result = op_status::closed;
        n->next = woken;
        woken = n;
      }
    }
  }
  chan_ops::unlock(*this);
  while (woken) {
    chan_node* next = woken->next;
    chan_ops::finish_wake(woken);
    woken = next;
  }
  return true;
}

bool chan_core::closed() const noexcept {
  wq_lock(q_);
  bool c = closed_;
  wq_unlock(q_);
  return c;
}

std::size_t chan_core::size() const noexcept {
  wq_lock(q_);
  std::size_t n = size_;
  wq_unlock(q_);
  return n;
}

}  // namespace detail
}  // namespace weft
