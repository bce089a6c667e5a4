// The io_uring engine: one ring per worker.
//
// An operation: the green thread takes an SQE, points its user_data at a
// uring_op on its own stack, and parks (park_until with no deadline: only
// the CQE wakes it). With a deadline, a LINK_TIMEOUT SQE follows, so the
// kernel cancels the operation when the time comes and the CQE
// (-ECANCELED) still arrives before the thread returns -- buffers are never
// left with the kernel. SQEs accumulate while the worker runs other threads
// and go to the kernel in one io_uring_enter per scheduling round: in poll()
// (worker::find_runnable, and every few picks on the switch path) or in
// wait(), which submits and sleeps in the same syscall.
//
// Sleeping and waking: an idle worker sleeps in wait() =
// io_uring_submit_and_wait_timeout with the earliest timer deadline, so
// completions, timers and wake-ups all reach it in one place. wake() writes
// an eventfd on which the ring always keeps one READ pending; a foreign
// thread can do that too (IORING_OP_MSG_RING needs a ring of the sender's
// own, which foreign threads lack).
//
// Cancel requests from other threads (handle.cpp) arrive on a locked list
// and are turned into ASYNC_CANCEL SQEs by the owning worker in poll()/wait(),
// after any SQE its threads queued earlier, so a cancel always finds them.
//
// user_data tags: 0 = a link timeout's own CQE (nothing to do), 1 = the wake
// eventfd read, cancel_request*|2 = a cancel, else a uring_op*.
#include <cerrno>
#include <cstring>
#include <ctime>

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/clock.hpp"
#include "io/engine.hpp"
#include "io/uring_probe.hpp"
#include "base/sanitizer.hpp"
#include "base/spinlock.hpp"
#include "core/worker.hpp"

namespace weft::detail::io {
namespace {

// SQ ring entries: one scheduling round rarely queues more; a full SQ is
// flushed on the spot (the kernel takes the SQEs at once), so the size only
// bounds syscalls per round, not concurrency.
constexpr unsigned sq_entries = 256;
// CQ entries: every parked operation can complete within one round (1000
// connections echoing on one worker), and with a link timeout an operation
// posts two CQEs. NODROP keeps overflow safe; this keeps it rare.
constexpr unsigned cq_entries = 8192;

constexpr std::uint64_t tag_link_timeout = 0;
constexpr std::uint64_t tag_wake = 1;
constexpr std::uint64_t tag_cancel = 2;

struct uring_op {
  waiter w;
  std::int32_t res = 0;
  std::uint32_t flags = 0;  // the CQE's
  __kernel_timespec ts{};
};

class uring_engine final : public engine {
 public:
  uring_engine(worker& w, unsigned flags) : engine(w), flags_(flags) {}

  // 0, or the errno of what failed.
  int init() {
    io_uring_params p{};
    // Created disabled: SINGLE_ISSUER names the thread that enables the
    // ring as its submitter, and that is the worker, in start().
    p.flags = flags_ | IORING_SETUP_CQSIZE | (single_issuer() ? IORING_SETUP_R_DISABLED : 0);
    p.cq_entries = cq_entries;
    if (int r = io_uring_queue_init_params(sq_entries, &ring_, &p); r < 0) return -r;
    ring_ok_ = true;
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) return errno;
    return 0;
  }

  ~uring_engine() override {
    if (ring_ok_) io_uring_queue_exit(&ring_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
  }

  const char* name() const noexcept override { return "io_uring"; }
  engine_kind kind() const noexcept override { return engine_kind::uring; }

  void start() override {
    if (single_issuer()) ::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
    // Saves the fd lookup on every io_uring_enter; registered per thread.
    io_uring_register_ring_fd(&ring_);
    arm_wake();
  }

  bool poll() noexcept override {
    drain_remote();
    // Deferred completions are collected by entering the kernel; with
    // TASKRUN_FLAG it says when there are any, else every poll must ask.
    if (io_uring_sq_ready(&ring_) || (defer() && inflight_ && !(flags_ & IORING_SETUP_TASKRUN_FLAG))) {
      if (defer()) io_uring_submit_and_get_events(&ring_);
      else io_uring_submit(&ring_);
    } else if (io_uring_cq_has_overflow(&ring_) || taskrun_pending()) {
      io_uring_get_events(&ring_);
    }
    return dispatch();
  }

  bool wait(std::int64_t deadline) noexcept override {
    drain_remote();
    if (io_uring_cq_ready(&ring_) && dispatch()) return true;  // the worker polls (and submits) next
    io_uring_cqe* cqe = nullptr;
    if (deadline >= 0) {
      std::int64_t rel = deadline - now_ns();
      if (rel < 0) rel = 0;
      __kernel_timespec ts{rel / 1'000'000'000, rel % 1'000'000'000};
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    } else {
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, nullptr, nullptr);
    }
    return dispatch();
  }

