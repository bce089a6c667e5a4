// Handles: operation accounting, cancellation and close. The protocol is in
// handle.hpp's header comment.
#include "io/handle.hpp"

#include <algorithm>
#include <cerrno>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.hpp"
#include "scheduler.hpp"
#include "weft/this_thread.hpp"
#include "worker.hpp"

namespace weft::detail::io {
namespace {

// A foreign kernel thread waits in poll(2) in slices this long, so that
// cancel()/close() from another thread reach it within one slice.
constexpr int foreign_slice_ms = 50;

// Counts an operation in; false once the handle is closing.
bool enter(io_handle& h, scheduler* s) noexcept {
  wq_lock(h.gate);
  if (h.closing.load(std::memory_order_relaxed)) {
    wq_unlock(h.gate);
    return false;
  }
  ++h.in_flight;
  if (s) {
    ++h.in_engines;
    h.sched = s;
  }
  wq_unlock(h.gate);
  return true;
}

// Counts an operation out; the last one out hands over to a waiting closer.
// Returns whether the handle is closing.
bool leave(io_handle& h, bool engine) noexcept {
  wq_lock(h.gate);
  if (engine) --h.in_engines;
  bool closing = h.closing.load(std::memory_order_relaxed);
  waiter* w = (--h.in_flight == 0 && closing) ? wq_claim_first(h.gate) : nullptr;
  wq_unlock(h.gate);
  if (w) complete(*w);
  return closing;
}

bool cancelled(const io_handle& h, std::uint32_t gen) noexcept {
  return h.cancel_gen.load(std::memory_order_acquire) != gen;
}

// Waits in poll(2) until fd is ready; 0, -ETIMEDOUT or -ECANCELED.
std::int64_t wait_foreign(io_handle& h, short events, std::int64_t deadline, std::uint32_t gen) {
  for (;;) {
    if (cancelled(h, gen)) return -ECANCELED;
    int slice = foreign_slice_ms;
    if (deadline >= 0) {
      std::int64_t rel = deadline - now_ns();
      if (rel <= 0) return -ETIMEDOUT;
      slice = static_cast<int>(std::min<std::int64_t>(slice, (rel + 999'999) / 1'000'000));
    }
    pollfd p{h.fd, events, 0};
    int n = ::poll(&p, 1, slice);
    if (n > 0) return 0;
    if (n < 0 && errno != EINTR) return -errno;
  }
}

// The outcome of a connect that said EINPROGRESS, once the socket is writable.
std::int64_t connect_result(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -errno;
  return -err;
}

std::int64_t run_foreign(io_handle& h, io_request& r, std::int64_t deadline, std::uint32_t gen) {
  for (;;) {
    std::int64_t res = perform(r);
    if (r.op == opcode::connect && res == -EINPROGRESS) {
      if (std::int64_t w = wait_foreign(h, POLLOUT, deadline, gen); w < 0) return w;
      return connect_result(h.fd);
    }
    if (res != -EAGAIN && res != -EWOULDBLOCK) return res;
    short ev = r.op == opcode::poll ? static_cast<short>(r.flags) : waits_readable(r.op) ? POLLIN : POLLOUT;
    if (std::int64_t w = wait_foreign(h, ev, deadline, gen); w < 0) return w;
  }
}

// One operation on the engine of whichever worker runs the caller (it may
// change across every wait). The generation is checked before every
// submission: a retry queued after this worker already ran a cancel request
// would not be found by it.
std::int64_t run_engine(io_handle* h, io_request& r, std::int64_t deadline, std::uint32_t gen) {
  for (;;) {
    if (h && cancelled(*h, gen)) return -ECANCELED;
    std::int64_t res = current_engine()->run(r, h, deadline);
    if (res == ring_full) {
      this_thread::yield();
      continue;
    }
    bool in_progress = r.op == opcode::connect && res == -EINPROGRESS;
    if (h && (in_progress || res == -EAGAIN) && r.op != opcode::poll) {
      io_request p;
      p.op = opcode::poll;
      p.fd = r.fd;
      p.flags = in_progress || !waits_readable(r.op) ? POLLOUT : POLLIN;
      p.gen = gen;
      std::int64_t pr = run_engine(h, p, deadline, gen);
      if (pr < 0) return pr;
      if (in_progress) return connect_result(r.fd);
      continue;
    }
    return res;
  }
}

// Cancels the kernel operations on h.fd in every engine of s and waits until
// each engine has done so.
void cancel_in_kernel(io_handle& h, scheduler& s) {
  cancel_batch b;
  b.fd = h.fd;
  b.remaining = static_cast<int>(s.workers.size()) + 1;  // +1: ours, dropped below
  // A rare path (cancel or close with operations in flight): one node per engine.
  std::vector<cancel_request> parts(s.workers.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    parts[i].batch = &b;
    s.workers[i]->io->post_cancel(parts[i]);
  }
  waiter w = make_waiter();
  wq_lock(b.q);
  if (--b.remaining == 0) {
    wq_unlock(b.q);
    return;
  }
  wq_push(b.q, w);
  park(b.q, w, -1, wait_reason::io);
}

// Wakes every waiter of q after bumping its readiness sequence number.
bool bump_and_wake(wait_queue& q, std::atomic<std::uint32_t>& seq) noexcept {
  // The bump and the claims share one lock hold, so a waiter that checked the
  // sequence under the lock is either woken here or saw the new value.
  wq_lock(q);
  seq.fetch_add(1, std::memory_order_release);
  return wake_all_and_unlock(q) > 0;
}

// Cancels h's current operations: generation first, then waiters, then the kernel.
void cancel_all(io_handle& h) {
  h.cancel_gen.fetch_add(1, std::memory_order_seq_cst);
  wake_all(h.rq);
  wake_all(h.wq);
  wq_lock(h.gate);
  // Only operations on an engine are in a kernel queue; while one is, its
  // runtime (h.sched) cannot have been destroyed.
  int n = h.in_engines;
  scheduler* s = h.sched;
  wq_unlock(h.gate);
  if (n > 0 && s) cancel_in_kernel(h, *s);
}

}  // namespace

io_handle* handle_create(int fd, bool is_socket, bool pollable) {
  if (pollable) {
    int fl = ::fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK)) ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  }
  auto* h = new io_handle;
  h->fd = fd;
  h->is_socket = is_socket;
  h->pollable = pollable;
  return h;
}

void handle_destroy(io_handle* h) noexcept {
  handle_close(*h);
  if (engine* e = h->epoll_home.load(std::memory_order_acquire)) e->retire(*h);
  else delete h;
}

std::int64_t handle_op(io_handle& h, io_request& r, std::int64_t deadline) {
  worker* w = current_worker();
  bool green = w && w->current;
  if (!enter(h, green ? &w->sched : nullptr)) return -EBADF;
  std::uint32_t gen = h.cancel_gen.load(std::memory_order_acquire);
  r.fd = h.fd;
  r.gen = gen;
  std::int64_t res;
  try {
    res = green ? run_engine(&h, r, deadline, gen) : run_foreign(h, r, deadline, gen);
  } catch (...) {
    leave(h, green);  // offloaded file I/O can throw (no pool thread could start)
    throw;
  }
  bool closing = leave(h, green);
  if (res == -ECANCELED || res == -ETIMEDOUT) {
    if (closing) return -EBADF;
    if (cancelled(h, gen)) return -ECANCELED;
    if (deadline >= 0 && now_ns() >= deadline) return -ETIMEDOUT;
  }
  return res;
}

std::int64_t unhandled_op(io_request& r) {
  return current_engine() ? run_engine(nullptr, r, -1, 0) : perform(r);
}

void handle_cancel(io_handle& h) { cancel_all(h); }

int handle_close(io_handle& h) {
  wq_lock(h.gate);
  if (h.closing.load(std::memory_order_relaxed)) {
    wq_unlock(h.gate);
    return 0;
  }
  h.closing.store(true, std::memory_order_seq_cst);
  wq_unlock(h.gate);
  cancel_all(h);
  waiter w = make_waiter();
  wq_lock(h.gate);
  if (h.in_flight == 0) {
    wq_unlock(h.gate);
  } else {
    wq_push(h.gate, w);
    park(h.gate, w, -1, wait_reason::io);
  }
  if (engine* e = h.epoll_home.load(std::memory_order_acquire)) e->unwatch(h);
  // h.fd keeps the old number (error messages name it); `closing` says it is gone.
  return ::close(h.fd) == 0 || errno == EINTR ? 0 : -errno;
}

bool handle_closed(io_handle& h) noexcept { return h.closing.load(std::memory_order_acquire); }

bool handle_ready(io_handle& h, bool readable, bool writable) noexcept {
  bool woke = false;
  if (readable) woke |= bump_and_wake(h.rq, h.rseq);
  if (writable) woke |= bump_and_wake(h.wq, h.wseq);
  return woke;
}

}  // namespace weft::detail::io
