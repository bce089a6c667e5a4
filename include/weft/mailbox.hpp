// Mailboxes: direct communication, send(P, msg) / receive(Q, msg) of the OS
// notes. A green thread that wants mail declares the one type it accepts:
//
//   auto t = weft::spawn_with_mailbox<Order>([] {
//     auto m = weft::receive<Order>();      // m->from: the sender's id
//     ...
//   });
//   auto r = weft::send(t.id(), Order{...});  // fails with closed once t has ended
//
// or, inside a running thread, weft::open_mailbox<Order>(). The type is
// checked on every send and receive (a mismatch throws weft::error
// invalid_argument naming both types). The mailbox closes when its thread
// ends (a green-thread-local holds it): blocked senders get their message
// back with closed, later sends fail with closed, and messages nobody
// received are destroyed with it (receive them first, or use capacity 0 so a
// send completes only on receipt). Why typed, and the other choices: docs/messaging.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "channel.hpp"
#include "thread.hpp"

namespace weft {

// What a mailbox holds: the message and who sent it (0: a foreign kernel thread).
template <class T>
struct message {
  thread_id from = 0;
  T body;
};

namespace detail {

// A thread's mailbox: shared by its owner, the registry and senders in flight.
class mailbox_base {
 public:
  explicit mailbox_base(const std::type_info& t) noexcept : type(t) {}
  virtual ~mailbox_base() = default;
  mailbox_base(const mailbox_base&) = delete;
  mailbox_base& operator=(const mailbox_base&) = delete;
  chan_core& core() noexcept { return *core_; }

  const std::type_info& type;
  std::atomic<std::uint32_t> refs{1};
  // Registry fields (runtime/msg/mailbox.cpp), guarded by its shard lock.
  const void* rt_key = nullptr;
  thread_id owner = 0;
  mailbox_base* hnext = nullptr;
  bool registered = false;
  bool dead = false;

 protected:
  chan_core* core_ = nullptr;
};

template <class T>
class typed_mailbox final : public mailbox_base {
 public:
  explicit typed_mailbox(std::size_t cap)
      : mailbox_base(typeid(T)), buf_(cap), ch_(cap, cap ? &buf_ : nullptr, &chan_deliver<message<T>>, false, true) {
    core_ = &ch_;
  }

