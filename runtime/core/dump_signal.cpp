// The dump signal; see dump_signal.hpp.
#include "core/dump_signal.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "core/dump.hpp"
#include "weft/error.hpp"

namespace weft::detail {
namespace {

constexpr char dump_byte = 'd', quit_byte = 'q';
constexpr int max_listeners = 64;

// The pipes the handler writes to (-1: free slot) and, per slot, the
// signal it listens for. A slot is cleared, then the handlers still inside
// drain (g_in_handler), and only then is its pipe closed: a handler never
// writes to a descriptor that was closed and reused.
std::atomic<int> g_fds[max_listeners];
std::atomic<int> g_sigs[max_listeners];
std::atomic<int> g_in_handler{0};
std::mutex g_mu;
int g_refs[NSIG] = {};
struct sigaction g_old[NSIG];
[[maybe_unused]] const bool g_init = [] {
  for (auto& f : g_fds) f.store(-1);
  return true;
}();

void on_dump_signal(int sig) {
  int saved = errno;
  g_in_handler.fetch_add(1, std::memory_order_seq_cst);
  for (int i = 0; i < max_listeners; ++i) {
    int fd = g_fds[i].load(std::memory_order_seq_cst);
    // A full pipe already holds a request: dropping this one loses nothing.
    if (fd >= 0 && g_sigs[i].load(std::memory_order_relaxed) == sig) (void)!::write(fd, &dump_byte, 1);
  }
  g_in_handler.fetch_sub(1, std::memory_order_seq_cst);
  errno = saved;
}

}  // namespace

dump_listener::dump_listener(runtime_impl& rt, int sig) : rt_(rt), sig_(sig) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "dump signal: pipe2");
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  // Non-blocking for the handler only: a full pipe must not hang it.
  ::fcntl(write_fd_, F_SETFL, O_NONBLOCK);
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    ::close(read_fd_);
    ::close(write_fd_);
    throw;
  }
  std::lock_guard lk(g_mu);
  for (int i = 0; i < max_listeners && slot_ < 0; ++i)
    if (g_fds[i].load() < 0) slot_ = i;
  if (slot_ < 0) {
    (void)!::write(write_fd_, &quit_byte, 1);
    thread_.join();
    ::close(read_fd_);
    ::close(write_fd_);
    throw error(errc::resource_exhausted, "options.dump_signal: more than 64 runtimes listen for a dump signal");
  }
  g_sigs[slot_].store(sig_);
  g_fds[slot_].store(write_fd_, std::memory_order_seq_cst);
  if (g_refs[sig_]++ == 0) {
    struct sigaction sa {};
    sa.sa_handler = &on_dump_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(sig_, &sa, &g_old[sig_]);
  }
}

dump_listener::~dump_listener() {
  {
    std::lock_guard lk(g_mu);
    if (--g_refs[sig_] == 0) sigaction(sig_, &g_old[sig_], nullptr);
    g_fds[slot_].store(-1, std::memory_order_seq_cst);
  }
  while (g_in_handler.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  // Blocking write of the quit byte: the pipe may be full of dump requests.
  ::fcntl(write_fd_, F_SETFL, 0);
  (void)!::write(write_fd_, &quit_byte, 1);
  thread_.join();
  ::close(read_fd_);
  ::close(write_fd_);
}

void dump_listener::run() {
  for (;;) {
    char c;
    ssize_t n = ::read(read_fd_, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == quit_byte) return;
    try {
      dump_threads(rt_, stderr);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "weft: thread dump failed: %s\n", e.what());
    }
  }
}

}  // namespace weft::detail
