#include "stack/overflow.hpp"

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <sys/mman.h>
#include <unistd.h>

#include "base/thread_label.hpp"


namespace weft::detail {
namespace {

struct sigaction g_old_segv;
struct sigaction g_old_bus;
thread_local void* tl_altstack = nullptr;
overflow_probe g_probe = nullptr;
constexpr std::size_t altstack_size = 64 * 1024;

// Async-signal-safe formatting: only write(2) and stack buffers.
std::size_t put(char* buf, std::size_t at, const char* s) {
  while (*s && at < 511) buf[at++] = *s++;
  return at;
}

std::size_t put_u64(char* buf, std::size_t at, std::uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n && at < 511) buf[at++] = tmp[--n];
  return at;
}

void write_report(const overflow_subject& s) {
  char buf[512];
  char label[256];
  thread_label(label, sizeof label, s.id, s.name);
  std::size_t n = put(buf, 0, "weft: stack overflow in ");
  n = put(buf, n, label);
  n = put(buf, n, " (stack of ");
  n = put_u64(buf, n, s.stack_size);
  n = put(buf, n, s.guarded ? " bytes, guard page hit)\n" : " bytes, canary damaged)\n");
  ssize_t r = write(2, buf, n);
  (void)r;
}

void chain(int sig, siginfo_t* info, void* uctx) {
  const struct sigaction& old = sig == SIGBUS ? g_old_bus : g_old_segv;
  if (old.sa_flags & SA_SIGINFO) {
    if (old.sa_sigaction) {
      old.sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
    old.sa_handler(sig);
    return;
  }
  // Default action: restore it and return; the faulting instruction runs
  // again and the kernel delivers the signal with its default disposition.
  signal(sig, SIG_DFL);
}

void on_fault(int sig, siginfo_t* info, void* uctx) {
  overflow_subject s;
  if (g_probe && g_probe(s) && s.guarded) {
    auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
    auto lo = reinterpret_cast<std::uintptr_t>(s.stack_lo);
    auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    if (addr < lo && addr + page >= lo) {
      write_report(s);
      signal(SIGABRT, SIG_DFL);
      abort();
    }
  }
  chain(sig, info, uctx);
}

}  // namespace

void overflow_guard_install(overflow_probe probe) {
  static std::once_flag once;
  std::call_once(once, [probe] {
    g_probe = probe;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = &on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
  });
}

void overflow_guard_thread_init() noexcept {
  void* p = mmap(nullptr, altstack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  stack_t ss{};
  ss.ss_sp = p;
  ss.ss_size = altstack_size;
  if (sigaltstack(&ss, nullptr) != 0) {
    munmap(p, altstack_size);
    return;
  }
  tl_altstack = p;
}

void overflow_guard_thread_fini() noexcept {
  if (!tl_altstack) return;
  stack_t ss{};
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, nullptr);
  munmap(tl_altstack, altstack_size);
  tl_altstack = nullptr;
}

void report_stack_overflow(const overflow_subject& s) noexcept {
  write_report(s);
  abort();
}

}  // namespace weft::detail
