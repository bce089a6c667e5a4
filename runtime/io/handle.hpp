// An open descriptor as the I/O layer sees it: the state that sockets and
// files share, and the close/cancel protocol.
//
// Operations. Every operation enters through handle_op(), which counts it in
// `in_flight` under the gate lock (refusing it once the handle is closing),
// runs it on the caller's engine (or, on a foreign kernel thread, as a plain
// syscall with poll(2)), and counts it out under the same lock.
//
// Cancellation (cancel(), and close() from another thread while operations
// wait):
//   1. bump cancel_gen (close() also sets `closing` under the gate lock);
//   2. wake the readiness waiters (read_waiters/write_waiters) -- epoll engine and foreign waits
//      notice the new generation and return -ECANCELED;
//   3. if operations are in flight, post a cancel-by-fd to every io_uring
//      engine of the runtime and wait until each has run it, so every
//      cancelled SQE has completed with -ECANCELED -- the kernel never keeps
//      a pointer into a returned thread's buffers.
// An operation that entered before step 1 on some worker queued its SQE
// before that worker could process the cancel request (a worker runs
// requests only between green threads), so the cancel finds it.
//
// Foreign kernel threads wait in ppoll(2) on the fd plus an eventfd of their
// own (one per thread, made at its first wait), linked into `foreign` while
// they wait; cancellation writes each linked eventfd after step 1, so they
// notice at once.
//
// Regular files on the epoll engine wait on the offload pool, parked on
// `oq` (offload.hpp); cancellation wakes that queue too.
//
// close(), in steps: mark `closing` (new operations fail with EBADF), cancel
// as above, wait on the gate until in_flight is zero, remove the fd from
// epoll, close(2) it. Since in_flight is only changed under the gate lock
// and the closer parks on that same gate, the last operation out hands over
// with complete() after it released the lock: once close() returns, no
// thread touches the handle or the fd number again. The handle's memory is
// freed only by its owner's destructor (destroy()), possibly deferred by the
// epoll engine until it cannot be returned by an epoll_wait batch any more.
#pragma once

#include <atomic>
#include <cstdint>

#include "io/engine.hpp"
#include "core/park.hpp"

namespace weft::detail::io {

// A foreign kernel thread inside wait_foreign() (handle.cpp), on its stack.
struct foreign_waiter {
  int wake_fd = -1;  // written by cancellation
  foreign_waiter* prev = nullptr;
  foreign_waiter* next = nullptr;
  bool linked = false;
};

// The foreign waiters of a handle (intrusive_list.hpp).
struct foreign_list {
  foreign_waiter* head = nullptr;
  foreign_waiter* tail = nullptr;
};

struct io_handle {
  int fd = -1;  // never changes, even after close (then `closing` is set)
  bool is_socket = false;  // writes go through send(MSG_NOSIGNAL)
  bool pollable = true;    // false: regular file (epoll engine offloads it)

  // Gate: its lock guards in_flight, in_engines, closing, rt and foreign; close() parks on it.
  wait_queue gate;
  int in_flight = 0;   // operations inside the handle
  int in_engines = 0;  // of those, the ones a green thread runs on an engine
  std::atomic<bool> closing{false};  // written under the gate lock
  runtime_impl* rt = nullptr;  // runtime whose engines may hold operations
  foreign_list foreign;  // foreign threads waiting in ppoll
  std::atomic<std::uint32_t> cancel_gen{0};
  // The last recv left data queued (a hint: the next one need not wait first).
  std::atomic<bool> more_queued{false};

  // Readiness (epoll engine and foreign waits): seq counters under read_waiters/write_waiters locks.
  wait_queue read_waiters, write_waiters;
  std::atomic<std::uint32_t> rseq{0}, wseq{0};
  wait_queue oq;  // regular-file calls waiting on the offload pool (epoll engine)
  std::atomic<engine*> epoll_home{nullptr};  // epoll engine it was registered with
  bool watched = false;                      // in that engine's epoll set (its lock)
  io_handle* reg_prev = nullptr;             // link in the home engine's list
  io_handle* reg_next = nullptr;
};

// Makes a handle owning fd (O_NONBLOCK is set for pollable descriptors,
// unless the caller made fd with it: SOCK_NONBLOCK saves a syscall per
// accepted connection).
io_handle* handle_create(int fd, bool is_socket, bool pollable, bool made_nonblocking = false);
// Closes the handle if needed and frees it (possibly deferred).
void handle_destroy(io_handle* h) noexcept;

// Runs r (r.fd is filled in) for the caller; result or -errno (-EBADF when
// closed, -ETIMEDOUT, -ECANCELED).
std::int64_t handle_op(io_handle& h, io_request& r, std::int64_t deadline_ns);
// Runs r with no handle (openat): on the caller's engine or as a plain
// syscall; result or -errno (-ETIMEDOUT when deadline_ns passed first).
std::int64_t unhandled_op(io_request& r, std::int64_t deadline_ns = -1);

// Cancels every operation waiting on h right now (they fail with ECANCELED);
// waits until the kernel has let go of them.
void handle_cancel(io_handle& h);
// Closes h as described above; -errno of close(2), 0 if fine or already closed.
int handle_close(io_handle& h);
bool handle_closed(io_handle& h) noexcept;

// Wakes h's readiness waiters (called by the epoll engine with the events
// seen); true if it woke a thread.
bool handle_ready(io_handle& h, bool readable, bool writable) noexcept;

}  // namespace weft::detail::io
