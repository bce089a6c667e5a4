// The epoll engine: readiness instead of completion, for kernels or
// containers that refuse io_uring.
//
// An operation is tried as a non-blocking syscall right away. On EAGAIN the
// thread parks on the handle's read or write wait queue (with the
// operation's deadline on the worker's timer heap, as any timed wait), and
// retries when woken. The wait follows park.hpp's protocol plus a sequence
// number, because readiness is edge triggered: the thread reads rseq/wseq
// before the syscall, and parks only if the number is unchanged under the
// queue lock; the dispatcher bumps it under the same lock before waking. So
// an edge that falls between EAGAIN and parking is never lost.
//
// Registration: a handle joins the epoll set of the worker where it first
// saw EAGAIN (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, once, never modified), so
// connections spread over the workers that serve them. Any thread may wait
// on it; that worker's poll()/wait() wakes them.
//
// Lifetime: close() takes the fd out of the set (unwatch) before close(2).
// But epoll_wait may already have handed out the handle's pointer in a batch
// (EPOLL_CTL_DEL does not recall fetched events), so a destroyed handle goes
// on its home engine's retire list, which that engine's thread frees at the
// start of its next poll()/wait() -- after any batch that could name it.
//
// Regular files cannot be watched by epoll; their operations run on the
// offload pool, withdrawably (offload.hpp): a deadline or cancel() ends the
// wait while no pool thread has started the call; once one has, the call
// waits for its result. A deadline already past when the call begins tries
// once without blocking instead (perform_nowait: RWF_NOWAIT, RESOLVE_CACHED),
// as io_uring's first, inline attempt does.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <mutex>

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.hpp"
#include "io/engine.hpp"
#include "io/handle.hpp"
#include "io/offload.hpp"
#include "base/spinlock.hpp"
#include "weft/error.hpp"
#include "weft/io/blocking.hpp"
#include "core/worker.hpp"

namespace weft::detail::io {
namespace {

// Events fetched per epoll_wait: more only lengthens one dispatch batch.
constexpr int batch_events = 256;

class epoll_engine final : public engine {
 public:
  explicit epoll_engine(worker& w) : engine(w) {}

