// kv_server: a Redis-protocol (RESP2) in-memory store with one green
// thread per connection, written in plain blocking style -- read a
// command, run it, answer.
//
//   kv_server --port P [--workers N] [--engine io_uring|epoll]
//             [--shards N] [--max-request BYTES] [--pubsub-queue N]
//
// Enough of Redis for redis-cli, redis-benchmark's default tests and
// redis-py: strings, lists, sets, hashes, sorted sets, expiry, KEYS/SCAN,
// INFO, CONFIG GET, COMMAND, CLIENT, pub/sub (docs/kv_server.md lists them).
// Prints "listening on 127.0.0.1:P" once it accepts, and exits with status
// 0 on SIGINT or SIGTERM after answering the commands it has already read.
//
// The parts live in kv/: the protocol (resp), the keyspace (store), the
// commands, pub/sub. Signals and shutdown work as in http_server.cpp.
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kv/commands.hpp"
#include "kv/resp.hpp"
#include "kv/store.hpp"
#include "weft/io.hpp"
#include "weft/weft.hpp"

namespace io = weft::io;
using namespace std::chrono_literals;

namespace {

struct config {
  int port = -1;
  unsigned workers = 0;
  weft::io_engine engine = weft::io_engine::automatic;
  std::size_t shards = 64;
  // Pending input of one connection: the largest bulk (512 MB, Redis's
  // proto-max-bulk-len) plus room for the rest of its request.
  std::size_t max_request = 512u * 1024 * 1024 + 64 * 1024;
  std::size_t pubsub_queue = 4096;  // replies waiting for a subscriber's socket, then it is dropped
};

constexpr auto io_timeout = 30s;           // one reply written to a client that does not read
constexpr auto shutdown_grace = 5s;        // then connections still busy are closed
constexpr auto expiry_period = 100ms;      // Redis's hz 10

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "kv_server: %s\nusage: kv_server --port P [--workers N] [--engine io_uring|epoll]\n"
               "                 [--shards N] [--max-request BYTES] [--pubsub-queue N]\n",
               why);
  std::exit(2);
}

