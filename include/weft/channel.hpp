// Channels: indirect communication between any number of senders and
// receivers, green threads or plain kernel threads alike.
//
//   weft::channel<T> ch(0);        // rendezvous: a send completes when a receiver takes the value
//   weft::channel<T> ch(16);       // bounded: a send blocks while 16 values wait
//   weft::channel<T> ch(weft::unbounded);  // a send never blocks; memory grows
//
// Every operation comes in the four forms of the OS notes: block (send,
// recv), return at once (try_send, try_recv), wait at most a duration or
// until a deadline (send_for/recv_for, send_until/recv_until). Results say
// which case happened (op_status) and a failed send hands its value back.
// Values are received in the order they were sent (FIFO per channel).
// See docs/messaging.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "detail/chan_buffers.hpp"
#include "detail/chan_core.hpp"
#include "detail/duration.hpp"
#include "detail/msg_result.hpp"

namespace weft {

// The capacity of a channel (or mailbox) that never fills.
inline constexpr std::size_t unbounded = detail::chan_unbounded;

template <class T>
class channel;
template <class T>
class priority_channel;

namespace detail {
// The typed operations both channel kinds share. T's move constructor must
// not throw: values move under the channel's lock.
template <class T>
class chan_base {
  static_assert(!std::is_reference_v<T> && std::is_object_v<T>, "weft channels carry object types");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "weft channels need T's move constructor to be noexcept (values move under the channel's lock)");

 public:
  // Receives the oldest value, waiting while there is none; closed once closed and drained;
  // canceled when stop is requested on the calling green thread while it waits (every
  // waiting send and receive here, and in mailbox.hpp, reports canceled so; a send gives its value back).
  recv_result<T> recv() { return do_recv(nullptr, -1, false); }
  // Receives without waiting; would_block if nothing is there.
  recv_result<T> try_recv() { return do_recv(nullptr, -1, true); }
  // Receives, waiting at most d; throws weft::error(invalid_argument) on a negative d.
  template <class Rep, class Period>
  recv_result<T> recv_for(std::chrono::duration<Rep, Period> d) {
    return do_recv(nullptr, detail::msg_deadline_for(d, "channel::recv_for"), false);
  }
  // Receives, waiting until t (steady clock) at most.
  template <class Duration>
  recv_result<T> recv_until(std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
    return do_recv(nullptr, detail::steady_deadline_ns(t, "channel::recv_until"), false);
  }

  // Receives the first value (in receive order) that pred accepts, waiting
  // for one: the msgrcv message-type analogue. pred runs under the channel's
  // lock, maybe on a sender's thread: keep it quick; it must not throw or block.
  template <class Pred>
  recv_result<T> recv_if(const Pred& pred) {
    chan_pred p = make_chan_pred<T>(pred);
    return do_recv(&p, -1, false);
  }
  // recv_if without waiting.
  template <class Pred>
  recv_result<T> try_recv_if(const Pred& pred) {
    chan_pred p = make_chan_pred<T>(pred);
    return do_recv(&p, -1, true);
  }
  // recv_if waiting at most d; throws weft::error(invalid_argument) on a negative d.
  template <class Pred, class Rep, class Period>
  recv_result<T> recv_if_for(const Pred& pred, std::chrono::duration<Rep, Period> d) {
    chan_pred p = make_chan_pred<T>(pred);
    return do_recv(&p, detail::msg_deadline_for(d, "channel::recv_if_for"), false);
  }

  // Closes the channel: later sends fail with closed (value handed back),
  // blocked senders wake with closed and their value, receivers drain what is
  // buffered and then get closed. Returns false if it was already closed.
  bool close() noexcept { return core_.close(); }
  // True once closed.
  bool closed() const noexcept { return core_.closed(); }
  // Values buffered now (a snapshot).
  std::size_t size() const noexcept { return core_.size(); }
  // The capacity given at construction (weft::unbounded for none).
  std::size_t capacity() const noexcept { return core_.capacity(); }

