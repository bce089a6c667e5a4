// Probing io_uring once per process.
//
// A ring is usable for weft when io_uring_setup succeeds (it fails with
// EPERM under container seccomp profiles or kernel.io_uring_disabled, ENOSYS
// on old kernels) and the kernel has: EXT_ARG (a wait with a timeout and no
// timeout SQE, 5.11), NODROP (no lost CQE when the CQ overflows), FAST_POLL
// (socket operations wait by poll, not on io-wq threads), every opcode weft
// issues, and cancel-by-fd (5.19; close() cancels with it). Anything missing
// means epoll, with the reason in the start-up report.
//
// Setup flags, in order of preference (WEFT_URING_SETUP=defer|defer_noflag|
// coop|plain forces one, for measuring):
//   defer  SINGLE_ISSUER | DEFER_TASKRUN: completions are posted only when
//          the worker enters the kernel to ask for them, in its own context,
//          with no task-work interrupts -- the worker asks anyway once per
//          scheduling round (poll/wait). With TASKRUN_FLAG too where the
//          kernel takes it: the kernel then flags pending completions in
//          the SQ ring, so a poll() with nothing to submit enters the
//          kernel only when there is something to collect.
//   coop   COOP_TASKRUN: no IPI to post completions; they are posted at the
//          worker's next syscall.
//   plain  no flags: completions are posted by interrupting the worker.
// docs/benchmarks.md records what each costs in the echo benchmark.
#include "io/uring_probe.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace weft::detail::io {
namespace {

// The setup flag sets, in order of preference (the names of the header comment).
constexpr unsigned k_defer = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
constexpr unsigned k_defer_flag = k_defer | IORING_SETUP_TASKRUN_FLAG;
constexpr unsigned k_coop = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
constexpr unsigned k_plain = 0;

std::string errno_text(int e) { return std::string(std::strerror(e)); }

int io_uring_disabled_sysctl() {
  std::FILE* f = std::fopen("/proc/sys/kernel/io_uring_disabled", "r");
  if (!f) return 0;
  int v = 0;
  if (std::fscanf(f, "%d", &v) != 1) v = 0;
  std::fclose(f);
  return v;
}

// Checks features, opcodes and cancel-by-fd on a working ring; empty if all fine.
std::string check_ring(io_uring& ring, const io_uring_params& p) {
  if (!(p.features & IORING_FEAT_EXT_ARG)) return "io_uring lacks EXT_ARG (kernel older than 5.11)";
  if (!(p.features & IORING_FEAT_NODROP)) return "io_uring lacks NODROP (kernel older than 5.5)";
  if (!(p.features & IORING_FEAT_FAST_POLL)) return "io_uring lacks FAST_POLL (kernel older than 5.7)";
  io_uring_probe* pr = io_uring_get_probe_ring(&ring);
  if (!pr) return "io_uring cannot report its opcodes (kernel older than 5.6)";
  static constexpr struct {
    int op;
    const char* name;
  } needed[] = {
      {IORING_OP_READ, "READ"},         {IORING_OP_WRITE, "WRITE"},
      {IORING_OP_READV, "READV"},       {IORING_OP_WRITEV, "WRITEV"},
      {IORING_OP_RECV, "RECV"},         {IORING_OP_SEND, "SEND"},
      {IORING_OP_RECVMSG, "RECVMSG"},   {IORING_OP_SENDMSG, "SENDMSG"},
      {IORING_OP_ACCEPT, "ACCEPT"},     {IORING_OP_CONNECT, "CONNECT"},
      {IORING_OP_FSYNC, "FSYNC"},       {IORING_OP_OPENAT, "OPENAT"},
      {IORING_OP_CLOSE, "CLOSE"},       {IORING_OP_POLL_ADD, "POLL_ADD"},
      {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"}, {IORING_OP_LINK_TIMEOUT, "LINK_TIMEOUT"},
  };
  std::string missing;
  for (auto& n : needed)
    if (!io_uring_opcode_supported(pr, n.op)) missing += std::string(missing.empty() ? "" : ", ") + n.name;
  io_uring_free_probe(pr);
  if (!missing.empty()) return "io_uring lacks opcodes " + missing;

  // Cancel-by-fd on an fd with nothing pending: -ENOENT if the kernel knows
  // the flag, -EINVAL if not.
  int fd = ::eventfd(0, EFD_CLOEXEC);
  if (fd < 0) return "eventfd: " + errno_text(errno);
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_cqe* cqe = nullptr;
  int r = io_uring_submit_and_wait(&ring, 1);
  int res = 0;
  if (r >= 0 && io_uring_peek_cqe(&ring, &cqe) == 0) {
    res = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
  } else {
    res = r < 0 ? r : -EIO;
  }
  ::close(fd);
  if (res == -EINVAL) return "io_uring lacks cancel-by-fd (kernel older than 5.19)";
  if (res != -ENOENT && res < 0) return "io_uring cancel probe failed: " + errno_text(-res);
  return {};
}

// With DEFER_TASKRUN | TASKRUN_FLAG: does the kernel flag deferred
// completions in the SQ ring? poll() relies on it to skip the syscall; a
// kernel that took the flag without honouring it would leave completions
// uncollected while the worker is busy. A read on an eventfd is armed, the
// eventfd written, and the flag must appear within 100 ms.
bool flags_deferred_work(io_uring& ring) {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return false;
  // Static: should the read outlive this call (it cannot once the eventfd is
  // written, but the write might fail), it still has somewhere to go.
  static std::uint64_t sink = 0;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  io_uring_prep_read(sqe, fd, &sink, sizeof sink, 0);
  io_uring_submit(&ring);
  std::uint64_t one = 1;
  bool wrote = ::write(fd, &one, sizeof one) == sizeof one;
  auto flagged = [&] { return (IO_URING_READ_ONCE(*ring.sq.kflags) & IORING_SQ_TASKRUN) != 0; };
  for (int i = 0; wrote && i < 1000 && !flagged(); ++i) ::usleep(100);
  bool seen = wrote && flagged();
  io_uring_cqe* cqe = nullptr;
  __kernel_timespec ts{1, 0};
  if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0) io_uring_cqe_seen(&ring, cqe);
  ::close(fd);
  return seen;
}

std::string describe(unsigned setup_flags) {
  std::string s;
  if (setup_flags & IORING_SETUP_SINGLE_ISSUER) s += "single_issuer+";
  if (setup_flags & IORING_SETUP_DEFER_TASKRUN) s += "defer_taskrun+";
  if (setup_flags & IORING_SETUP_COOP_TASKRUN) s += "coop_taskrun+";
  if (setup_flags & IORING_SETUP_TASKRUN_FLAG) s += "taskrun_flag+";
  if (s.empty()) s = "no setup flags";
  else s.pop_back();
  return s;
}

uring_probe run_probe() {
  uring_probe out;
  constexpr int n = 4;
  const unsigned order[n] = {k_defer_flag, k_defer, k_coop, k_plain};
  int first = 0;
  if (const char* env = std::getenv("WEFT_URING_SETUP"); env && *env) {
    if (std::strcmp(env, "defer") == 0) first = 0;
    else if (std::strcmp(env, "defer_noflag") == 0) first = 1;
    else if (std::strcmp(env, "coop") == 0) first = 2;
    else if (std::strcmp(env, "plain") == 0) first = 3;
    else {
      out.reason = std::string("WEFT_URING_SETUP must be defer, defer_noflag, coop or plain, got '") + env + "'";
      return out;
    }
  }
  int last_err = 0;
  for (int i = first; i < n; ++i) {
    io_uring ring;
    io_uring_params p{};
    p.flags = order[i];
    int r = io_uring_queue_init_params(8, &ring, &p);
    // An older kernel that lacks some of these flags: try the next set.
    if (r == -EINVAL && i < n - 1 && first == 0) {
      last_err = r;
      continue;
    }
    if (r < 0) {
      last_err = r;
      break;
    }
    std::string why = check_ring(ring, p);
    bool flag_broken = why.empty() && order[i] == k_defer_flag && !flags_deferred_work(ring);
    io_uring_queue_exit(&ring);
    if (flag_broken) continue;  // the same without TASKRUN_FLAG
    if (!why.empty()) {
      out.reason = why;
      return out;
    }
    out.ok = true;
    out.setup_flags = order[i];
    out.features = describe(out.setup_flags);
    return out;
  }
  int e = -last_err;
  out.reason = "io_uring_setup failed: " + errno_text(e);
  if (int d = io_uring_disabled_sysctl(); d != 0)
    out.reason += " (kernel.io_uring_disabled = " + std::to_string(d) + ")";
  return out;
}

}  // namespace

const uring_probe& probe_uring() {
  static const uring_probe p = run_probe();
  return p;
}

}  // namespace weft::detail::io
