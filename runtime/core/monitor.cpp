// The monitor thread; see monitor.hpp for what it watches and why.
#include "core/monitor.hpp"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include <csignal>
#include <cxxabi.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <pthread.h>

#include "base/clock.hpp"
#include "base/futex.hpp"
#include "base/log.hpp"
#include "core/runtime_impl.hpp"
#include "core/tcb.hpp"
#include "core/worker.hpp"

namespace weft::detail {
namespace {

// How long the monitor waits for a signalled worker to fill the slot.
constexpr std::int64_t capture_wait_ns = 100'000'000;

// The handler is process-wide; monitors of several runtimes share it per
// signal, counted, and the action it replaced is restored with the last.
// Signals weft did not ask for go on to that previous action.
std::mutex g_sig_mu;
int g_sig_refs[NSIG] = {};
struct sigaction g_sig_old[NSIG];

void chain(int sig, siginfo_t* info, void* uc) {
  const struct sigaction& old = g_sig_old[sig];
  if (old.sa_flags & SA_SIGINFO) {
    if (old.sa_sigaction) old.sa_sigaction(sig, info, uc);
  } else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
    old.sa_handler(sig);
  }
  // SIG_DFL: the signals a stall report may use are ignored by default
  // (SIGURG) or are real-time ones the program chose for weft; dropping a
  // stray one is better than dying of it.
}

void* interrupted_pc(void* uc) {
  auto* ctx = static_cast<ucontext_t*>(uc);
#if defined(__x86_64__)
  return reinterpret_cast<void*>(ctx->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return reinterpret_cast<void*>(ctx->uc_mcontext.pc);
#else
  (void)ctx;
  return nullptr;
#endif
}

void on_signal(int sig, siginfo_t* info, void* uc) {
  int saved = errno;
  worker* w = current_worker();
  bool taken = false;
  if (w) {
    // Counted in before the monitor is read: stop_monitor waits for us.
    w->rt.in_monitor_handler.fetch_add(1, std::memory_order_seq_cst);
    // capture() takes the signal only if the monitor asked this very worker.
    if (monitor* m = w->rt.monitor_of()) taken = m->capture(*w, interrupted_pc(uc));
    w->rt.in_monitor_handler.fetch_sub(1, std::memory_order_release);
  }
  if (!taken) chain(sig, info, uc);
  errno = saved;
}

void install_handler(int sig) {
  std::lock_guard lk(g_sig_mu);
  if (g_sig_refs[sig]++ != 0) return;
  struct sigaction sa {};
  sa.sa_sigaction = &on_signal;
  // SA_ONSTACK: the worker's alternate stack (stack/overflow.cpp) holds the
  // signal frame, not the green thread's stack, which may be nearly full.
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, &g_sig_old[sig]);
}

void uninstall_handler(int sig) {
  std::lock_guard lk(g_sig_mu);
  if (--g_sig_refs[sig] == 0) sigaction(sig, &g_sig_old[sig], nullptr);
}

std::string describe_frame(void* pc) {
  char line[512];
  Dl_info info{};
  if (dladdr(pc, &info) == 0 || !info.dli_fname) {
    std::snprintf(line, sizeof line, "%p", pc);
    return line;
  }
  const char* module = std::strrchr(info.dli_fname, '/');
  module = module ? module + 1 : info.dli_fname;
  auto base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  auto at = reinterpret_cast<std::uintptr_t>(pc);
  if (info.dli_sname) {
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> demangled(abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status),
                                                         &std::free);
    const char* name = status == 0 && demangled ? demangled.get() : info.dli_sname;
    std::snprintf(line, sizeof line, "%p in %s+0x%" PRIxPTR " (%s+0x%" PRIxPTR ")", pc, name,
                  at - reinterpret_cast<std::uintptr_t>(info.dli_saddr), module, at - base);
  } else {
    // Not an exported symbol: module+offset is what addr2line -e takes.
    std::snprintf(line, sizeof line, "%p in %s+0x%" PRIxPTR, pc, module, at - base);
  }
  return line;
}

