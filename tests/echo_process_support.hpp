// Test support for echo_server_process_test.cpp: the echo_server example
// as a child process (spawned with posix_spawn, its stdout and stderr
// captured, its exit awaited with a limit), a plain blocking POSIX client
// (no weft on this side), deterministic data patterns to check echoes
// byte-exact, and the slow-down factors of sanitizer and emulator builds.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "io_test_support.hpp"  // uring_available(): whether the io_uring instance can run here

extern char** environ;

namespace echo_process_test {


using namespace std::chrono_literals;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Scaling for slow builds

struct slowness {
  int time = 1;   // timeouts are multiplied by this
  int count = 1;  // bulk counts are divided by this
};

inline const slowness& slow() {
  static const slowness s = [] {
    slowness v;
#if defined(__SANITIZE_ADDRESS__)
    v = {3, 1};  // ASan runs the full counts in a few seconds
#endif
#if defined(__SANITIZE_THREAD__)
    v = {4, 2};
#endif
#if defined(WEFT_ECHO_SERVER_EMULATOR)
    v = {10, 10};
#endif
    if (const char* e = std::getenv("WEFT_TEST_SLOWDOWN"); e && std::atoi(e) >= 1) v = {std::atoi(e), std::atoi(e)};
    return v;
  }();
  return s;
}

inline milliseconds scaled(milliseconds t) { return t * slow().time; }
// A limit for waiting on the server process: the scaled value, never below
// the suite's absurdly_late (a loaded machine delays a process by seconds).
inline milliseconds process_limit(milliseconds t) {
  return std::max<milliseconds>(scaled(t), weft_test::absurdly_late);
}
// A bulk count divided by the slowdown, never below `floor`.
inline int count(int n, int floor = 1) { return std::max(floor, n / slow().count); }

// ---------------------------------------------------------------------------
// Test data: byte i of stream `seed` is a hash of (seed, i / 8), so a reader
// can check any stretch without keeping what the writer sent.

inline std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline void fill_pattern(std::uint64_t seed, std::uint64_t offset, unsigned char* p, std::size_t n) {
  std::uint64_t i = offset, end = offset + n;
  while (i < end) {
    std::uint64_t word = mix(seed * 0x100000001b3ull ^ (i >> 3));
    for (unsigned b = static_cast<unsigned>(i & 7); b < 8 && i < end; ++b, ++i)
      *p++ = static_cast<unsigned char>(word >> (8 * b));
  }
}

// Where `p` (stream offset `offset`, n bytes) first differs from the pattern, or -1.
inline long long pattern_mismatch(std::uint64_t seed, std::uint64_t offset, const unsigned char* p, std::size_t n) {
  unsigned char expect[4096];
  for (std::size_t done = 0; done < n;) {
    std::size_t k = std::min(sizeof expect, n - done);
    fill_pattern(seed, offset + done, expect, k);
    if (std::memcmp(expect, p + done, k) != 0)
      for (std::size_t j = 0; j < k; ++j)
        if (expect[j] != p[done + j]) return static_cast<long long>(offset + done + j);
    done += k;
  }
  return -1;
}

inline std::uint64_t test_seed() {
  static const std::uint64_t s = []() -> std::uint64_t {
    if (const char* e = std::getenv("WEFT_ECHO_TEST_SEED")) return std::strtoull(e, nullptr, 10);
    std::random_device rd;
    return static_cast<std::uint64_t>(rd()) << 32 | rd();
  }();
  return s;
}

// Failures seen on client threads: gathered, reported once by the test.
class error_log {
 public:
  void add(std::string what) {
    count_.fetch_add(1);
    std::lock_guard lk(mu_);
    if (first_.size() < 10) first_.push_back(std::move(what));
  }
  int count() const { return count_.load(); }
  std::string summary() const {
    std::lock_guard lk(mu_);
    std::string s = std::to_string(count_.load()) + " client error(s)";
    for (const auto& e : first_) s += "\n  " + e;
    return s;
  }