config parse_args(int argc, char** argv) {
  config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    char* end = nullptr;
    auto number = [&](unsigned long long lo, unsigned long long hi) {
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (*end || v.empty() || v[0] == '-' || n < lo || n > hi)
        usage((a + " must be " + std::to_string(lo) + ".." + std::to_string(hi)).c_str());
      return n;
    };
    if (a == "--port") c.port = static_cast<int>(number(0, 65535));
    else if (a == "--workers") c.workers = static_cast<unsigned>(number(1, 1024));
    else if (a == "--shards") c.shards = static_cast<std::size_t>(number(1, 65536));
    else if (a == "--max-request") c.max_request = static_cast<std::size_t>(number(1024, 1ull << 32));
    else if (a == "--pubsub-queue") c.pubsub_queue = static_cast<std::size_t>(number(1, 1u << 20));
    else if (a == "--engine") {
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

// The connections alive right now, so shutdown can reach them (as in
// http_server.cpp).
class connections {
 public:
  // Registers a started connection; false once shutdown began.
  bool add(io::socket* s) {
    std::lock_guard lk(mu_);
    if (stopping_) return false;
    live_.push_back(s);
    wg_.add(1);
    return true;
  }
  void remove(io::socket* s) {
    {
      std::lock_guard lk(mu_);
      live_.erase(std::find(live_.begin(), live_.end(), s));
    }
    wg_.done();
  }
  // Shuts the read side of every connection: a thread waiting for a command
  // sees the end of the stream, one running a batch answers it first.
  // Whoever is still busy after `grace` is closed.
  void shut_down(std::chrono::milliseconds grace) {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
      for (io::socket* s : live_) {
        try {
          s->shutdown(SHUT_RD);
        } catch (const std::system_error&) {
        }
      }
    }
    if (wg_.wait_for(grace)) return;
    {
      std::lock_guard lk(mu_);
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

struct server {
  config cfg;
  kv::resp::limits lim;
  kv::store db;
  kv::pubsub ps;
  kv::server_info info;
  kv::context ctx{db, ps, info};
  connections conns;

  explicit server(const config& c) : cfg(c), db(c.shards) {}
};

// After a protocol error: our FIN first, then what the client still sends
// is read and dropped for a moment, so the kernel does not answer it with a
// reset that could destroy the error reply before the client reads it
// (http_server.cpp's linger_close says more).
void linger_close(io::socket& conn, io::buffered_reader& in) {
  try {
    conn.shutdown(SHUT_WR);
    io::deadline d(2s);
    char sink[4096];
    for (std::size_t total = 0; total < (1u << 20);) {
      std::size_t n = in.read(sink, sizeof sink, d);
      if (n == 0) break;
      total += n;
    }
  } catch (const std::system_error&) {
  }
}

// Reads, runs and answers commands until the client leaves, sends QUIT or
// something malformed. Throws what the socket throws (a reset, a write
// that timed out, closed at shutdown).
void serve_commands(io::socket& conn, io::buffered_reader& in, kv::session& s, server& srv) {
  kv::resp::parser parser(srv.lim);
  std::string out;
  auto flush = [&] {
    if (out.empty()) return;
    if (s.sub) {
      // Subscribed: replies queue behind the messages already there.
      s.sub->send_own(std::move(out));
      out = {};
    } else {
      conn.write_all(out.data(), out.size(), io_timeout);
      out.clear();
    }
  };
  bool protocol_error = false;
  for (;;) {
    kv::resp::status st = parser.parse(in.buffered());
    if (st == kv::resp::status::complete || st == kv::resp::status::empty) {
      if (st == kv::resp::status::complete) kv::execute(srv.ctx, s, parser.args(), out);
      in.consume(parser.consumed());
      parser.reset();
      if (s.quit) break;
      // A long pipeline is answered in pieces, so `out` stays small.
      if (out.size() >= 64 * 1024) flush();
      continue;
    }
    if (st == kv::resp::status::error) {
      kv::resp::error(out, "ERR " + parser.error_text());
      protocol_error = true;
      break;
    }
    // Every complete command of the batch is answered: one write for all
    // of them, then wait for more.
    flush();
    if (s.sub && s.sub->overflowed()) return;
    weft::errc failed{};
    std::size_t got = 0;
    // No parking inside a catch block (http_server.cpp says why): note, then act.
    try {
      got = in.fill();
    } catch (const weft::error& e) {
      failed = static_cast<weft::errc>(e.code().value());
      if (failed != weft::errc::limit_exceeded) throw;
    }
    if (failed == weft::errc::limit_exceeded) {
      kv::resp::error(out, "ERR Protocol error: request larger than --max-request (" +
                               std::to_string(srv.cfg.max_request) + " bytes)");
      protocol_error = true;
      break;
    }
    if (got == 0) return;  // the client left
  }
  flush();
  if (protocol_error) {
    s.end_subscriber();  // its writer has sent the error reply when this returns
    linger_close(conn, in);
  }
}

void serve_connection(io::socket& conn, server& srv) {
  io::buffered_reader in(conn, srv.cfg.max_request);
  kv::session s(conn);
  try {
    serve_commands(conn, in, s, srv);
  } catch (const std::system_error&) {
    // Reset by the peer, a write that timed out, closed at shutdown: this
    // connection is done, the others are not concerned.
  }
  // The session ends here, outside the handler and after the unwinding:
  // ending a subscriber parks (a lock, a join), and a green thread must not
  // park inside a catch block (http_server.cpp says why).
}

void connection_thread(io::socket conn, server& srv) {
  if (!srv.conns.add(&conn)) return;
  srv.info.connected.fetch_add(1, std::memory_order_relaxed);
  serve_connection(conn, srv);
  srv.info.connected.fetch_sub(1, std::memory_order_relaxed);
  srv.conns.remove(&conn);
}

// Accepts until the listener is closed; backs off on descriptor exhaustion
// as http_server.cpp does.
void accept_loop(io::socket& listener, server& srv) {
  auto backoff = 5ms;
  for (;;) {
    io::socket conn;
    bool out_of_descriptors = false;
    try {
      conn = listener.accept();
    } catch (const weft::error& e) {
      if (e.code() == weft::errc::closed) return;
      throw;
    } catch (const std::system_error& e) {
      int ev = e.code().value();
      if (ev != EMFILE && ev != ENFILE && ev != ENOBUFS && ev != ENOMEM) throw;
      std::fprintf(stderr, "kv_server: %s; retrying in %lld ms\n", e.what(), static_cast<long long>(backoff.count()));
      out_of_descriptors = true;
    }
    if (out_of_descriptors) {
      weft::this_thread::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1s);
      continue;
    }
    backoff = 5ms;
    srv.info.connections_total.fetch_add(1, std::memory_order_relaxed);
    try {
      conn.set_nodelay();
    } catch (const std::system_error&) {
    }
    weft::spawn([c = std::move(conn), &srv]() mutable { connection_thread(std::move(c), srv); }).detach();
  }
}

// Active expiry (store.hpp): a bounded sampling round every 100 ms until
// `stop` is set.
void expiry_loop(server& srv, const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    srv.db.expire_cycle();
    weft::this_thread::sleep_for(expiry_period);
  }
}

// Redis raises its descriptor limit for maxclients the same way: the soft
// limit up to the hard one, so a thousand clients do not hit EMFILE.
void raise_descriptor_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

const char* engine_name(weft::io_engine e) {
  switch (e) {
    case weft::io_engine::io_uring: return "io_uring";
    case weft::io_engine::epoll: return "epoll";
    default: return "automatic";
  }
}

}  // namespace

int main(int argc, char** argv) {
  config cfg = parse_args(argc, argv);
  weft::set_log_level(weft::log_level::info);
  raise_descriptor_limit();
  ::signal(SIGPIPE, SIG_IGN);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  int sfd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    std::perror("kv_server: signalfd");
    return 1;
  }

  server srv(cfg);
  srv.lim.max_bulk = std::min<std::uint64_t>(srv.lim.max_bulk, cfg.max_request);
  srv.info.workers = cfg.workers;
  srv.info.engine = engine_name(cfg.engine);
  srv.info.started_ms = kv::now_ms();
  srv.info.max_bulk = srv.lim.max_bulk;
  srv.info.max_request = cfg.max_request;
  srv.info.pubsub_queue = cfg.pubsub_queue;

  weft::options opts;
  opts.workers = cfg.workers;
  opts.io = cfg.engine;
  opts.stall_threshold = std::chrono::milliseconds(100);
  int code = 0;
  try {
    code = weft::run(opts, [&]() -> int {
      io::socket signals = io::socket::adopt(sfd);
      io::socket listener = io::socket::listen(io::address::loopback(static_cast<std::uint16_t>(cfg.port)));
      srv.info.port = listener.local_address().port();
      if (srv.info.workers == 0) srv.info.workers = static_cast<unsigned>(weft::stats().workers.size());
      std::printf("listening on 127.0.0.1:%u\n", listener.local_address().port());
      std::fflush(stdout);

      std::atomic<bool> stop{false};
      auto expiry = weft::spawn([&] { expiry_loop(srv, stop); });
      auto watcher = weft::spawn([&] {
        signalfd_siginfo si;
        try {
          signals.read_exact(&si, sizeof si);
        } catch (const weft::error&) {
          return;
        }
        std::fprintf(stderr, "kv_server: %s, shutting down\n", strsignal(static_cast<int>(si.ssi_signo)));
        listener.close();
      });
      int rc = 0;
      try {
        accept_loop(listener, srv);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "kv_server: %s\n", e.what());
        rc = 1;
      }
      srv.conns.shut_down(shutdown_grace);
      stop.store(true);
      expiry.join();
      signals.close();
      watcher.join();
      return rc;
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kv_server: %s\n", e.what());
    code = 1;
  }
  return code;
}
