// Layer 6: the I/O engine seam.
//
// Every worker owns one engine. It is the one place an idle worker sleeps
// (worker::sleep_until calls wait(), worker::notify calls wake()), and the
// place where a green thread's I/O waits: run() performs one operation for
// the calling green thread and parks it -- through park.hpp, like any other
// wait -- until the operation is done, so the worker keeps running others.
//
// Two implementations behind this interface:
//   uring_engine.cpp  one io_uring per worker. run() queues an SQE and parks;
//                     SQEs are submitted in batches (poll/wait, i.e. once per
//                     scheduling round), CQEs make their waiters ready.
//                     Timeouts are kernel linked timeouts, so a timed-out
//                     operation is cancelled by the kernel and its CQE
//                     arrives before the waiter (and its buffers) go away.
//   epoll_engine.cpp  readiness: run() tries the syscall non-blocking and on
//                     EAGAIN parks on the fd's read or write wait queue,
//                     which the epoll instance (edge triggered, registered at
//                     the first EAGAIN) wakes. Regular files, which epoll
//                     cannot watch, go to the offload pool
//                     (withdrawable while queued, offload.hpp).
// Which one a runtime uses is decided once per process (engine.cpp):
// options::io, then WEFT_IO_ENGINE, then io_uring if the kernel allows it.
//
// Who calls what: start/poll/wait/run/has_completions only on the owning
// worker's kernel thread (an io_uring set up with SINGLE_ISSUER must only be
// entered by that thread); wake/post_cancel from any thread.
//
// Invariant the uring engine relies on: completions are dispatched only by
// poll() and wait(), which the worker calls between green threads (never
// while a thread is between queueing its SQE and having parked), so a CQE
// can never make ready a thread that is still running.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/park.hpp"
#include "core/poller.hpp"

namespace weft {
struct options;
}

namespace weft::detail {
class worker;
class runtime_impl;
}  // namespace weft::detail