// Reads a /proc file (a few hundred bytes); empty if it cannot.
std::string read_small_file(const char* path) {
  std::string out;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

// The blocking calls a stalled thread is usually found in; others by number.
std::string syscall_name(long nr) {
  static constexpr std::pair<long, const char*> names[] = {
      {SYS_read, "read"}, {SYS_write, "write"}, {SYS_readv, "readv"}, {SYS_writev, "writev"},
      {SYS_pread64, "pread64"}, {SYS_pwrite64, "pwrite64"}, {SYS_openat, "openat"}, {SYS_close, "close"},
      {SYS_nanosleep, "nanosleep"}, {SYS_clock_nanosleep, "clock_nanosleep"}, {SYS_futex, "futex"},
      {SYS_ppoll, "ppoll"}, {SYS_pselect6, "pselect6"}, {SYS_epoll_pwait, "epoll_pwait"},
      {SYS_recvfrom, "recvfrom"}, {SYS_sendto, "sendto"}, {SYS_recvmsg, "recvmsg"}, {SYS_sendmsg, "sendmsg"},
      {SYS_accept4, "accept4"}, {SYS_connect, "connect"}, {SYS_wait4, "wait4"}, {SYS_waitid, "waitid"},
      {SYS_fsync, "fsync"}, {SYS_fdatasync, "fdatasync"}, {SYS_flock, "flock"}, {SYS_fcntl, "fcntl"},
      {SYS_msgrcv, "msgrcv"}, {SYS_semtimedop, "semtimedop"}, {SYS_rt_sigtimedwait, "rt_sigtimedwait"},
      {SYS_io_uring_enter, "io_uring_enter"},
#ifdef SYS_poll
      {SYS_poll, "poll"},
#endif
#ifdef SYS_select
      {SYS_select, "select"},
#endif
#ifdef SYS_epoll_wait
      {SYS_epoll_wait, "epoll_wait"},
#endif
#ifdef SYS_accept
      {SYS_accept, "accept"},
#endif
#ifdef SYS_pause
      {SYS_pause, "pause"},
#endif
  };
  for (const auto& [n, name] : names)
    if (n == nr) return std::string(name) + " (" + std::to_string(nr) + ")";
  return "number " + std::to_string(nr);
}

}  // namespace

bool monitor::signal_usable(int sig) noexcept {
  switch (sig) {
    case SIGKILL: case SIGSTOP:                                  // cannot be caught
    case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: case SIGTRAP:  // faults
    case SIGABRT:
      return false;
    default:
      return sig > 0 && sig < NSIG;
  }
}

monitor::monitor(runtime_impl& rt, std::chrono::nanoseconds stall_threshold, int signal,
                 std::chrono::nanoseconds handoff_threshold)
    : rt_(rt),
      threshold_ns_(stall_threshold.count()),
      signal_(signal),
      handoff_ns_(handoff_threshold.count()),
      reported_(rt.active_target() + rt.opts.max_spare_workers, 0),
      handed_(reported_.size(), 0),
      asleep_seen_(reported_.size(), 0) {
  if (threshold_ns_ != 0) {
    // The first backtrace() of a process loads libgcc's unwinder (dlopen,
    // malloc): do it here, not first in a signal handler.
    void* warm[2];
    (void)backtrace(warm, 2);
    install_handler(signal_);
  }
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    if (threshold_ns_ != 0) uninstall_handler(signal_);
    throw;
  }
}

monitor::~monitor() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  std::atomic<std::uint32_t>& word = rt_.idle.watcher_word();
  if (word.exchange(0, std::memory_order_seq_cst) == 1) futex_wake(word);
  thread_.join();
  if (threshold_ns_ != 0) uninstall_handler(signal_);
}

bool monitor::capture(worker& w, void* pc) noexcept {
  int expected = static_cast<int>(w.index);
  if (!slot_.target.compare_exchange_strong(expected, -2, std::memory_order_acq_rel)) return false;
  // On the worker's own kernel thread: its current thread cannot change
  // under us, so plain reads are exact.
  tcb* t = w.current;
  slot_.since = w.burst_start();
  slot_.running_thread = t != nullptr;
  slot_.id = t ? t->id : 0;
  const char* name = t ? t->name_or_empty() : "";
  std::size_t n = 0;
  for (; name[n] && n + 1 < sizeof slot_.name; ++n) slot_.name[n] = name[n];
  slot_.name[n] = '\0';
  slot_.depth = backtrace(slot_.frames, max_frames);
  // The first frames are this handler's: the report starts at the
  // interrupted instruction when the unwinder passed it.
  slot_.first = 0;
  for (int i = 0; i < slot_.depth; ++i)
    if (slot_.frames[i] == pc) {
      slot_.first = i;
      break;
    }
  slot_.filled.store(true, std::memory_order_release);
  slot_.target.store(-1, std::memory_order_release);
  return true;
}

