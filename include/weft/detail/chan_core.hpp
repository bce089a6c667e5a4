// The type-erased heart of every channel (and of every mailbox): the lock,
// the queues of blocked senders and receivers, the count of buffered values
// and the closed flag. The typed front ends (channel<T>, priority_channel<T>,
// mailboxes) only say how to move a T and where buffered values live; the
// protocol itself is in runtime/msg/chan_core.cpp, which opens with it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "duration.hpp"
#include "msg_result.hpp"
#include "wait_queue.hpp"

namespace weft::detail {

struct waiter;

// Converts a relative timeout to a deadline (steady ns); throws
// weft::error(invalid_argument) naming `what` if it is negative.
long long msg_deadline_in(long long timeout_ns, const char* what);

// The deadline d from now (steady ns), d saturated (duration.hpp) so that a
// "forever" in coarse units stays forever; throws as msg_deadline_in, or on a NaN d.
template <class Rep, class Period>
long long msg_deadline_for(std::chrono::duration<Rep, Period> d, const char* what) {
  return msg_deadline_in(saturating_ns(d, what), what);
}

// The capacity that means "no bound".
inline constexpr std::size_t chan_unbounded = static_cast<std::size_t>(-1);

// A filter over values (the msgrcv type analogue). It runs under the
// channel's lock, possibly on the sender's thread: quick, no blocking; the
// thunk is noexcept, so an exception terminates.
struct chan_pred {
  bool (*fn)(const void* ctx, const void* value) noexcept;
  const void* ctx;
};

// One blocked operation, on its thread's stack (Go's sudog). A select links
// one node per case, all sharing one waiter; whoever claims the waiter
// completes exactly that node's operation.
struct chan_node {
  chan_node* next = nullptr;
  chan_node* prev = nullptr;
  waiter* w = nullptr;           // claimed (pending -> claimed) by the party that completes the operation
  wait_queue* gate = nullptr;    // select only: a claimer passes its lock before complete()
  void* slot = nullptr;          // send: the T to move from; receive: the std::optional<T> to fill
  const chan_pred* pred = nullptr;  // receive: only values it accepts; null = any
  int prio = 0;                  // send on a priority channel
  std::uint32_t index = 0;       // select case number, written to w->value by the claimer
  op_status result = op_status::ok;  // written by the claimer: ok or closed
  bool linked = false;
};

struct chan_list {
  chan_node* head = nullptr;
  chan_node* tail = nullptr;
};

// Where buffered values live; one implementation per element type and order
// (FIFO ring, priority heap). Called only under the channel's lock.
class chan_buffer {
 public:
  // Moves the T at src in. May throw std::bad_alloc when it has to grow, and
  // then changes nothing. Never throws while it holds fewer values than it
  // ever held (a slot freed by a receive is reused without allocating).
  virtual void push(void* src, int prio) = 0;
  // Moves the next value out into sink (a std::optional<T>*). Not empty.
  virtual void pop(void* sink) noexcept = 0;
  // Moves the first value (in receive order) that p accepts into sink; false if none.
  virtual bool pop_match(const chan_pred& p, void* sink) noexcept = 0;

 protected:
  ~chan_buffer() = default;
};

class chan_core {
 public:
  // capacity 0: rendezvous (buf may be null); chan_unbounded: never full.
  // deliver move-constructs the T at src into the std::optional<T> at sink.
  // prio_senders: blocked senders enter the buffer highest priority first.
  // mailbox: blocked threads show wait_reason::mailbox instead of channel_send/recv.
  chan_core(std::size_t capacity, chan_buffer* buf, void (*deliver)(void* sink, void* src) noexcept,
            bool prio_senders = false, bool mailbox = false) noexcept;
  // Aborts with a message if a thread is still blocked on the channel.
  ~chan_core();
  chan_core(const chan_core&) = delete;
  chan_core& operator=(const chan_core&) = delete;

  // Sends the T at src (moved from only on ok). deadline: steady-clock ns, < 0 none;
  // nonblock: never wait. Returns ok, closed, timeout or would_block; may throw
  // std::bad_alloc from an unbounded buffer.
  op_status send(void* src, int prio, std::int64_t deadline, bool nonblock);
  // Receives into the std::optional<T> at sink; pred (may be null) filters.
  op_status recv(void* sink, const chan_pred* pred, std::int64_t deadline, bool nonblock);
  // Closes: blocked senders get closed back, receivers drain then get closed. False if already closed.
  bool close() noexcept;
  bool closed() const noexcept;
  std::size_t size() const noexcept;
  std::size_t capacity() const noexcept { return cap_; }

 private:
  friend struct chan_ops;  // the runtime's implementation (runtime/msg/chan_ops.hpp)

  mutable wait_queue q_;  // its lock is the channel lock; its own list stays empty (see chan_core.cpp)
  chan_list sendq_;
  chan_list recvq_;
  std::size_t size_ = 0;
  const std::size_t cap_;
  chan_buffer* const buf_;
  void (*const deliver_)(void* sink, void* src) noexcept;
  const bool prio_senders_;
  const bool mailbox_;
  bool closed_ = false;
};

}  // namespace weft::detail
