// http_server: an HTTP/1.1 server with one green thread per connection,
// written in plain blocking style -- read a request head, answer it, loop.
//
//   http_server --port P [--workers N] [--root DIR] [--engine io_uring|epoll]
//               [--max-connections N] [--max-head BYTES] [--max-body BYTES]
//               [--header-timeout MS] [--idle-timeout MS]
//
// Serves GET /plaintext and GET /json as TechEmpower defines them, and the
// files under --root. Keep-alive and pipelining (answers in request order:
// one thread reads and answers each connection, so there is no other order),
// HTTP/1.0, chunked request bodies (read and dropped). Prints
// "listening on 127.0.0.1:P" once it accepts, and exits with status 0 on
// SIGINT or SIGTERM after answering the requests it has already read.
//
// Requests are read with weft::io::buffered_reader and parsed by our own
// parser (examples/http/parser.hpp says why); docs/http_server.md has the
// design. Shutdown and signals work as in echo_server.cpp.
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "http/date.hpp"
#include "http/parser.hpp"
#include "http/path.hpp"
#include "weft/io.hpp"
#include "weft/weft.hpp"

namespace io = weft::io;
using namespace std::chrono_literals;

namespace {

// What a client may send and how long it may take; exceeding a size gets the
// matching status (431/414, 413), a timeout closes the connection.
struct limits {
  std::size_t max_head = 16 * 1024;            // request line + headers: 431 beyond (414 for the line alone)
  std::size_t max_target = 8 * 1024;           // request-target: 414 beyond
  std::uint64_t max_body = 1024 * 1024;        // request body: 413 beyond
  std::size_t max_connections = 10000;         // more get 503 and are closed
  std::chrono::milliseconds header_timeout = 10s;  // from the first byte of a request to its blank line
  std::chrono::milliseconds idle_timeout = 30s;    // between requests on a kept-alive connection
  std::chrono::milliseconds io_timeout = 30s;      // a body read or a response write
  std::chrono::milliseconds shutdown_grace = 5s;   // then connections still busy are closed
  std::chrono::milliseconds linger_time = 2s;      // input drained after an answer that closes
  std::size_t linger_bytes = 1024 * 1024;          // at most this much of it
};

struct config {
  int port = -1;
  unsigned workers = 0;
  std::string root;
  weft::io_engine engine = weft::io_engine::automatic;
  limits lim;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "http_server: %s\nusage: http_server --port P [--workers N] [--root DIR] [--engine io_uring|epoll]\n"
               "                   [--max-connections N] [--max-head BYTES] [--max-body BYTES]\n"
               "                   [--header-timeout MS] [--idle-timeout MS]\n",
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
    if (a == "--port") {
      long p = std::strtol(v.c_str(), &end, 10);
      if (*end || p < 0 || p > 65535) usage("--port must be 0..65535");
      c.port = static_cast<int>(p);
    } else if (a == "--workers") {
      long n = std::strtol(v.c_str(), &end, 10);
      if (*end || n < 1 || n > 1024) usage("--workers must be 1..1024");
      c.workers = static_cast<unsigned>(n);
    } else if (a == "--max-connections" || a == "--max-head" || a == "--max-body" || a == "--header-timeout" ||
               a == "--idle-timeout") {
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (*end || v.empty() || v[0] == '-' || n < 1 || n > (1ULL << 40)) usage((a + " must be 1..2^40").c_str());
      if (a == "--max-connections") c.lim.max_connections = static_cast<std::size_t>(n);
      else if (a == "--max-head") c.lim.max_head = static_cast<std::size_t>(n);
      else if (a == "--max-body") c.lim.max_body = n;
      else if (a == "--header-timeout") c.lim.header_timeout = std::chrono::milliseconds(n);
      else c.lim.idle_timeout = std::chrono::milliseconds(n);
    } else if (a == "--root") {
      c.root = v;
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

// ---------------------------------------------------------------------------
// Responses

const char* reason_of(int status) {
  switch (status) {
    case 200: return "OK";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

// Appends a status line and the headers every response has; the caller adds
// its own and the blank line.
void start_response(std::string& out, int status, bool keep_alive) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason_of(status);
  out += "\r\nServer: weft\r\nDate: ";
  out += http::current_http_date();
  out += keep_alive ? "\r\n" : "\r\nConnection: close\r\n";
}

// A whole response with a small body (HEAD: the headers only).
void respond(std::string& out, int status, bool keep_alive, std::string_view type, std::string_view body,
             bool head_only = false, std::string_view extra_headers = {}) {
  start_response(out, status, keep_alive);
  out += "Content-Type: ";
  out += type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body.size());
  out += "\r\n";
  out += extra_headers;
  out += "\r\n";
  if (!head_only) out += body;
}

// An error answer: a short text body saying why.
void respond_error(std::string& out, int status, bool keep_alive, std::string_view why, bool head_only = false,
                   std::string_view extra_headers = {}) {
  std::string body = std::to_string(status) + " " + reason_of(status) + ": " + std::string(why) + "\n";
  respond(out, status, keep_alive, "text/plain; charset=utf-8", body, head_only, extra_headers);
}

// ---------------------------------------------------------------------------
// Static files

// Where openat2 is missing (kernels before 5.6, qemu-user): one openat per
// segment with O_NOFOLLOW, so a symlink anywhere on the way fails with ELOOP
// as RESOLVE_NO_SYMLINKS would. target_to_path has already refused "..",
// so no segment can climb out of the root.
int open_beneath_by_steps(int root_fd, const std::string& rel) {
  int dir = ::openat(root_fd, ".", O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (dir < 0) return -errno;
  std::size_t at = 0;
  while (at < rel.size()) {
    std::size_t end = rel.find('/', at);
    if (end == std::string::npos) end = rel.size();
    std::string seg = rel.substr(at, end - at);
    at = end + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      ::close(dir);
      return -EXDEV;
    }
    int next = ::openat(dir, seg.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    int err = errno;
    ::close(dir);
    if (next < 0) return -err;
    dir = next;
  }
  return dir;
}

// Opens `rel` under the root directory `root_fd` so the kernel refuses any
// way out of it: ".." that climbs above the root, absolute paths and
// symlinks anywhere on the way (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).
// It is a path walk on an offload thread (weft::blocking), not a wait the
// engines know; the reads that follow go through weft::io::file.
int open_beneath(int root_fd, const std::string& rel) {
  return weft::blocking([&]() -> int {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
    long fd = ::syscall(SYS_openat2, root_fd, rel.empty() ? "." : rel.c_str(), &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) return open_beneath_by_steps(root_fd, rel);
    return fd < 0 ? -errno : static_cast<int>(fd);
  });
}

// Answers GET/HEAD for a file under the root; appends to `out` and flushes
// through `conn` when a large body is streamed.
void serve_file(io::socket& conn, std::string& out, int root_fd, const http::request& req, bool keep_alive,
                const limits& lim) {
  bool head_only = req.method == "HEAD";
  std::string rel;
  switch (http::target_to_path(req.target, rel)) {
    case http::path_status::ok: break;
    case http::path_status::bad_request: return respond_error(out, 400, keep_alive, "malformed path", head_only);
    case http::path_status::forbidden: return respond_error(out, 403, keep_alive, "path outside the root", head_only);
  }
  int fd = open_beneath(root_fd, rel);
  struct stat st{};
  if (fd >= 0 && ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    // A directory: its index.html, if it has one.
    ::close(fd);
    rel = rel.empty() ? "index.html" : rel + "/index.html";
    fd = open_beneath(root_fd, rel);
    if (fd >= 0 && ::fstat(fd, &st) != 0) st = {};
  }
  if (fd < 0) {
    // EXDEV: the path tried to leave the root; ELOOP: a symlink on the way.
    if (fd == -EXDEV || fd == -ELOOP) return respond_error(out, 403, keep_alive, "path outside the root", head_only);
    if (fd == -EACCES || fd == -EPERM) return respond_error(out, 403, keep_alive, "not readable", head_only);
    return respond_error(out, 404, keep_alive, "no such file", head_only);
  }
  io::file f = io::file::adopt(fd);
  if (!S_ISREG(st.st_mode)) return respond_error(out, 404, keep_alive, "not a file", head_only);

  std::string last_modified = http::format_http_date(st.st_mtime);
  if (!req.if_modified_since.empty()) {
    auto since = http::parse_http_date(req.if_modified_since);
    if (since && st.st_mtime <= *since) {
      start_response(out, 304, keep_alive);
      out += "Last-Modified: " + last_modified + "\r\n\r\n";
      return;
    }
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  start_response(out, 200, keep_alive);
  out += "Content-Type: ";
  out += http::content_type_for(rel);
  out += "\r\nContent-Length: " + std::to_string(size) + "\r\nLast-Modified: " + last_modified + "\r\n\r\n";
  if (head_only) return;
  // Read in pieces into the response buffer, flushing as it fills, so a big
  // file never sits in memory whole.
  constexpr std::size_t piece = 64 * 1024;
  std::uint64_t off = 0;
  while (off < size) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(piece, size - off));
    std::size_t at = out.size();
    out.resize(at + want);
    std::size_t got = f.read_at(out.data() + at, want, off, lim.io_timeout);
    out.resize(at + got);
    // The file shrank under us: the Content-Length promised is no longer true.
    if (got == 0) throw weft::error(weft::errc::end_of_stream, "http_server: " + rel + " shrank while being sent");
    off += got;
    if (out.size() >= piece) {
      conn.write_all(out.data(), out.size(), lim.io_timeout);
      out.clear();
    }
  }
}

// ---------------------------------------------------------------------------
// Request bodies: read and dropped (no handler here takes one), but read
// they must be, or the next pipelined request would start inside them.

// Returns 0, or the status to answer with (413 too large, 400 malformed).
int discard_body(io::buffered_reader& in, const http::request& req, const limits& lim) {
  io::deadline d(lim.io_timeout);
  char sink[4096];
  auto skip = [&](std::uint64_t n) {
    while (n > 0) {
      std::size_t got = in.read(sink, static_cast<std::size_t>(std::min<std::uint64_t>(n, sizeof sink)), d);
      if (got == 0) throw weft::error(weft::errc::end_of_stream, "http_server: the body ended early");
      n -= got;
    }
  };
  if (req.body == http::body_kind::length) {
    if (req.content_length > lim.max_body) return 413;
    skip(req.content_length);
    return 0;
  }
  if (req.body != http::body_kind::chunked) return 0;
  std::uint64_t total = 0;
  for (;;) {
    auto line = in.read_line(d);
    if (!line) throw weft::error(weft::errc::end_of_stream, "http_server: the chunked body ended early");
    std::uint64_t size = 0;
    if (!http::parse_chunk_size(*line, size)) return 400;
    total += size;
    if (total > lim.max_body) return 413;
    if (size == 0) break;
    skip(size);
    auto crlf = in.read_line(d);
    if (!crlf || !crlf->empty()) return 400;
  }
  // The trailer section, up to its blank line.
  for (;;) {
    auto line = in.read_line(d);
    if (!line) throw weft::error(weft::errc::end_of_stream, "http_server: the chunked body ended early");
    if (line->empty()) return 0;
  }
}

// ---------------------------------------------------------------------------
// Connections

// The connections alive right now, so shutdown can reach them (as in
// echo_server.cpp), and their count for the connection cap.
class connections {
 public:
  // Counts a connection in; false when the server is full or stopping.
  bool try_expect_one(std::size_t cap) {
    std::lock_guard lk(mu_);
    if (stopping_ || live_count_ >= cap) return false;
    ++live_count_;
    wg_.add(1);
    return true;
  }
  // Registers a started connection; false once shutdown began.
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
  void finished() {
    {
      std::lock_guard lk(mu_);
      --live_count_;
    }
    wg_.done();
  }
  // Read on every request: an atomic, not the mutex.
  bool stopping() const { return stopping_flag_.load(std::memory_order_relaxed); }
  // Ends the connections gently: their read side is shut, so a thread
  // waiting for a request sees the end of the stream, and one answering a
  // request finishes it (and the requests it had already read), then
  // finds the end. Whoever is still busy after `grace` is closed.
  void shut_down(std::chrono::milliseconds grace) {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
      stopping_flag_.store(true, std::memory_order_relaxed);
      for (io::socket* s : live_) {
        try {
          s->shutdown(SHUT_RD);
        } catch (const std::system_error&) {
          // Already reset by the peer: its thread is on its way out.
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
  std::atomic<bool> stopping_flag_{false};
  std::size_t live_count_ = 0;
  std::vector<io::socket*> live_;
  weft::wait_group wg_;
};

struct server {
  config cfg;
  int root_fd = -1;
  connections conns;
};

// Answers one parsed request into `out`. Returns false when the connection
// must close after the answer.
bool answer(io::socket& conn, io::buffered_reader& in, std::string& out, server& srv, const http::request& req) {
  bool keep_alive = req.keep_alive && !srv.conns.stopping();
  if (int status = discard_body(in, req, srv.cfg.lim)) {
    // The rest of the body is unread: the connection cannot go on.
    respond_error(out, status, false, status == 413 ? "request body too large" : "malformed chunked body");
    return false;
  }
  bool get = req.method == "GET", head = req.method == "HEAD";
  std::string_view path = req.target.substr(0, req.target.find('?'));
  bool fixed = path == "/plaintext" || path == "/json";
  if (!get && !head) {
    if (fixed || srv.root_fd >= 0)
      respond_error(out, 405, keep_alive, "only GET and HEAD", false, "Allow: GET, HEAD\r\n");
    else
      respond_error(out, 404, keep_alive, "no such resource");
    return keep_alive;
  }
  if (path == "/plaintext") {
    respond(out, 200, keep_alive, "text/plain", "Hello, World!", head);
  } else if (path == "/json") {
    respond(out, 200, keep_alive, "application/json", R"({"message":"Hello, World!"})", head);
  } else if (srv.root_fd >= 0) {
    serve_file(conn, out, srv.root_fd, req, keep_alive, srv.cfg.lim);
  } else {
    respond_error(out, 404, keep_alive, "no such resource", head);
  }
  return keep_alive;
}

// Closes after an answer that ends the connection: our FIN first, then
// what the client still sends is read and dropped for a moment. Closing with
// unread input would make the kernel answer with a reset, and a reset can
// destroy our answer in the client's receive buffer before the client read
// it (what nginx's lingering_close is for).
void linger_close(io::socket& conn, io::buffered_reader& in, const limits& lim) {
  try {
    conn.shutdown(SHUT_WR);
    io::deadline d(lim.linger_time);
    char sink[4096];
    for (std::size_t total = 0; total < lim.linger_bytes;) {
      std::size_t n = in.read(sink, sizeof sink, d);
      if (n == 0) break;
      total += n;
    }
  } catch (const std::system_error&) {
    // Timed out or reset: closing now is all that is left.
  }
}

// The status for a head that did not fit the reader: 414 if even the
// request line did not end within it, else 431.
int too_large_status(std::string_view partial) { return partial.find('\n') == std::string_view::npos ? 414 : 431; }

void serve_connection(io::socket& conn, server& srv) {
  const limits& lim = srv.cfg.lim;
  io::buffered_reader in(conn, lim.max_head);
  http::parse_limits plim{.max_target = lim.max_target};
  http::request req;
  std::string out;
  auto flush = [&] {
    if (!out.empty()) conn.write_all(out.data(), out.size(), lim.io_timeout);
    out.clear();
  };
  for (bool open = true; open;) {
    // Answers to pipelined requests are batched: flush only when the next
    // request is not here yet, i.e. before waiting for it.
    if (in.buffered().find("\r\n\r\n") == std::string_view::npos) {
      flush();
      if (in.buffered().empty()) {
        // Idle between requests: a parked thread waiting, nothing more.
        try {
          if (in.fill(lim.idle_timeout) == 0) return;
        } catch (const weft::error& e) {
          if (e.code() == weft::errc::timed_out) return;
          throw;
        }
      }
    }
    std::optional<std::string_view> head;
    // Only note the error in the handler: what follows writes and waits,
    // and a green thread must not park inside a catch block (the C++
    // runtime keeps the exception being handled per kernel thread, and the
    // thread may resume on another worker).
    weft::errc failed{};
    try {
      head = in.read_until("\r\n\r\n", lim.header_timeout);
    } catch (const weft::error& e) {
      failed = static_cast<weft::errc>(e.code().value());
      if (failed != weft::errc::limit_exceeded && failed != weft::errc::timed_out &&
          failed != weft::errc::end_of_stream)
        throw;
    }
    if (failed == weft::errc::end_of_stream) return;  // the client left half-way through a head
    if (failed == weft::errc::limit_exceeded) {
      int status = too_large_status(in.buffered());
      respond_error(out, status, false, status == 414 ? "request line too long" : "request headers too large");
    } else if (failed == weft::errc::timed_out) {
      respond_error(out, 408, false, "the request head took too long");
    }
    if (failed != weft::errc{}) {
      flush();
      linger_close(conn, in, lim);
      return;
    }
    if (!head) return;  // the client closed between requests
    if (http::parse_error e = http::parse_request(*head, req, plim)) {
      respond_error(out, e.status, false, e.reason);
      break;
    }
    open = answer(conn, in, out, srv, req);
  }
  flush();
  linger_close(conn, in, lim);
}

void connection_thread(io::socket conn, server& srv) {
  if (srv.conns.add(&conn)) {
    try {
      serve_connection(conn, srv);
    } catch (const std::system_error&) {
      // Reset by the peer, a write that timed out, closed at shutdown: this
      // connection is done, the others are not concerned.
    }
    srv.conns.remove(&conn);
  }
  srv.conns.finished();
}

// Refuses a connection over the cap with a 503 -- one write that fits any
// fresh socket buffer, never waited for -- and closes it.
void refuse(io::socket& conn) {
  std::string out;
  respond_error(out, 503, false, "too many connections");
  try {
    conn.write(out.data(), out.size(), 0ms);
  } catch (const std::system_error&) {
  }
}

// Accepts until the listener is closed; backs off on descriptor exhaustion
// as echo_server.cpp does.
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
      std::fprintf(stderr, "http_server: %s; retrying in %lld ms\n", e.what(), static_cast<long long>(backoff.count()));
      out_of_descriptors = true;
    }
    if (out_of_descriptors) {
      // Outside the handler: no parking inside a catch block (see serve_connection).
      weft::this_thread::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1s);
      continue;
    }
    backoff = 5ms;
    if (!srv.conns.try_expect_one(srv.cfg.lim.max_connections)) {
      refuse(conn);
      continue;
    }
    try {
      conn.set_nodelay();
    } catch (const std::system_error&) {
    }
    weft::spawn([c = std::move(conn), &srv]() mutable { connection_thread(std::move(c), srv); }).detach();
  }
}

}  // namespace

int main(int argc, char** argv) {
  server srv;
  srv.cfg = parse_args(argc, argv);
  weft::set_log_level(weft::log_level::info);

  if (!srv.cfg.root.empty()) {
    srv.root_fd = ::open(srv.cfg.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (srv.root_fd < 0) {
      std::fprintf(stderr, "http_server: --root %s: %s\n", srv.cfg.root.c_str(), std::strerror(errno));
      return 2;
    }
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  int sfd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    std::perror("http_server: signalfd");
    return 1;
  }

  weft::options opts;
  opts.workers = srv.cfg.workers;
  opts.io = srv.cfg.engine;
  opts.stall_threshold = std::chrono::milliseconds(100);
  opts.dump_signal = SIGQUIT;  // kill -QUIT <pid> (Ctrl-\) prints every green thread (docs/debugging.md)
  int code = 0;
  try {
    code = weft::run(opts, [&]() -> int {
      io::socket signals = io::socket::adopt(sfd);
      io::socket listener = io::socket::listen(io::address::loopback(static_cast<std::uint16_t>(srv.cfg.port)));
      std::printf("listening on 127.0.0.1:%u\n", listener.local_address().port());
      std::fflush(stdout);

      auto watcher = weft::spawn([&] {
        signalfd_siginfo si;
        try {
          signals.read_exact(&si, sizeof si);
        } catch (const weft::error&) {
          return;
        }
        std::fprintf(stderr, "http_server: %s, shutting down\n", strsignal(static_cast<int>(si.ssi_signo)));
        listener.close();
      });
      int rc = 0;
      try {
        accept_loop(listener, srv);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "http_server: %s\n", e.what());
        rc = 1;
      }
      srv.conns.shut_down(srv.cfg.lim.shutdown_grace);
      signals.close();
      watcher.join();
      return rc;
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_server: %s\n", e.what());
    code = 1;
  }
  if (srv.root_fd >= 0) ::close(srv.root_fd);
  return code;
}