namespace weft::detail::io {

class engine;
struct io_handle;

// The operations a handle can ask an engine for.
enum class opcode : std::uint8_t {
  read,     // read(2) / pread(2) when offset >= 0
  write,    // write(2) / pwrite(2) when offset >= 0
  readv,
  writev,
  recv,     // flags = MSG_*
  send,     // flags = MSG_* (MSG_NOSIGNAL always added)
  recvmsg,
  sendmsg,
  accept,   // addr/addrlen_out may be null; flags = SOCK_*
  connect,  // addr/addrlen
  fsync,    // flags = 0 or 1 (datasync)
  openat,   // path, flags = O_*, mode; fd = dirfd
  close,
  poll,     // wait until fd is ready for flags = POLLIN/POLLOUT; result: revents
};

// One operation, filled in by the socket/file layer. Lives on the waiting
// thread's stack until run() returns.
struct io_request {
  opcode op = opcode::read;
  int fd = -1;
  void* buf = nullptr;
  std::size_t len = 0;
  std::int64_t offset = -1;  // files; -1: current position
  int flags = 0;
  const iovec* iov = nullptr;
  int iovcnt = 0;
  msghdr* msg = nullptr;
  const sockaddr* addr = nullptr;
  socklen_t addrlen = 0;
  sockaddr* addr_out = nullptr;     // accept: peer address
  socklen_t* addrlen_out = nullptr;
  const char* path = nullptr;
  unsigned mode = 0;
  std::uint32_t gen = 0;  // the handle's cancel generation when the call began
  // recv/recvmsg: the caller expects no data yet (see socket.cpp), so an
  // engine may wait for readiness before the first attempt.
  bool expect_wait = false;
  // Out, recv/recvmsg: the engine knows more data is already queued.
  bool more_queued = false;
};

// True for the operations that wait for readability (vs writability).
bool waits_readable(opcode op) noexcept;

// Performs r as one plain, non-blocking syscall (for sockets; may block for
// regular files); returns the result or -errno. Used by the epoll engine,
// the offload pool and foreign threads.
std::int64_t perform(const io_request& r) noexcept;

// The one attempt of a regular-file call whose deadline has already passed
// (epoll engine, foreign threads): what the kernel can do without blocking
// -- reads and writes with RWF_NOWAIT (page cache), open with
// RESOLVE_CACHED -- and -ETIMEDOUT for what would block (fsync always).
std::int64_t perform_nowait(const io_request& r) noexcept;

// A batch of cancel requests a thread posts to several engines and waits for
// as a whole (handle.cpp). Engines count `remaining` down under q's lock and
// the one that reaches zero completes the waiter.
struct cancel_batch {
  wait_queue q;
  int remaining = 0;
  int fd = -1;
  // Called by an engine when its part is done; touches nothing afterwards.
  void done_one() noexcept;
};

// One engine's part of a batch: each engine links its own node.
struct cancel_request {
  cancel_batch* batch = nullptr;
  cancel_request* next = nullptr;  // link in the engine's remote list
};

enum class engine_kind { uring, epoll };

// run() result: the ring has no room right now; yield and call again.
inline constexpr std::int64_t ring_full = INT64_MIN;

// An engine is the worker's poller (core/poller.hpp: start, poll, wait,
// wake, has_completions) plus the I/O operations below.
class engine : public poller {
 public:
  explicit engine(worker& w) : owner(w) {}
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // "io_uring" or "epoll".
  virtual const char* name() const noexcept = 0;
  virtual engine_kind kind() const noexcept = 0;
  // Performs r for the calling green thread (which runs on this engine's
  // worker) and parks it until done. Returns the result or -errno:
  // -ETIMEDOUT when deadline_ns passed first, -ECANCELED when h was
  // cancelled or closed meanwhile, or ring_full. h is null for operations
  // without a handle. An engine may also hand back -EAGAIN (io_uring on old
  // kernels, for O_NONBLOCK files) or -EINPROGRESS (connect): the caller
  // then waits with an opcode::poll and retries (handle.cpp).
  virtual std::int64_t run(io_request& r, io_handle* h, std::int64_t deadline_ns) = 0;
  // Cancels, in the kernel, every operation of this engine on r.batch->fd
  // (any thread); calls r.batch->done_one() when finished.
  virtual void post_cancel(cancel_request& r) noexcept = 0;
  // Stops watching h's fd (close() calls it before close(2)); any thread.
  virtual void unwatch(io_handle&) noexcept {}
  // Frees h once no dispatch batch can name it any more; any thread. Only
  // the engine in h.epoll_home is asked.
  virtual void retire(io_handle& h) noexcept;

  worker& owner;
};

// Which engine the runtime built from `opts` uses (the automatic choice is
// probed once per process); prints the choice to stderr the first time.
// `forced`: asked for by options::io or WEFT_IO_ENGINE, not chosen.
struct engine_choice {
  engine_kind kind;
  bool forced;
};
engine_choice choose_engine(const options& opts);

// Makes the engine for worker w: worker 0 chooses, the others follow it, so
// a runtime has one kind. Throws weft::error(resource_exhausted) when the
// engine cannot be set up (an automatic io_uring choice falls back to epoll).
std::unique_ptr<engine> make_engine(worker& w);
// make_engine as the core's poller factory (core/poller.hpp).
std::unique_ptr<poller> make_poller(worker& w);
// Null (and err = errno) if no ring can be set up.
std::unique_ptr<engine> make_uring_engine(worker& w, int& err);
std::unique_ptr<engine> make_epoll_engine(worker& w);

// The engine of the calling green thread's worker; null on a foreign thread.
engine* current_engine() noexcept;

// Worker w's engine. Every poller of a runtime is an engine: api.cpp builds
// runtimes with make_engine as their poller factory.
engine& engine_of(worker& w) noexcept;

}  // namespace weft::detail::io
