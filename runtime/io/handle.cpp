// Handles: operation accounting, cancellation and close. The protocol is in
// handle.hpp's header comment.
#include "io/handle.hpp"

#include <algorithm>
#include <cerrno>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.hpp"
#include "base/intrusive_list.hpp"
#include "io/offload.hpp"
#include "core/runtime_impl.hpp"
#include "weft/this_thread.hpp"
#include "core/worker.hpp"

namespace weft::detail::io {
namespace {

// Only when a foreign thread cannot get an eventfd (EMFILE) does it wait in
// ppoll slices this long, so cancel()/close() still reach it within one.
constexpr std::int64_t foreign_slice_ns = 50'000'000;

// The calling kernel thread's wake-up eventfd, made at its first foreign
// wait and closed when the thread exits; -1 if none can be made.
int thread_wake_fd() noexcept {
  struct owned_fd {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ~owned_fd() {
      if (fd >= 0) ::close(fd);
    }
  };
  thread_local owned_fd t;
  if (t.fd < 0) t.fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);  // retry: EMFILE may have passed
  return t.fd;
}

// Links (or unlinks) a foreign waiter under the gate lock, which is the lock
// cancel_all() holds while it writes the wake-up eventfds.
void link_foreign(io_handle& h, foreign_waiter& f) noexcept {
  wq_lock(h.gate);
  ilist_push_back(h.foreign, f);
  wq_unlock(h.gate);
}

void unlink_foreign(io_handle& h, foreign_waiter& f) noexcept {
  wq_lock(h.gate);
  ilist_unlink(h.foreign, f);
  wq_unlock(h.gate);
}

// Counts an operation in; false once the handle is closing.
bool enter(io_handle& h, runtime_impl* s) noexcept {
  wq_lock(h.gate);
  if (h.closing.load(std::memory_order_relaxed)) {
    wq_unlock(h.gate);
    return false;
  }
  ++h.in_flight;
  if (s) {
    ++h.in_engines;
    h.rt = s;
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

// Waits in ppoll(2) until fd is ready, or the thread's eventfd says the
// handle was cancelled; 0, -ETIMEDOUT or -ECANCELED.
std::int64_t wait_foreign(io_handle& h, short events, std::int64_t deadline, std::uint32_t gen) {
  foreign_waiter me;
  me.wake_fd = thread_wake_fd();
  // Linked before the generation check: a cancel either is seen by the
  // check or finds the link and writes the eventfd.
  if (me.wake_fd >= 0) link_foreign(h, me);
  std::int64_t res;
  for (;;) {
    if (cancelled(h, gen)) {
      res = -ECANCELED;
      break;
    }
    std::int64_t rel = me.wake_fd >= 0 ? -1 : foreign_slice_ns;
    if (deadline >= 0) {
      std::int64_t left = deadline - now_ns();
      if (left <= 0) {
        res = -ETIMEDOUT;
        break;
      }
      rel = rel < 0 ? left : std::min(rel, left);
    }
    timespec ts{static_cast<time_t>(rel / 1'000'000'000), static_cast<long>(rel % 1'000'000'000)};
    pollfd p[2] = {{h.fd, events, 0}, {me.wake_fd, POLLIN, 0}};
    int n = ::ppoll(p, me.wake_fd >= 0 ? 2 : 1, rel >= 0 ? &ts : nullptr, nullptr);
    if (n < 0 && errno != EINTR) {
      res = -errno;
      break;
    }
    if (n > 0 && p[1].revents) {
      // Ours alone: drain it (a write meant for an earlier wait is drained
      // here too, as one spurious turn of the loop).
      std::uint64_t v;
      [[maybe_unused]] ssize_t r = ::read(me.wake_fd, &v, sizeof v);
    }
    if (n > 0 && p[0].revents) {
      res = 0;
      break;
    }
  }
  if (me.wake_fd >= 0) unlink_foreign(h, me);
  return res;
}

// The outcome of a connect that said EINPROGRESS, once the socket is writable.
std::int64_t connect_result(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -errno;
  return -err;
}

std::int64_t run_foreign(io_handle& h, io_request& r, std::int64_t deadline, std::uint32_t gen) {
  // A regular file cannot be waited for: the call is the plain (blocking)
  // syscall, or, with its deadline already past, the non-blocking attempt.
  if (!h.pollable && deadline >= 0 && now_ns() >= deadline) return perform_nowait(r);
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
void cancel_in_kernel(io_handle& h, runtime_impl& s) {
  cancel_batch b;
  b.fd = h.fd;
  b.remaining = static_cast<int>(s.worker_count()) + 1;  // +1: ours, dropped below
  // A rare path (cancel or close with operations in flight): one node per engine.
  std::vector<cancel_request> parts(s.worker_count());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    parts[i].batch = &b;
    engine_of(s.worker_at(i)).post_cancel(parts[i]);
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
  wake_all(h.read_waiters);
  wake_all(h.write_waiters);
  if (!h.pollable) {
    wake_all(h.oq);
    offload_wake_held_back();
  }
  wq_lock(h.gate);
  // Written under the lock their owners unlink under: none can have gone.
  for (foreign_waiter* f = h.foreign.head; f; f = f->next) {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(f->wake_fd, &one, sizeof one);
  }
  // Only operations on an engine are in a kernel queue; while one is, its
  // runtime (h.rt) cannot have been destroyed.
  int n = h.in_engines;
  runtime_impl* s = h.rt;
  wq_unlock(h.gate);
  if (n > 0 && s) cancel_in_kernel(h, *s);
}

}  // namespace

io_handle* handle_create(int fd, bool is_socket, bool pollable, bool made_nonblocking) {
  if (pollable && !made_nonblocking) {
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
  if (!enter(h, green ? &w->rt : nullptr)) return -EBADF;
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
  // -EINTR: io_uring interrupted a call its worker thread had started (a
  // FIFO's open, a pipe read) to cancel it.
  if (res == -ECANCELED || res == -ETIMEDOUT || res == -EINTR) {
    if (closing) return -EBADF;
    if (cancelled(h, gen)) return -ECANCELED;
    if (deadline >= 0 && now_ns() >= deadline) return -ETIMEDOUT;
  }
  return res;
}

std::int64_t unhandled_op(io_request& r, std::int64_t deadline) {
  if (current_engine()) {
    std::int64_t res = run_engine(nullptr, r, deadline, 0);
    bool late = deadline >= 0 && now_ns() >= deadline;
    return late && (res == -ECANCELED || res == -EINTR) ? -ETIMEDOUT : res;
  }
  return deadline >= 0 && now_ns() >= deadline ? perform_nowait(r) : perform(r);
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
  if (readable) woke |= bump_and_wake(h.read_waiters, h.rseq);
  if (writable) woke |= bump_and_wake(h.write_waiters, h.wseq);
  return woke;
}

}  // namespace weft::detail::io