 private:
  std::atomic<int> count_{0};
  mutable std::mutex mu_;
  std::vector<std::string> first_;
};

inline std::string errno_text(int e) { return std::string(std::strerror(e)) + " (errno " + std::to_string(e) + ")"; }

// ---------------------------------------------------------------------------
// The server process

inline std::string server_binary() {
  if (const char* e = std::getenv("WEFT_ECHO_SERVER"); e && *e) return e;
#if defined(WEFT_ECHO_SERVER_PATH)
  return WEFT_ECHO_SERVER_PATH;
#else
  return {};
#endif
}

// Why the binary cannot be run here (a broken build: the test fails), or empty.
inline std::string why_no_binary() {
  std::string bin = server_binary();
  if (bin.empty()) return "this test binary was built without WEFT_ECHO_SERVER_PATH (see tests/CMakeLists.txt)";
  if (::access(bin.c_str(), X_OK) != 0) return "echo_server binary " + bin + " is not there: " + errno_text(errno);
  return {};
}

// The command that runs the binary: through the cross-compiling emulator if
// this test binary was built for one (a foreign ELF cannot be exec'd directly
// without binfmt_misc).
inline std::vector<std::string> server_command(const std::vector<std::string>& args,
                                               const std::string& binary = server_binary()) {
  std::vector<std::string> cmd;
#if defined(WEFT_ECHO_SERVER_EMULATOR)
  std::string emu = WEFT_ECHO_SERVER_EMULATOR;  // the CMake list, joined with '|'
  for (std::size_t pos = 0; pos <= emu.size();) {
    std::size_t semi = std::min(emu.find('|', pos), emu.size());
    if (semi > pos) cmd.push_back(emu.substr(pos, semi - pos));
    pos = semi + 1;
  }
#endif
  cmd.push_back(binary);
  cmd.insert(cmd.end(), args.begin(), args.end());
  return cmd;
}

class server_process {
 public:
  // Starts the server (by default the echo_server, see server_binary()) with
  // `args`; stdin is /dev/null, stdout and stderr are captured.
  explicit server_process(const std::vector<std::string>& args, const std::string& binary = server_binary()) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
      spawn_error_ = "pipe2: " + errno_text(errno);
      return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Whatever this process (or the shell that started it) did with signals,
    // the server starts with the defaults and nothing blocked.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGHUP}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> cmd = server_command(args, binary);
    std::vector<char*> argv;
    for (auto& a : cmd) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, argv[0], &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    if (rc != 0) {
      spawn_error_ = "posix_spawn " + cmd[0] + ": " + errno_text(rc);
      pid_ = -1;
      ::close(out[0]);
      ::close(err[0]);
      return;
    }
    drain_ = std::thread([this, o = out[0], e = err[0]] { drain(o, e); });
  }

  ~server_process() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int st;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
    }
    if (drain_.joinable()) drain_.join();
  }

  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& spawn_error() const { return spawn_error_; }

  // The port from "listening on 127.0.0.1:P", or 0 if the server exited or
  // said something else first, or `limit` passed.
  int wait_listening(milliseconds limit) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, limit, [&] { return out_.find('\n') != std::string::npos || out_eof_; });
    unsigned port = 0;
    if (std::sscanf(out_.c_str(), "listening on 127.0.0.1:%u\n", &port) != 1 || port == 0 || port > 65535) return 0;
    return static_cast<int>(port);
  }

  // Waits until stderr contains `text`.
  bool wait_stderr(const std::string& text, milliseconds limit) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, limit, [&] { return err_.find(text) != std::string::npos || err_eof_; }) &&
           err_.find(text) != std::string::npos;
  }

  // The wait status once the process exits, or nullopt if it is still
  // running after `limit` -- then it is killed with SIGKILL (and reaped).
  std::optional<int> wait_exit(milliseconds limit) {
    if (reaped_) return status_;
    auto end = steady::now() + limit;
    for (;;) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        status_ = st;
        join_drain();
        return st;
      }
      if (r < 0 && errno != EINTR) {
        ADD_FAILURE() << "waitpid: " << errno_text(errno);
        return std::nullopt;
      }
      if (steady::now() > end) {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
        }
        reaped_ = true;
        status_ = st;
        join_drain();
        return std::nullopt;
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  // True while the process has not exited (it is not reaped by this).
  bool running() const {
    if (reaped_) return false;
    siginfo_t si{};
    si.si_pid = 0;
    return ::waitid(P_PID, static_cast<id_t>(pid_), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0;
  }

  std::string out() const {
    std::lock_guard lk(mu_);
    return out_;
  }
  std::string err() const {
    std::lock_guard lk(mu_);
    return err_;
  }

  // Descriptors the process holds open right now (-1 if /proc cannot tell).
  int open_fds() const { return count_fds(false); }
  // Its sockets only (the listener and the connections): the count a leaked
  // connection shows in. The others may grow at any time: a spare worker
  // the runtime starts for a hand-off brings its own ring and eventfd.
  int open_sockets() const { return count_fds(true); }

 private:
  int count_fds(bool sockets_only) const {
    std::string dir = "/proc/" + std::to_string(pid_) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return -1;
    int n = 0;
    char target[64];
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      if (sockets_only) {
        ssize_t len = ::readlinkat(::dirfd(d), e->d_name, target, sizeof target - 1);
        if (len < 0) continue;  // closed meanwhile
        target[len] = '\0';
        if (std::strncmp(target, "socket:", 7) != 0) continue;
      }
      ++n;
    }
    ::closedir(d);
    return n;
  }

  void join_drain() {
    if (drain_.joinable()) drain_.join();
  }

  void drain(int out_fd, int err_fd) {
    pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int open = 2;
    char buf[4096];
    while (open > 0) {
      if (::poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2; ++i) {
        if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::read(p[i].fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        std::lock_guard lk(mu_);
        if (n <= 0) {
          ::close(p[i].fd);
          p[i].fd = -1;
          --open;
          (i == 0 ? out_eof_ : err_eof_) = true;
        } else {
          (i == 0 ? out_ : err_).append(buf, static_cast<std::size_t>(n));
        }
        cv_.notify_all();
      }
    }
    for (auto& q : p)
      if (q.fd >= 0) ::close(q.fd);
  }

  pid_t pid_ = -1;
  std::string spawn_error_;
  bool reaped_ = false;
  int status_ = 0;
  std::thread drain_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string out_, err_;
  bool out_eof_ = false, err_eof_ = false;
};

