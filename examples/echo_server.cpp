// echo_server: a TCP echo server with one green thread per connection,
// written in plain blocking style -- read, then write back, in a loop. The
// green thread waits; its worker does not.
//
//   echo_server --port P [--workers N] [--engine io_uring|epoll]
//
// Listens on 127.0.0.1:P (P = 0 picks a free port), prints
// "listening on 127.0.0.1:P" once it accepts (and weft's I/O engine line on
// stderr), and exits with status 0 on SIGINT or SIGTERM after closing every
// connection.
//
// Signals are not handled in a signal handler: they are blocked in every
// thread and read from a signalfd by an ordinary green thread, which then
// closes the listener; the accept loop sees weft::errc::closed and the
// server shuts its connections down.
#include <signal.h>
#include <sys/signalfd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "weft/io.hpp"
#include "weft/weft.hpp"

namespace io = weft::io;
using namespace std::chrono_literals;

namespace {

struct config {
  int port = -1;
  unsigned workers = 0;
  weft::io_engine engine = weft::io_engine::automatic;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "echo_server: %s\nusage: echo_server --port P [--workers N] [--engine io_uring|epoll]\n", why);
  std::exit(2);
}

config parse(int argc, char** argv) {
  config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    char* end = nullptr;
    if (a == "--port") {
      long p = std::strtol(v.c_str(), &end, 10);
      if (*end || p < 0 || p > 65535) usage("--port must be 0..65535");
      c.port = static_cast<int>(p);
    } else if (a == "--workers") {
      long n = std::strtol(v.c_str(), &end, 10);
      if (*end || n < 1 || n > 1024) usage("--workers must be 1..1024");
      c.workers = static_cast<unsigned>(n);
    } else if (a == "--engine") {
      if (v == "io_uring") c.engine = weft::io_engine::io_uring;
      else if (v == "epoll") c.engine = weft::io_engine::epoll;
      else usage("--engine must be io_uring or epoll");
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (c.port < 0) usage("--port is required");
  return c;
}

// The connections alive right now, so shutdown can close them. The
// acceptor counts a connection in before spawning its thread, so
// close_all() also waits for threads that have not started yet.
class connections {
 public:
  void expect_one() { wg_.add(1); }
  // Registers a started connection; false once shutdown began (then close it yourself).
  bool add(io::socket* s) {
    std::lock_guard lk(mu_);
    if (stopping_) return false;
    live_.push_back(s);
    return true;
  }
  void remove(io::socket* s) {
    std::lock_guard lk(mu_);
    live_.erase(std::find(live_.begin(), live_.end(), s));
  }
  void finished() { wg_.done(); }
  // Closes every connection (their threads see weft::errc::closed) and waits for them.
  void close_all() {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
      for (io::socket* s : live_) s->close();
    }
    wg_.wait();
  }

 private:
  weft::mutex mu_;
  bool stopping_ = false;
  std::vector<io::socket*> live_;
  weft::wait_group wg_;
};

void serve(io::socket conn, connections& conns) {
  if (conns.add(&conn)) {
    // 2 KiB: this thread's whole stack then fits in one 4 KiB page (a 4 KiB
    // buffer spills into a second one: 8 instead of 4 KiB of memory per
    // connection, and one more page to touch on every wake-up).
    char buf[2048];
    try {
      while (std::size_t n = conn.read(buf, sizeof buf)) conn.write_all(buf, n);
    } catch (const std::system_error&) {
      // Reset by the peer, or closed at shutdown: either way this connection is done.
    }
    conns.remove(&conn);
  }
  conns.finished();
}

// Accepts until the listener is closed. Running out of descriptors (or
// kernel memory) is not fatal: the connection stays queued, so wait a
// little, longer each time, and try again.
void accept_loop(io::socket& listener, connections& conns) {
  auto backoff = 5ms;
  for (;;) {
    io::socket conn;
    try {
      conn = listener.accept();
    } catch (const weft::error& e) {
      if (e.code() == weft::errc::closed) return;
      throw;
    } catch (const std::system_error& e) {
      int ev = e.code().value();
      if (ev != EMFILE && ev != ENFILE && ev != ENOBUFS && ev != ENOMEM) throw;
      std::fprintf(stderr, "echo_server: %s; retrying in %lld ms\n", e.what(),
                   static_cast<long long>(backoff.count()));
    }
    if (!conn.is_open()) {
      // Waits outside the catch block: the error is handled, the
      // exception object can go.
      weft::this_thread::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1s);
      continue;
    }
    backoff = 5ms;
    try {
      conn.set_nodelay();  // replies go out at once, not after the peer's next ACK
    } catch (const std::system_error&) {
      // The peer is already gone; serve() will find out.
    }
    conns.expect_one();
    weft::spawn([c = std::move(conn), &conns]() mutable { serve(std::move(c), conns); }).detach();
  }
}

}  // namespace

int main(int argc, char** argv) {
  config cfg = parse(argc, argv);
  // weft is quiet below warnings; a server's log should say which I/O
  // engine serves it ("weft: I/O engine: io_uring (...)"), an info line.
  weft::set_log_level(weft::log_level::info);

  // Block the signals before any worker starts (threads inherit the mask),
  // then receive them as data.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  int sfd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    std::perror("echo_server: signalfd");
    return 1;
  }

  weft::options opts;
  opts.workers = cfg.workers;
  opts.io = cfg.engine;
  // A connection handler that computes or blocks for 100 ms holds up every
  // connection of its worker: say so, with a backtrace (a warning on stderr).
  opts.stall_threshold = std::chrono::milliseconds(100);
  opts.dump_signal = SIGQUIT;  // kill -QUIT <pid> (Ctrl-\) prints every green thread (docs/debugging.md)
  try {
    return weft::run(opts, [&]() -> int {
      io::socket signals = io::socket::adopt(sfd);
      io::socket listener = io::socket::listen(io::address::loopback(static_cast<std::uint16_t>(cfg.port)));
      std::printf("listening on 127.0.0.1:%u\n", listener.local_address().port());
      std::fflush(stdout);

      auto watcher = weft::spawn([&] {
        signalfd_siginfo si;
        try {
          signals.read_exact(&si, sizeof si);
        } catch (const weft::error&) {
          return;  // closed below: the server stopped for another reason
        }
        std::fprintf(stderr, "echo_server: %s, shutting down\n", strsignal(static_cast<int>(si.ssi_signo)));
        listener.close();
      });
      connections conns;
      int code = 0;
      try {
        accept_loop(listener, conns);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_server: %s\n", e.what());
        code = 1;
      }
      conns.close_all();
      signals.close();
      watcher.join();
      return code;
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
  }
}