 private:
  ring_buffer<message<T>> buf_;
  chan_core ch_;
};

// Adds a reference / drops one (the last frees the mailbox).
void mb_ref(mailbox_base* b) noexcept;
void mb_unref(mailbox_base* b) noexcept;
// The owner is gone (thread ended, or its spawn never ran it): close, unregister, drop the owner's reference.
void mb_owner_gone(mailbox_base* b) noexcept;
// Makes b (the caller's reference) the calling green thread's mailbox and
// registers it; throws weft::error(invalid_state) on a foreign thread or if
// the thread has a mailbox already (b is released then).
void mb_open(mailbox_base* b);
// spawn_with_mailbox, in the new thread before its function: takes over the owner reference.
void mb_adopt(mailbox_base* b) noexcept;
// spawn_with_mailbox, in the spawner: registers b under the new thread's id
// unless the thread already ended.
void mb_register_spawned(mailbox_base* b, tcb* t) noexcept;
// The mailbox of thread `to` in the caller's runtime, with a reference for
// the caller; null if that thread has none. Throws weft::error(no_runtime)
// on a foreign thread when not exactly one runtime is alive.
mailbox_base* mb_find(thread_id to);
// The calling thread's mailbox; throws weft::error(invalid_state) if it has none.
mailbox_base* mb_self(const char* what);
// Throws weft::error(invalid_argument): `what` used type `want` on a mailbox holding `have`.
[[noreturn]] void mb_wrong_type(const char* what, thread_id tid, const std::type_info& have,
                                const std::type_info& want);
// The caller's thread id (0 on a foreign thread).
thread_id mb_self_id() noexcept;

// An owner reference: closes the mailbox when dropped unused.
class mailbox_owner_ref {
 public:
  explicit mailbox_owner_ref(mailbox_base* b) noexcept : b_(b) {}
  mailbox_owner_ref(mailbox_owner_ref&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  mailbox_owner_ref& operator=(mailbox_owner_ref&&) = delete;
  ~mailbox_owner_ref() {
    if (b_) mb_owner_gone(b_);
  }
  mailbox_base* release() noexcept { return std::exchange(b_, nullptr); }

 private:
  mailbox_base* b_;
};

template <class T>
void mb_check(const char* what, mailbox_base* b, thread_id tid) {
  if (b->type != typeid(T)) mb_wrong_type(what, tid, b->type, typeid(T));
}

template <class T>
send_result<T> mb_send(thread_id to, T& msg, long long deadline, bool nonblock, const char* what) {
  static_assert(std::is_nothrow_move_constructible_v<T>, "weft mailboxes need T's move constructor to be noexcept");
  mailbox_base* b = mb_find(to);
  if (!b) return send_result<T>(op_status::closed, std::move(msg));
  struct unref {
    mailbox_base* b;
    ~unref() { mb_unref(b); }
  } guard{b};
  mb_check<T>(what, b, to);
  message<T> m{mb_self_id(), std::move(msg)};
  op_status s = b->core().send(&m, 0, deadline, nonblock);
  if (s == op_status::ok) return send_result<T>(s);
  return send_result<T>(s, std::move(m.body));
}

template <class T>
recv_result<message<T>> mb_recv(const chan_pred* p, long long deadline, bool nonblock, const char* what) {
  mailbox_base* b = mb_self(what);  // the thread's own reference keeps it alive
  mb_check<T>(what, b, mb_self_id());
  recv_result<message<T>> r;
  r.set_status(b->core().recv(&r.sink(), p, deadline, nonblock));
  return r;
}

template <class T>
recv_result<message<T>> mb_recv_from(thread_id from, long long deadline, bool nonblock, const char* what) {
  auto match = [from](const message<T>& m) { return m.from == from; };
  chan_pred p = make_chan_pred<message<T>>(match);
  return mb_recv<T>(&p, deadline, nonblock, what);
}

}  // namespace detail

// Gives the calling green thread a mailbox for messages of type T (capacity
// as for channels: 0 rendezvous, N bounded, weft::unbounded). Throws
// weft::error(invalid_state) on a foreign thread or if it has one already.
template <class T>
void open_mailbox(std::size_t capacity = unbounded) {
  detail::mb_open(new detail::typed_mailbox<T>(capacity));
}

// Like spawn(), and the new thread has a mailbox for T from the start, so a
// send right after this returns cannot miss it. Throws as spawn().
template <class T, class F>
auto spawn_with_mailbox(F&& fn, const spawn_attrs& attrs = {}, std::size_t capacity = unbounded) {
  auto* b = new detail::typed_mailbox<T>(capacity);
  detail::mailbox_owner_ref owner(b);
  detail::mb_ref(b);  // the spawner's, until registered
  struct unref {
    detail::mailbox_base* b;
    ~unref() { detail::mb_unref(b); }
  } guard{b};
  auto t = spawn(
      [owner = std::move(owner), fn = std::forward<F>(fn)]() mutable -> decltype(auto) {
        detail::mb_adopt(owner.release());
        return fn();
      },
      attrs);
  detail::mb_register_spawned(b, t.native_handle());
  return t;
}

// Closes the caller's mailbox: later sends fail with closed, blocked
// senders get their message back, the caller can still receive what is
// queued. Throws weft::error(invalid_state) if it has no mailbox.
void close_mailbox();
// True if the calling thread has a mailbox.
bool has_mailbox() noexcept;

// Sends msg to thread `to`'s mailbox, waiting while a bounded one is full.
// closed (msg handed back): that thread has ended, closed its mailbox or
// never opened one. Throws weft::error(invalid_argument) if its mailbox
// holds another type, (no_runtime) from a foreign thread without a single runtime.
template <class T>
send_result<T> send(thread_id to, T msg) {
  return detail::mb_send(to, msg, -1, false, "weft::send");
}
// send() without waiting: would_block if a bounded mailbox is full.
template <class T>
send_result<T> try_send(thread_id to, T msg) {
  return detail::mb_send(to, msg, -1, true, "weft::try_send");
}
// send() waiting at most d; throws weft::error(invalid_argument) on a negative d.
template <class T, class Rep, class Period>
send_result<T> send_for(thread_id to, T msg, std::chrono::duration<Rep, Period> d) {
  return detail::mb_send(to, msg, detail::msg_deadline_for(d, "weft::send_for"), false,
                         "weft::send_for");
}
// send() waiting until t (steady clock) at most.
template <class T, class Duration>
send_result<T> send_until(thread_id to, T msg, std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
  return detail::mb_send(to, msg, detail::steady_deadline_ns(t, "weft::send_until"), false, "weft::send_until");
}

// Receives the oldest message from any sender, waiting for one (canceled
// when stop is requested on the calling green thread meanwhile). closed only
// after close_mailbox() and draining. Throws weft::error (invalid_state: no
// mailbox; invalid_argument: the mailbox holds another type).
template <class T>
recv_result<message<T>> receive() {
  return detail::mb_recv<T>(nullptr, -1, false, "weft::receive");
}
// receive() without waiting.
template <class T>
recv_result<message<T>> try_receive() {
  return detail::mb_recv<T>(nullptr, -1, true, "weft::try_receive");
}
// receive() waiting at most d; throws weft::error(invalid_argument) on a negative d.
template <class T, class Rep, class Period>
recv_result<message<T>> receive_for(std::chrono::duration<Rep, Period> d) {
  return detail::mb_recv<T>(nullptr, detail::msg_deadline_for(d, "weft::receive_for"), false,
                            "weft::receive_for");
}
// receive() waiting until t (steady clock) at most.
template <class T, class Duration>
recv_result<message<T>> receive_until(std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
  return detail::mb_recv<T>(nullptr, detail::steady_deadline_ns(t, "weft::receive_until"), false, "weft::receive_until");
}

// Receives the oldest message sent by thread `from` (0: foreign threads),
// leaving others queued; waits for one. Throws as receive().
template <class T>
recv_result<message<T>> receive_from(thread_id from) {
  return detail::mb_recv_from<T>(from, -1, false, "weft::receive_from");
}
// receive_from() without waiting.
template <class T>
recv_result<message<T>> try_receive_from(thread_id from) {
  return detail::mb_recv_from<T>(from, -1, true, "weft::try_receive_from");
}
// receive_from() waiting at most d; throws weft::error(invalid_argument) on a negative d.
template <class T, class Rep, class Period>
recv_result<message<T>> receive_from_for(thread_id from, std::chrono::duration<Rep, Period> d) {
  return detail::mb_recv_from<T>(from, detail::msg_deadline_for(d, "weft::receive_from_for"),
                                 false, "weft::receive_from_for");
}

// receive_from() waiting until t (steady clock) at most.
template <class T, class Duration>
recv_result<message<T>> receive_from_until(thread_id from, std::chrono::time_point<std::chrono::steady_clock, Duration> t) {
  return detail::mb_recv_from<T>(from, detail::steady_deadline_ns(t, "weft::receive_from_until"), false, "weft::receive_from_until");
}

}  // namespace weft