  // For select and the runtime.
  chan_core& core() noexcept { return core_; }

 protected:
  chan_base(std::size_t cap, chan_buffer* buf, bool prio) noexcept : core_(cap, buf, &chan_deliver<T>, prio) {}
  ~chan_base() = default;

  send_result<T> do_send(T& v, int prio, long long deadline, bool nonblock) {
    op_status s = core_.send(&v, prio, deadline, nonblock);
    if (s == op_status::ok) return send_result<T>(s);
    return send_result<T>(s, std::move(v));
  }

 private:
  recv_result<T> do_recv(const chan_pred* p, long long deadline, bool nonblock) {
    recv_result<T> r;
    r.set_status(core_.recv(&r.sink(), p, deadline, nonblock));
    return r;
  }

  chan_core core_;
};
}  // namespace detail

// A FIFO channel of T. Neither copyable nor movable: share it by reference
// or std::shared_ptr. Destroying it while a thread is blocked on it aborts.
template <class T>
class channel final : private detail::ring_buffer<T>, public detail::chan_base<T> {
 public:
  // capacity 0: rendezvous; N: bounded; weft::unbounded: never full. The
  // buffer grows on demand up to the capacity.
  explicit channel(std::size_t capacity = 0) noexcept
      : detail::ring_buffer<T>(capacity), detail::chan_base<T>(capacity, capacity ? static_cast<detail::ring_buffer<T>*>(this) : nullptr, false) {}

  // Sends v, waiting while the channel is full (at capacity 0: until a
  // receiver takes it). On failure (closed) the result holds v.
  send_result<T> send(T v) { return this->do_send(v, 0, -1, false); }
  // Sends without waiting; would_block (v handed back) if it cannot.
  send_result<T> try_send(T v) { return this->do_send(v, 0, -1, true); }
  // Sends, waiting at most d; throws weft::error(invalid_argument) on a negative d.
  template <class Rep, class Period>
  send_result<T> send_for(T v, std::chrono::duration<Rep, Period> d) {
    return this->do_send(v, 0, detail::msg_deadline_for(d, "channel::send_for"), false);
  }
  // Sends, waiting until t (steady clock) at most.
  template <class Duration>
  send_result<T> send_until(T v, std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
    return this->do_send(v, 0, detail::steady_deadline_ns(t, "channel::send_until"), false);
  }
};

// A channel that hands out the highest priority first, FIFO within a
// priority (the mq_send priority analogue). It needs a buffer: capacity >= 1
// or weft::unbounded. Senders blocked on a full one enter the buffer highest
// priority first, too. T must also be nothrow move-assignable (heap order).
template <class T>
class priority_channel final : private detail::prio_buffer<T>, public detail::chan_base<T> {
  static_assert(std::is_nothrow_move_assignable_v<T>, "weft::priority_channel needs a noexcept move assignment");

 public:
  // Throws weft::error(invalid_argument) for capacity 0.
  explicit priority_channel(std::size_t capacity = unbounded)
      : detail::chan_base<T>(check(capacity), static_cast<detail::prio_buffer<T>*>(this), true) {}

  // Sends v with priority prio (higher first), waiting while full.
  send_result<T> send(T v, int prio = 0) { return this->do_send(v, prio, -1, false); }
  // Sends without waiting.
  send_result<T> try_send(T v, int prio = 0) { return this->do_send(v, prio, -1, true); }
  // Sends, waiting at most d; throws weft::error(invalid_argument) on a negative d.
  template <class Rep, class Period>
  send_result<T> send_for(T v, int prio, std::chrono::duration<Rep, Period> d) {
    return this->do_send(v, prio, detail::msg_deadline_for(d, "priority_channel::send_for"), false);
  }

 private:
  static std::size_t check(std::size_t capacity) {
    if (capacity == 0)
      throw error(errc::invalid_argument, "priority_channel: capacity 0 has no buffer to order; use >= 1");
    return capacity;
  }
};

}  // namespace weft