  bool init() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) return false;
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN;  // level triggered: stays reported until drained
    ev.data.ptr = nullptr;
    return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev) == 0;
  }

  ~epoll_engine() override {
    {
      std::lock_guard lk(reg_lock_);
      // Handles that outlive the runtime free themselves directly (their fd
      // leaves the set when it is closed, or with the epoll fd below).
      for (io_handle* h = reg_head_; h; h = h->reg_next) {
        h->watched = false;
        h->epoll_home.store(nullptr, std::memory_order_release);
      }
    }
    free_retired();
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (epfd_ >= 0) ::close(epfd_);
  }

  const char* name() const noexcept override { return "epoll"; }
  engine_kind kind() const noexcept override { return engine_kind::epoll; }
  void start() override {}

  bool poll() noexcept override {
    if (retired_nonempty_.load(std::memory_order_acquire)) free_retired();
    if (registered_.load(std::memory_order_relaxed) == 0) return false;
    epoll_event evs[batch_events];
    int n = ::epoll_wait(epfd_, evs, batch_events, 0);
    return dispatch(evs, n);
  }

  bool wait(std::int64_t deadline) noexcept override {
    if (retired_nonempty_.load(std::memory_order_acquire)) free_retired();
    epoll_event evs[batch_events];
    int n;
    if (deadline >= 0) {
      std::int64_t rel = deadline - now_ns();
      if (rel < 0) rel = 0;
      timespec ts{static_cast<time_t>(rel / 1'000'000'000), static_cast<long>(rel % 1'000'000'000)};
      n = ::epoll_pwait2(epfd_, evs, batch_events, &ts, nullptr);
      if (n < 0 && errno == ENOSYS) {
        // Kernels before 5.11: millisecond timeouts, rounded up so a timer is
        // never early, and capped at INT_MAX ms (a far deadline is "forever").
        std::int64_t ms = rel / 1'000'000 + (rel % 1'000'000 != 0);
        n = ::epoll_wait(epfd_, evs, batch_events, static_cast<int>(std::min<std::int64_t>(ms, INT_MAX)));
      }
    } else {
      n = ::epoll_wait(epfd_, evs, batch_events, -1);
    }
    return dispatch(evs, n);
  }

  void wake() noexcept override {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  bool has_completions() const noexcept override { return false; }

  std::int64_t run(io_request& r, io_handle* h, std::int64_t deadline) override {
    if (!h || !h->pollable) return offload(r, h, deadline);
    bool readable = waits_readable(r.op);
    wait_queue& q = readable ? h->read_waiters : h->write_waiters;
    std::atomic<std::uint32_t>& seq = readable ? h->rseq : h->wseq;
    std::uint32_t gen = r.gen;
    for (bool first = true;; first = false) {
      std::uint32_t before = seq.load(std::memory_order_acquire);
      std::int64_t res = perform(r);
      if (res != -EAGAIN && res != -EWOULDBLOCK) {
        // The first attempt: still on this engine's worker, which may not have
        // switched since (worker::spend_budget).
        if (first) owner.spend_budget();
        return res;
      }
      engine* home = h->epoll_home.load(std::memory_order_acquire);
      if (!home) {
        // Registration happens on this (the current) worker's engine; its
        // failure (ENOMEM, or ENOSPC at max_user_watches) is the caller's.
        if (int e = current_epoll()->enroll(*h); e != 0) return -e;
      }
      waiter w = make_waiter();
      wq_lock(q);
      if (seq.load(std::memory_order_relaxed) != before) {
        wq_unlock(q);
        continue;
      }
      if (h->cancel_gen.load(std::memory_order_acquire) != gen) {
        wq_unlock(q);
        return -ECANCELED;
      }
      wq_push(q, w);
      if (park(q, w, deadline, wait_reason::io) == wake_status::timed_out) return -ETIMEDOUT;
      if (h->cancel_gen.load(std::memory_order_acquire) != gen) return -ECANCELED;
    }
  }

  // Nothing in the kernel to cancel: waiters are woken through the handle.
  void post_cancel(cancel_request& r) noexcept override { r.batch->done_one(); }

  void unwatch(io_handle& h) noexcept override {
    std::lock_guard lk(reg_lock_);
    if (!h.watched) return;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, h.fd, nullptr);
    h.watched = false;
    registered_.fetch_sub(1, std::memory_order_relaxed);
  }

  void retire(io_handle& h) noexcept override {
    {
      std::lock_guard lk(reg_lock_);
      if (h.watched) {
        // Destroyed without close(): the fd is already gone (close(2) took
        // it out of the epoll set), only the count is left to fix.
        h.watched = false;
        registered_.fetch_sub(1, std::memory_order_relaxed);
      }
      unlink(h);
      h.reg_next = retired_;
      retired_ = &h;
    }
    retired_nonempty_.store(true, std::memory_order_release);
  }

 private:
  static epoll_engine* current_epoll() noexcept { return static_cast<epoll_engine*>(current_engine()); }

  // Adds h to this epoll set unless another worker did first; 0 or an errno.
  int enroll(io_handle& h) noexcept {
    std::lock_guard lk(reg_lock_);
    if (h.epoll_home.load(std::memory_order_acquire)) return 0;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &h;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, h.fd, &ev) != 0) return errno;
    h.reg_prev = nullptr;
    h.reg_next = reg_head_;
    if (reg_head_) reg_head_->reg_prev = &h;
    reg_head_ = &h;
    h.watched = true;
    registered_.fetch_add(1, std::memory_order_relaxed);
    h.epoll_home.store(this, std::memory_order_release);
    return 0;
  }

  void unlink(io_handle& h) noexcept {
    if (h.reg_prev) h.reg_prev->reg_next = h.reg_next;
    else reg_head_ = h.reg_next;
    if (h.reg_next) h.reg_next->reg_prev = h.reg_prev;
    h.reg_prev = h.reg_next = nullptr;
  }

  void free_retired() noexcept {
    io_handle* list;
    {
      std::lock_guard lk(reg_lock_);
      list = retired_;
      retired_ = nullptr;
      retired_nonempty_.store(false, std::memory_order_relaxed);
    }
    while (list) {
      io_handle* next = list->reg_next;
      delete list;
      list = next;
    }
  }

  bool dispatch(const epoll_event* evs, int n) noexcept {
    bool woke = false;
    for (int i = 0; i < n; ++i) {
      auto* h = static_cast<io_handle*>(evs[i].data.ptr);
      if (!h) {
        std::uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &v, sizeof v);
        continue;
      }
      std::uint32_t e = evs[i].events;
      bool rd = e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI);
      bool wr = e & (EPOLLOUT | EPOLLHUP | EPOLLERR);
      woke |= handle_ready(*h, rd, wr);
    }
    return woke;
  }

  // Regular-file I/O (and open): a pool thread does the possibly blocking
  // syscall; the caller may give up while it waits for a thread.
  static std::int64_t offload(const io_request& r, io_handle* h, std::int64_t deadline) {
    if (deadline >= 0 && now_ns() >= deadline) return perform_nowait(r);
    struct job : blocking_job {
      const io_request* req = nullptr;
      std::int64_t res = 0;
    } j;
    j.req = &r;
    j.run = [](blocking_job* b) noexcept {
      auto* self = static_cast<job*>(b);
      self->res = perform(*self->req);
    };
    wait_queue own;  // no handle (open): only the deadline ends the wait
    offload_stop stop{h ? &h->cancel_gen : nullptr, r.gen};
    if (int e = offload_until(j, h ? h->oq : own, deadline, stop); e != 0) return e;
    return j.res;
  }

  int epfd_ = -1;
  int wake_fd_ = -1;
  std::mutex reg_lock_;
  io_handle* reg_head_ = nullptr;
  io_handle* retired_ = nullptr;  // linked through reg_next
  std::atomic<bool> retired_nonempty_{false};
  std::atomic<int> registered_{0};
};

}  // namespace

std::unique_ptr<engine> make_epoll_engine(worker& w) {
  auto e = std::make_unique<epoll_engine>(w);
  if (!e->init())
    throw error(errc::resource_exhausted,
                std::string("cannot set up the epoll I/O engine: ") + std::strerror(errno));
  return e;
}

}  // namespace weft::detail::io