  void wake() noexcept override {
    std::uint64_t one = 1;
    // EAGAIN only when the counter is near overflow: a wake is pending anyway.
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  bool has_completions() const noexcept override {
    return io_uring_cq_ready(&ring_) != 0 || taskrun_pending() || remote_nonempty_.load(std::memory_order_acquire);
  }

  // Queued submissions count: they reach the kernel only at the next poll.
  bool may_have_events() const noexcept override { return io_uring_sq_ready(&ring_) != 0 || has_completions(); }

  // The armed wake-up read is not counted: a futex sleeper is woken by a
  // futex_wake, never by the eventfd.
  bool quiet() const noexcept override { return inflight_ == 0 && io_uring_sq_ready(&ring_) == 0 && !has_completions(); }

  std::int64_t run(io_request& r, io_handle*, std::int64_t deadline) override {
    unsigned need = deadline >= 0 ? 2 : 1;
    if (!make_room(need)) return ring_full;  // the caller yields and retries
    uring_op op{make_waiter()};
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    // A deadline (maybe already past: "try once") wants the first attempt.
    if (deadline >= 0) r.expect_wait = false;
    prep(sqe, r);
    io_uring_sqe_set_data(sqe, &op);
    if (deadline >= 0) {
      sqe->flags |= IOSQE_IO_LINK;
      op.ts.tv_sec = deadline / 1'000'000'000;
      op.ts.tv_nsec = deadline % 1'000'000'000;
      io_uring_sqe* t = io_uring_get_sqe(&ring_);
      io_uring_prep_link_timeout(t, &op.ts, IORING_TIMEOUT_ABS);
      t->user_data = tag_link_timeout;
    }
    ++inflight_;
    park_until(op.w, -1, wait_reason::io);
    // Possibly on another worker now: nothing of `this` from here on.
    r.more_queued = op.flags & IORING_CQE_F_SOCK_NONEMPTY;
    return op.res;
  }

  void post_cancel(cancel_request& r) noexcept override {
    remote_lock_.lock();
    r.next = remote_head_;
    remote_head_ = &r;
    remote_nonempty_.store(true, std::memory_order_release);
    remote_lock_.unlock();
    owner.notify();
  }

 private:
  bool single_issuer() const noexcept { return flags_ & IORING_SETUP_SINGLE_ISSUER; }
  bool defer() const noexcept { return flags_ & IORING_SETUP_DEFER_TASKRUN; }
  // COOP_TASKRUN|TASKRUN_FLAG: completions wait for our next syscall; the
  // kernel flags that so an otherwise syscall-free poll() knows to make one.
  bool taskrun_pending() const noexcept {
    return (flags_ & IORING_SETUP_TASKRUN_FLAG) && (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN);
  }

  void arm_wake() noexcept {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (!sqe) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
      if (!sqe) return;  // retried at the next wait()
    }
    io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
    sqe->user_data = tag_wake;
    wake_armed_ = true;
  }

  // Frees SQ slots by submitting, then by reaping completions the kernel
  // could not post; false if the ring stays full (the caller yields).
  bool make_room(unsigned need) noexcept {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (io_uring_sq_space_left(&ring_) >= need) return true;
      io_uring_submit(&ring_);
      if (io_uring_sq_space_left(&ring_) >= need) return true;
      // The kernel refused (EBUSY: too many overflowed CQEs): make room in
      // the CQ. Safe here: the calling thread has nothing in flight.
      if (defer()) io_uring_get_events(&ring_);
      dispatch();
    }
    return io_uring_sq_space_left(&ring_) >= need;
  }

  void drain_remote() noexcept {
    if (!remote_nonempty_.load(std::memory_order_acquire)) return;
    remote_lock_.lock();
    cancel_request* list = remote_head_;
    remote_head_ = nullptr;
    remote_nonempty_.store(false, std::memory_order_relaxed);
    remote_lock_.unlock();
    while (list) {
      cancel_request* r = list;
      list = list->next;
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      while (!sqe) {
        io_uring_submit(&ring_);
        if (defer()) io_uring_get_events(&ring_);
        dispatch();
        sqe = io_uring_get_sqe(&ring_);
      }
      io_uring_prep_cancel_fd(sqe, r->batch->fd, IORING_ASYNC_CANCEL_ALL);
      sqe->user_data = reinterpret_cast<std::uint64_t>(r) | tag_cancel;
      ++inflight_;
    }
  }

