// Blocking-style sockets for green threads: a call that has to wait parks
// the calling green thread (its worker keeps running others) until the
// engine -- io_uring, or epoll -- reports the operation done.
//
// Errors (the same for every weft::io call): each failure throws an
// exception derived from std::system_error, so one catch sees them all.
//   weft::error(errc::timed_out)        the call's deadline passed;
//   weft::error(errc::closed)           the socket was closed, before the
//                                       call or (by another thread) during it;
//   weft::error(errc::invalid_argument) bad arguments;
//   std::system_error, code() = errno   anything the kernel reports
//                                       (std::system_category(); compare with
//                                       std::errc::connection_reset, ...),
//                                       ECANCELED after cancel().
// End of stream is not an error: read() returns 0. Writes never raise
// SIGPIPE (MSG_NOSIGNAL): a closed peer gives EPIPE or ECONNRESET.
//
// Called from a plain kernel thread instead of a green thread, every call
// works too and blocks that kernel thread.
#pragma once

#include <cstddef>
#include <utility>

#include <sys/socket.h>
#include <sys/uio.h>

#include "address.hpp"
#include "deadline.hpp"

namespace weft::detail::io {
struct io_handle;
}

namespace weft::io {

struct listen_options {
  int backlog = 1024;          // listen(2) backlog (the kernel caps it at somaxconn)
  bool reuse_address = true;   // SO_REUSEADDR: rebind at once after a restart
  bool reuse_port = false;     // SO_REUSEPORT: several listeners share the port
};

// A socket, or any other pollable descriptor adopted with adopt() (pipe,
// signalfd, eventfd). Owns its descriptor and closes it on destruction.
// One thread may read while another writes; close() and cancel() may be
// called by any thread while others wait. Destroying a socket while another
// thread is inside one of its calls is an error, as for any object.
class socket {
 public:
  socket() noexcept = default;
  // close()s the socket.
  ~socket();
  socket(socket&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  // Closes what this socket held, then takes o's descriptor.
  socket& operator=(socket&& o) noexcept;
  socket(const socket&) = delete;
  socket& operator=(const socket&) = delete;

  // ---- making sockets ----
  // A listening stream socket bound to `at` (port 0: the kernel picks one,
  // see local_address()). Throws std::system_error (EADDRINUSE, EACCES, ...).
  static socket listen(const address& at, const listen_options& opts = {});
  // A stream socket connected to `to`; throws std::system_error
  // (ECONNREFUSED, ...;
  // weft::error(timed_out) when d passed first).
  static socket connect(const address& to, deadline d = {});
  // A datagram socket (UDP, or Unix datagram) bound to `at`.
  static socket bind_datagram(const address& at);
  // An unbound datagram socket of the given family (AF_INET, AF_INET6, AF_UNIX).
  static socket datagram(int family = AF_INET);
  // A connected pair of Unix-domain sockets (socketpair(2)).
  static std::pair<socket, socket> pair(int type = SOCK_STREAM);
  // Takes ownership of an open, pollable descriptor and makes it non-blocking.
  // Throws weft::error(invalid_argument) for a negative or invalid fd.
  static socket adopt(int fd);

  // ---- waiting calls ----
  // Waits for a connection; the new socket is non-blocking and close-on-exec.
  // EMFILE/ENFILE/ENOBUFS/ENOMEM come back as std::system_error: the
  // connection stays queued, so back off and call again.
  socket accept(deadline d = {});
  // accept() that also returns the peer's address.
  socket accept(address& peer, deadline d = {});
  // Reads up to n bytes as soon as any are available; 0 means end of stream.
  std::size_t read(void* buf, std::size_t n, deadline d = {});
  // Writes up to n bytes; may write fewer (a partial write), never 0 for n > 0.
  std::size_t write(const void* buf, std::size_t n, deadline d = {});
  // Reads exactly n bytes, or fewer only when the stream ends first.
  std::size_t read_exact(void* buf, std::size_t n, deadline d = {});
  // Writes all n bytes (looping over partial writes).
  void write_all(const void* buf, std::size_t n, deadline d = {});
  // Scatter read / gather write (iovcnt <= IOV_MAX).
  std::size_t readv(const iovec* iov, int iovcnt, deadline d = {});
  std::size_t writev(const iovec* iov, int iovcnt, deadline d = {});
  // recv(2)/send(2) with MSG_* flags (MSG_NOSIGNAL is always added to send).
  std::size_t recv(void* buf, std::size_t n, int flags, deadline d = {});
  std::size_t send(const void* buf, std::size_t n, int flags, deadline d = {});
  // Datagrams: send one to `to`; receive one and learn its sender.
  std::size_t send_to(const void* buf, std::size_t n, const address& to, deadline d = {});
  std::size_t recv_from(void* buf, std::size_t n, address& from, deadline d = {});

  // ---- control ----
  // shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR.
  void shutdown(int how = SHUT_WR);
  // Makes every call now waiting on this socket (in any thread) fail with
  // ECANCELED; later calls wait normally. Returns once the kernel let go of them.
  void cancel();
  // Ends waiting calls of other threads (weft::error(closed)), waits until
  // they left, closes the descriptor. Later calls throw weft::error(closed).
  // Idempotent; throws nothing (a failing close(2) is ignored, as after it
  // the descriptor is gone either way).
  void close();
  bool is_open() const noexcept;
  // The descriptor, or -1 when closed or empty.
  int fd() const noexcept;

  // The bound address (getsockname); throws std::system_error.
  address local_address() const;
  // The connected peer (getpeername); throws std::system_error (ENOTCONN).
  address peer_address() const;
  // setsockopt(2) with an int value; throws std::system_error.
  void set_option(int level, int name, int value);
  // setsockopt(2) with any value; throws std::system_error.
  void set_option(int level, int name, const void* value, socklen_t len);
  // TCP_NODELAY on (or off).
  void set_nodelay(bool on = true) { set_option(6 /* IPPROTO_TCP */, 1 /* TCP_NODELAY */, on ? 1 : 0); }

 private:
  explicit socket(detail::io::io_handle* h) noexcept : h_(h) {}
  detail::io::io_handle& handle(const char* what) const;
  detail::io::io_handle* h_ = nullptr;
};

}  // namespace weft::io