void monitor::run() {
  // Look four times per threshold: a stall is seen between 1x and 1.25x
  // the threshold. With both duties on, the shorter one sets the pace.
  std::int64_t shortest = threshold_ns_ == 0 ? handoff_ns_
                          : handoff_ns_ == 0 ? threshold_ns_
                                             : std::min(threshold_ns_, handoff_ns_);
  auto period = std::clamp(std::chrono::nanoseconds(shortest / 4), std::chrono::nanoseconds(1'000'000),
                           std::chrono::nanoseconds(100'000'000));
  std::unique_lock lk(mu_);
  while (!cv_.wait_for(lk, period, [&] { return stop_; })) {
    lk.unlock();
    bool busy = scan();
    if (!busy) sleep_while_parked();
    lk.lock();
  }
}

// While every active worker sleeps, nothing can stall: the monitor sleeps
// too, until a worker wakes (idle_protocol::transition_from_parked wakes
// it), so an idle runtime costs no periodic wake-ups. Dekker with that
// step: this stores the flag and then reads the parked count, the worker
// changes the count and then reads the flag (all seq_cst), so either the
// monitor sees the worker awake or the worker sees the monitor asleep.
void monitor::sleep_while_parked() {
  std::atomic<std::uint32_t>& word = rt_.idle.watcher_word();
  word.store(1, std::memory_order_seq_cst);
  {
    std::lock_guard lk(mu_);
    if (stop_) {
      word.store(0, std::memory_order_relaxed);
      return;
    }
  }
  while (word.load(std::memory_order_seq_cst) == 1 && rt_.idle.parked() >= static_cast<int>(rt_.active_target()))
    futex_wait(word, 1, -1);
  word.store(0, std::memory_order_relaxed);
}

bool monitor::scan() {
  bool busy = false;
  unsigned n = std::min<unsigned>(rt_.worker_count(), static_cast<unsigned>(reported_.size()));
  for (unsigned i = 0; i < n; ++i) {
    std::uint64_t since = rt_.worker_at(i).burst_start();
    if (!(since & 1)) continue;  // in its scheduler context
    busy = true;
    std::uint64_t now = ticks();
    if (now < since) continue;
    if (handoff_ns_ != 0) check_handoff(i, since, now);
    if (threshold_ns_ != 0) check_stall(i, since, now);
  }
  return busy;
}

void monitor::check_stall(unsigned index, std::uint64_t since, std::uint64_t now) {
  if (since == reported_[index] || now - since < ns_to_ticks(threshold_ns_)) return;
  reported_[index] = since;  // once per stall
  report(index, since, ticks_to_ns(now - since));
}

void monitor::check_handoff(unsigned index, std::uint64_t since, std::uint64_t now) {
  worker& w = rt_.worker_at(index);
  if (since == handed_[index] || !w.active() || now - since < ns_to_ticks(handoff_ns_ / 2)) return;
  // Computing, not stuck: the hand-off cannot help it (preemption's job).
  // Asleep now and at the scan before, in the same burst: one look could
  // catch a thread that computed all along in a moment's wait on a lock.
  char state = kernel_state(index);
  if (state == 0 || state == 'R') {
    asleep_seen_[index] = 0;
    return;
  }
  bool seen_before = asleep_seen_[index] == since;
  asleep_seen_[index] = since;
  if (!seen_before || now - since < ns_to_ticks(handoff_ns_)) return;
  // The spare first: for a moment one worker too many is active, never one
  // too few. None free now (a dormant one still runs its last thread):
  // the next scan tries again.
  worker* spare = rt_.activate_spare(w);
  if (!spare) return;
  handed_[index] = since;  // once per stall
  w.make_dormant();
  WEFT_LOG_DEBUG("monitor", "worker %u stuck in a blocking call for %.1f ms: its queue goes to worker %u", index,
                 static_cast<double>(ticks_to_ns(now - since)) / 1e6, spare->index);
}

char monitor::kernel_state(unsigned index) const {
  int tid = rt_.worker_at(index).kernel_tid();
  if (tid == 0) return 0;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  std::string stat = read_small_file(path);
  // "tid (comm) S ...": comm may hold spaces and parentheses, the state
  // follows the last ')'.
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return 0;
  return stat[close + 2];
}

