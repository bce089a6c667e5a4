// Engine selection, and the plain-syscall form of every operation.
//
// Selection (once per process for the automatic choice, since the kernel's
// answer does not change): options::io, else WEFT_IO_ENGINE, else io_uring
// when a probe ring can be set up with everything weft needs, else epoll.
// The first runtime to pick an engine logs the choice and the reason (once
// per engine and level, so a log shows which path served it): at info when
// it went as asked or as expected, so a program is quiet by default; at warn
// when an automatic choice fell back to epoll because the kernel refused
// io_uring (seccomp, kernel.io_uring_disabled, too old, out of memory),
// which costs throughput the user should hear about. A build without
// liburing falling back is info: that was the builder's choice.
#include "io/engine.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/log.hpp"
#include "io/handle.hpp"
#include "io/uring_probe.hpp"
#include "weft/error.hpp"
#include "core/runtime_impl.hpp"
#include "weft/io/engine.hpp"
#include "weft/options.hpp"
#include "core/worker.hpp"

namespace weft::detail::io {
namespace {

std::mutex g_report_mu;
bool g_reported[2][2] = {};  // [uring, epoll][info, warn]

void report_once(engine_kind k, const std::string& why, log_level level) {
  if (level < current_log_level()) return;  // not marked done: a later runtime at a lower threshold reports it
  bool warn = level >= log_level::warn;
  {
    std::lock_guard lk(g_report_mu);
    bool& done = g_reported[k == engine_kind::uring ? 0 : 1][warn ? 1 : 0];
    if (done) return;
    done = true;
  }
  // Outside g_report_mu: the handler is user code.
  log_emit(level, "io", "I/O engine: %s (%s)", k == engine_kind::uring ? "io_uring" : "epoll", why.c_str());
}

// The probe, or why there is none in this build.
const uring_probe& uring_status() {
#if WEFT_HAVE_LIBURING
  return probe_uring();
#else
  static const uring_probe none{false, "weft was built without liburing", 0, {}};
  return none;
#endif
}

engine_choice want_uring(const char* who) {
  const uring_probe& p = uring_status();
  if (!p.ok)
    throw error(errc::invalid_argument, std::string(who) + " asks for io_uring, but " + p.reason);
  report_once(engine_kind::uring, p.features, log_level::info);
  return {engine_kind::uring, true};
}

}  // namespace

engine_choice choose_engine(const options& opts) {
  switch (opts.io) {
    case io_engine::io_uring:
      return want_uring("options.io");
    case io_engine::epoll:
      report_once(engine_kind::epoll, "options.io = epoll", log_level::info);
      return {engine_kind::epoll, true};
    case io_engine::automatic:
      break;
  }
  if (const char* env = std::getenv("WEFT_IO_ENGINE"); env && *env) {
    if (std::strcmp(env, "epoll") == 0) {
      report_once(engine_kind::epoll, "WEFT_IO_ENGINE=epoll", log_level::info);
      return {engine_kind::epoll, true};
    }
    if (std::strcmp(env, "io_uring") == 0) return want_uring("WEFT_IO_ENGINE");
    throw error(errc::invalid_argument,
                std::string("WEFT_IO_ENGINE must be io_uring or epoll, got '") + env + "'");
  }
  const uring_probe& p = uring_status();
  if (p.ok) {
    report_once(engine_kind::uring, p.features, log_level::info);
    return {engine_kind::uring, false};
  }
  report_once(engine_kind::epoll, p.reason, WEFT_HAVE_LIBURING ? log_level::warn : log_level::info);
  return {engine_kind::epoll, false};
}

std::unique_ptr<engine> make_engine(worker& w) {
  // Sockets rely on one kind per runtime: workers after the first follow it.
  engine_choice c = w.index == 0 ? choose_engine(w.rt.opts)
                                 : engine_choice{engine_of(w.rt.worker_at(0)).kind(), true};
  if (c.kind == engine_kind::epoll) return make_epoll_engine(w);
  int err = ENOSYS;
#if WEFT_HAVE_LIBURING
  if (auto e = make_uring_engine(w, err)) return e;
#endif
  // The probe worked, yet no ring now: the kernel ran out of memory or
  // descriptors, or the process was forbidden io_uring since (seccomp). An
  // automatic choice falls back; a forced one, or a later worker, cannot.
  std::string why = "cannot set up an io_uring for worker " + std::to_string(w.index) + ": " + std::strerror(err);
  if (!c.forced) {
    report_once(engine_kind::epoll, why, log_level::warn);
    return make_epoll_engine(w);
  }
  throw error(errc::resource_exhausted, why);
}

std::unique_ptr<poller> make_poller(worker& w) { return make_engine(w); }

engine& engine_of(worker& w) noexcept { return static_cast<engine&>(*w.driver); }

void engine::retire(io_handle& h) noexcept { delete &h; }

engine* current_engine() noexcept {
  worker* w = current_worker();
  return w && w->current ? &engine_of(*w) : nullptr;
}

void cancel_batch::done_one() noexcept {
  wq_lock(q);
  waiter* w = --remaining == 0 ? wq_claim_first(q) : nullptr;
  wq_unlock(q);
  if (w) complete(*w);
}

bool waits_readable(opcode op) noexcept {
  switch (op) {
    case opcode::read:
    case opcode::readv:
    case opcode::recv:
    case opcode::recvmsg:
    case opcode::accept:
      return true;
    default:
      return false;
  }
}

std::int64_t perform(const io_request& r) noexcept {
  auto ret = [](long v) -> std::int64_t { return v < 0 ? -errno : v; };
  switch (r.op) {
    case opcode::read:
      return ret(r.offset >= 0 ? ::pread(r.fd, r.buf, r.len, r.offset) : ::read(r.fd, r.buf, r.len));
    case opcode::write:
      return ret(r.offset >= 0 ? ::pwrite(r.fd, r.buf, r.len, r.offset) : ::write(r.fd, r.buf, r.len));
    case opcode::readv:
      return ret(r.offset >= 0 ? ::preadv(r.fd, r.iov, r.iovcnt, r.offset) : ::readv(r.fd, r.iov, r.iovcnt));
    case opcode::writev:
      return ret(r.offset >= 0 ? ::pwritev(r.fd, r.iov, r.iovcnt, r.offset) : ::writev(r.fd, r.iov, r.iovcnt));
    case opcode::recv:
      return ret(::recv(r.fd, r.buf, r.len, r.flags | MSG_DONTWAIT));
    case opcode::send:
      return ret(::send(r.fd, r.buf, r.len, r.flags | MSG_DONTWAIT | MSG_NOSIGNAL));
    case opcode::recvmsg:
      return ret(::recvmsg(r.fd, r.msg, r.flags | MSG_DONTWAIT));
    case opcode::sendmsg:
      return ret(::sendmsg(r.fd, r.msg, r.flags | MSG_DONTWAIT | MSG_NOSIGNAL));
    case opcode::accept:
      return ret(::accept4(r.fd, r.addr_out, r.addrlen_out, r.flags));
    case opcode::connect:
      return ret(::connect(r.fd, r.addr, r.addrlen));
    case opcode::fsync:
      return ret(r.flags ? ::fdatasync(r.fd) : ::fsync(r.fd));
    case opcode::openat:
      return ret(::openat(r.fd, r.path, r.flags, r.mode));
    case opcode::close:
      return ret(::close(r.fd));
    case opcode::poll: {
      pollfd p{r.fd, static_cast<short>(r.flags), 0};
      int n = ::poll(&p, 1, 0);
      if (n < 0) return -errno;
      return n == 0 ? -EAGAIN : p.revents;
    }
  }
  return -EINVAL;
}

std::int64_t perform_nowait(const io_request& r) noexcept {
  // EAGAIN: it would block; EOPNOTSUPP: the file system cannot tell;
  // ENOSYS: a kernel without openat2.
  auto ret = [](long v) -> std::int64_t {
    if (v >= 0) return v;
    return errno == EAGAIN || errno == EOPNOTSUPP || errno == ENOSYS ? -ETIMEDOUT : -errno;
  };
  iovec one{r.buf, r.len};
  switch (r.op) {
    case opcode::read:
      return ret(::preadv2(r.fd, &one, 1, r.offset, RWF_NOWAIT));
    case opcode::write:
      return ret(::pwritev2(r.fd, &one, 1, r.offset, RWF_NOWAIT));
    case opcode::readv:
      return ret(::preadv2(r.fd, r.iov, r.iovcnt, r.offset, RWF_NOWAIT));
    case opcode::writev:
      return ret(::pwritev2(r.fd, r.iov, r.iovcnt, r.offset, RWF_NOWAIT));
    case opcode::openat: {
      open_how how{};
      how.flags = static_cast<std::uint64_t>(r.flags);
      how.mode = (r.flags & (O_CREAT | O_TMPFILE)) ? r.mode : 0;
      how.resolve = RESOLVE_CACHED;
      return ret(::syscall(SYS_openat2, r.fd, r.path, &how, sizeof how));
    }
    default:
      return -ETIMEDOUT;
  }
}

}  // namespace weft::detail::io

namespace weft::io {

const char* engine_name() {
  detail::runtime_impl* s = detail::runtime_for_caller();
  if (!s)
    throw error(errc::no_runtime,
                "weft::io::engine_name: no runtime for this thread (call from a green thread or have exactly one "
                "weft::runtime alive)");
  return detail::io::engine_of(s->worker_at(0)).name();
}

}  // namespace weft::io