  // Dispatches every CQE ready; true if a green thread was made ready.
  bool dispatch() noexcept {
    bool woke = false;
    unsigned head;
    unsigned n = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++n;
      std::uint64_t ud = cqe->user_data;
      if (ud == tag_link_timeout) continue;
      if (ud == tag_wake) {
        wake_armed_ = false;
        continue;
      }
      if (ud & tag_cancel) {
        --inflight_;
        reinterpret_cast<cancel_request*>(ud & ~tag_cancel)->batch->done_one();
        woke = true;
        continue;
      }
      auto* op = reinterpret_cast<uring_op*>(ud);
      --inflight_;
      op->res = cqe->res;
      op->flags = cqe->flags;
      // Nothing else claims an I/O waiter (no timer, no queue): this wins.
      if (try_claim(op->w)) complete(op->w);
      woke = true;
    }
    io_uring_cq_advance(&ring_, n);
    if (!wake_armed_) arm_wake();
    return woke;
  }

  static void prep(io_uring_sqe* sqe, const io_request& r) noexcept {
    auto off = static_cast<std::uint64_t>(r.offset);  // -1: current position
    switch (r.op) {
      case opcode::read:
        io_uring_prep_read(sqe, r.fd, r.buf, static_cast<unsigned>(r.len), off);
        break;
      case opcode::write:
        io_uring_prep_write(sqe, r.fd, r.buf, static_cast<unsigned>(r.len), off);
        break;
      case opcode::readv:
        io_uring_prep_readv(sqe, r.fd, r.iov, static_cast<unsigned>(r.iovcnt), off);
        break;
      case opcode::writev:
        io_uring_prep_writev(sqe, r.fd, r.iov, static_cast<unsigned>(r.iovcnt), off);
        break;
      case opcode::recv:
        io_uring_prep_recv(sqe, r.fd, r.buf, r.len, r.flags);
        // Arm the poll without a first attempt that would find nothing
        // (measured: ~5% less server CPU per echo round trip at 1000 connections).
        if (r.expect_wait) sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
        break;
      case opcode::send:
        io_uring_prep_send(sqe, r.fd, r.buf, r.len, r.flags | MSG_NOSIGNAL);
        break;
      case opcode::recvmsg:
        io_uring_prep_recvmsg(sqe, r.fd, r.msg, static_cast<unsigned>(r.flags));
        if (r.expect_wait) sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
        break;
      case opcode::sendmsg:
        io_uring_prep_sendmsg(sqe, r.fd, r.msg, static_cast<unsigned>(r.flags | MSG_NOSIGNAL));
        break;
      case opcode::accept:
        io_uring_prep_accept(sqe, r.fd, r.addr_out, r.addrlen_out, r.flags);
        break;
      case opcode::connect:
        io_uring_prep_connect(sqe, r.fd, r.addr, r.addrlen);
        break;
      case opcode::fsync:
        io_uring_prep_fsync(sqe, r.fd, r.flags ? IORING_FSYNC_DATASYNC : 0);
        break;
      case opcode::openat:
        io_uring_prep_openat(sqe, r.fd, r.path, r.flags, r.mode);
        break;
      case opcode::close:
        io_uring_prep_close(sqe, r.fd);
        break;
      case opcode::poll:
        io_uring_prep_poll_add(sqe, r.fd, static_cast<unsigned>(r.flags));
        break;
    }
  }

  io_uring ring_{};
  bool ring_ok_ = false;
  const unsigned flags_;
  int wake_fd_ = -1;
  std::uint64_t wake_buf_ = 0;
  bool wake_armed_ = false;
  unsigned inflight_ = 0;  // operation and cancel SQEs whose CQE has not come yet

  spinlock remote_lock_;
  cancel_request* remote_head_ = nullptr;
  std::atomic<bool> remote_nonempty_{false};
};

}  // namespace

std::unique_ptr<engine> make_uring_engine(worker& w, int& err) {
  const uring_probe& p = probe_uring();
  if (!p.ok) {
    err = ENOSYS;
    return nullptr;
  }
  auto e = std::make_unique<uring_engine>(w, p.setup_flags);
  if ((err = e->init()) != 0) return nullptr;
  return e;
}

}  // namespace weft::detail::io