inline std::string describe_status(int st) {
  if (WIFEXITED(st)) return "exit status " + std::to_string(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) return std::string("killed by signal ") + strsignal(WTERMSIG(st));
  return "wait status " + std::to_string(st);
}

// ---------------------------------------------------------------------------
// Plain blocking client sockets

// Every blocking call on a client socket gives up after this, so a hung
// server fails the test instead of hanging it.
// Raises this process's open-file limit (which a server it starts inherits)
// to at least `want`; "" on success, else why not (the hard limit is lower,
// or the call failed), for GTEST_SKIP.
inline std::string raise_open_files(rlim_t want) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return "getrlimit: " + errno_text(errno);
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < want)
    return "RLIMIT_NOFILE hard limit " + std::to_string(lim.rlim_max) + " < " + std::to_string(want);
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < want) {
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want * 2 : std::min<rlim_t>(lim.rlim_max, want * 2);
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) return "setrlimit: " + errno_text(errno);
  }
  return "";
}

inline milliseconds io_timeout() { return scaled(20s); }

class client {
 public:
  client() = default;
  explicit client(int fd) : fd_(fd) {}
  client(client&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  client& operator=(client&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~client() { close(); }

  // Connects to 127.0.0.1:port; on failure fd() is -1 and `error` says why.
  static client connect(int port, std::string* error = nullptr) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      if (error) *error = "socket: " + errno_text(errno);
      return client();
    }
    auto t = std::chrono::duration_cast<std::chrono::microseconds>(io_timeout());
    timeval tv{static_cast<time_t>(t.count() / 1000000), static_cast<suseconds_t>(t.count() % 1000000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc;
    while ((rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a)) != 0 && errno == EINTR) {
    }
    if (rc != 0) {
      if (error) *error = "connect: " + errno_text(errno);
      ::close(fd);
      return client();
    }
    return client(fd);
  }

  int fd() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

  void set_nodelay() {
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  // Sends all n bytes; returns an error text, empty on success.
  std::string send_all(const void* p, std::size_t n) {
    auto* c = static_cast<const char*>(p);
    while (n > 0) {
      ssize_t k = ::send(fd_, c, n, MSG_NOSIGNAL);
      if (k < 0) {
        if (errno == EINTR) continue;
        return "send: " + (errno == EAGAIN ? std::string("timed out") : errno_text(errno));
      }
      c += k;
      n -= static_cast<std::size_t>(k);
    }
    return {};
  }

  // One recv: bytes read (0 at end of stream), or -1 with errno set.
  ssize_t recv_some(void* p, std::size_t n) {
    ssize_t k;
    while ((k = ::recv(fd_, p, n, 0)) < 0 && errno == EINTR) {
    }
    return k;
  }

  // Reads exactly n bytes; returns an error text, empty on success.
  std::string recv_exact(void* p, std::size_t n) {
    auto* c = static_cast<char*>(p);
    std::size_t got = 0;
    while (got < n) {
      ssize_t k = recv_some(c + got, n - got);
      if (k == 0) return "recv: end of stream after " + std::to_string(got) + " of " + std::to_string(n) + " bytes";
      if (k < 0) return "recv: " + (errno == EAGAIN ? std::string("timed out") : errno_text(errno));
      got += static_cast<std::size_t>(k);
    }
    return {};
  }

  // Expects the end of the stream (and no more bytes); returns an error text.
  std::string expect_eof() {
    char c;
    ssize_t k = recv_some(&c, 1);
    if (k == 0) return {};
    if (k > 0) return "expected end of stream, got more data";
    return "expected end of stream, recv: " + (errno == EAGAIN ? std::string("timed out") : errno_text(errno));
  }

  // The next recv sees end of stream or ECONNRESET (what a socket of a
  // dead server sees); returns an error text. Unread echoed data is skipped.
  std::string expect_eof_or_reset() {
    char buf[65536];
    for (;;) {
      ssize_t k = recv_some(buf, sizeof buf);
      if (k == 0) return {};
      if (k < 0) {
        if (errno == ECONNRESET) return {};
        return "expected end of stream or ECONNRESET, recv: " +
               (errno == EAGAIN ? std::string("timed out") : errno_text(errno));
      }
    }
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Wakes any thread blocked on this socket (a failed counterpart gives up).
  void abort_io() { ::shutdown(fd_, SHUT_RDWR); }

  // Close with SO_LINGER {1, 0}: the kernel sends RST instead of FIN.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Sends the pattern stream `seed` in messages of the given sizes, then
// shuts the write side down. Returns an error text.
inline std::string write_messages(client& c, std::uint64_t seed, const std::vector<std::size_t>& sizes) {
  std::vector<unsigned char> buf;
  std::uint64_t off = 0;
  for (std::size_t n : sizes) {
    buf.resize(n);
    fill_pattern(seed, off, buf.data(), n);
    if (auto e = c.send_all(buf.data(), n); !e.empty()) return e + " at offset " + std::to_string(off);
    off += n;
  }
  c.shutdown_write();
  return {};
}

// Reads until end of stream, checking every byte against pattern `seed`;
// the stream must be exactly `total` bytes long. Returns an error text.
inline std::string read_and_check(client& c, std::uint64_t seed, std::uint64_t total) {
  std::vector<unsigned char> buf(65536);
  std::uint64_t off = 0;
  for (;;) {
    ssize_t k = c.recv_some(buf.data(), buf.size());
    if (k < 0)
      return "recv at offset " + std::to_string(off) + ": " +
             (errno == EAGAIN ? std::string("timed out") : errno_text(errno));
    if (k == 0) break;
    if (off + static_cast<std::uint64_t>(k) > total)
      return "echo longer than sent: " + std::to_string(off + static_cast<std::uint64_t>(k)) + " > " +
             std::to_string(total);
    if (long long bad = pattern_mismatch(seed, off, buf.data(), static_cast<std::size_t>(k)); bad >= 0)
      return "echoed byte " + std::to_string(bad) + " differs from the byte sent";
    off += static_cast<std::uint64_t>(k);
  }
  if (off != total) return "end of stream after " + std::to_string(off) + " of " + std::to_string(total) + " bytes";
  return {};
}

// Runs a writer and a reader thread on one connection (so a long echo never
// deadlocks on full buffers); returns an error text.
inline std::string echo_stream(client& c, std::uint64_t seed, const std::vector<std::size_t>& sizes) {
  std::uint64_t total = 0;
  for (auto n : sizes) total += n;
  std::string werr;
  std::thread writer([&] {
    werr = write_messages(c, seed, sizes);
    if (!werr.empty()) c.abort_io();
  });
  std::string rerr = read_and_check(c, seed, total);
  if (!rerr.empty()) c.abort_io();
  writer.join();
  if (!werr.empty()) return "writer: " + werr;
  if (!rerr.empty()) return "reader: " + rerr;
  return {};
}

// One round trip of n pattern bytes on an open connection; returns an error text.
inline std::string round_trip(client& c, std::uint64_t seed, std::uint64_t offset, std::size_t n) {
  std::vector<unsigned char> out(n), in(n);
  fill_pattern(seed, offset, out.data(), n);
  if (auto e = c.send_all(out.data(), n); !e.empty()) return e;
  if (auto e = c.recv_exact(in.data(), n); !e.empty()) return e;
  if (std::memcmp(in.data(), out.data(), n) != 0) return "round trip of " + std::to_string(n) + " bytes: echo differs";
  return {};
}

// Polls pred until it holds or `limit` passed.
template <class Pred>
bool eventually(Pred pred, milliseconds limit) {
  auto end = steady::now() + limit;
  while (!pred()) {
    if (steady::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace echo_process_test