bool monitor::asleep_in_kernel(unsigned index, std::string& where) const {
  char state = kernel_state(index);
  if (state == 0 || state == 'R') return false;
  int tid = rt_.worker_at(index).kernel_tid();
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
  where = "asleep in the kernel (state " + std::string(1, state) + ")";
  std::string sc = read_small_file(path);
  long nr = -1;
  unsigned long long arg[6] = {}, sp = 0, pc = 0;
  if (std::sscanf(sc.c_str(), "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr, &arg[0], &arg[1], &arg[2],
                  &arg[3], &arg[4], &arg[5], &sp, &pc) == 9 &&
      nr >= 0) {
    where += ", in system call " + syscall_name(nr);
    where += "\n  called from " + describe_frame(reinterpret_cast<void*>(static_cast<std::uintptr_t>(pc)));
  }
  return true;
}

bool monitor::ask_for_backtrace(unsigned index) {
  slot_.filled.store(false, std::memory_order_relaxed);
  slot_.target.store(static_cast<int>(index), std::memory_order_release);
  bool got = false;
  if (pthread_kill(rt_.worker_at(index).native_handle(), signal_) == 0) {
    std::int64_t give_up = now_ns() + capture_wait_ns;
    std::unique_lock lk(mu_);
    while (!(got = slot_.filled.load(std::memory_order_acquire)) && !stop_ && now_ns() < give_up)
      cv_.wait_for(lk, std::chrono::milliseconds(1));
  }
  int expected = static_cast<int>(index);
  if (!got && !slot_.target.compare_exchange_strong(expected, -1, std::memory_order_acq_rel)) {
    // The handler took the request just now and is writing: it never blocks.
    while (!slot_.filled.load(std::memory_order_acquire)) std::this_thread::yield();
    got = true;
  }
  return got;
}

void monitor::report(unsigned index, std::uint64_t since, std::int64_t ran_ns) {
  std::int64_t now = now_ns();
  if (now - window_start_ >= report_window_ns) {
    window_start_ = now;
    window_reports_ = 0;
  }
  if (window_reports_ >= report_burst) {
    ++suppressed_;
    return;
  }
  ++window_reports_;

  std::string out;
  std::string where;
  if (asleep_in_kernel(index, where)) {
    thread_id id = 0;
    std::string name;
    bool named = rt_.running_on(index, since, id, name);
    slot_.id = id;
    std::snprintf(slot_.name, sizeof slot_.name, "%s", name.c_str());
    out = headline(index, named, ran_ns);
    out += "\n  " + where;
  } else if (!ask_for_backtrace(index)) {
    out = headline(index, false, ran_ns);
    char line[160];
    std::snprintf(line, sizeof line, "\n  (no backtrace: worker %u did not take signal %d within %d ms)", index, signal_,
                  static_cast<int>(capture_wait_ns / 1'000'000));
    out += line;
  } else if (slot_.since != since || !slot_.running_thread) {
    out = headline(index, false, ran_ns);
    out += "\n  (no backtrace: the thread switched before the signal came)";
  } else {
    out = headline(index, true, ran_ns);
    out += "\n  backtrace:";
    char num[32];
    for (int i = slot_.first; i < slot_.depth; ++i) {
      std::snprintf(num, sizeof num, "\n    #%-2d ", i - slot_.first);
      out += num;
      out += describe_frame(slot_.frames[i]);
    }
  }
  log_emit_text(log_level::warn, "stall", out);
}

std::string monitor::headline(unsigned index, bool named, std::int64_t ran_ns) {
  char head[512];
  double ran_ms = static_cast<double>(ran_ns) / 1e6;
  double threshold_ms = static_cast<double>(threshold_ns_) / 1e6;
  if (named) {
    bool has_name = slot_.name[0] != '\0';
    std::snprintf(head, sizeof head,
                  "stall: green thread %" PRIu64 "%s%s%s has run %.1f ms on worker %u without a switch (threshold %.1f ms)",
                  static_cast<std::uint64_t>(slot_.id), has_name ? " '" : "", slot_.name, has_name ? "'" : "", ran_ms,
                  index, threshold_ms);
  } else {
    std::snprintf(head, sizeof head,
                  "stall: a green thread has run %.1f ms on worker %u without a switch (threshold %.1f ms)", ran_ms,
                  index, threshold_ms);
  }
  std::string out = head;
  if (suppressed_ != 0) {
    out += "; " + std::to_string(suppressed_) + " earlier stall reports suppressed (rate limit)";
    suppressed_ = 0;
  }
  return out;
}

}  // namespace weft::detail
