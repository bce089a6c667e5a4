// Sockets on top of handles: argument checks, request building and the
// error model of socket.hpp.
#include "weft/io/socket.hpp"

#include <cerrno>
#include <climits>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/handle.hpp"
#include "weft/error.hpp"

namespace weft::io {

using detail::io::io_handle;
using detail::io::io_request;
using detail::io::opcode;

namespace {

std::string where(const char* what, int fd) { return std::string("weft::io::socket::") + what + " (fd " + std::to_string(fd) + ")"; }

// Turns a negative result into the exception socket.hpp promises.
[[noreturn]] void fail(const char* what, int fd, std::int64_t res) {
  int e = static_cast<int>(-res);
  if (e == EBADF) throw error(errc::closed, where(what, fd) + ": the socket is closed");
  if (e == ETIMEDOUT) throw error(errc::timed_out, where(what, fd) + ": deadline passed");
  throw std::system_error(e, std::system_category(), where(what, fd));
}

std::size_t check(const char* what, int fd, std::int64_t res) {
  if (res < 0) fail(what, fd, res);
  return static_cast<std::size_t>(res);
}

[[noreturn]] void raise_errno(const char* what, int fd) { throw std::system_error(errno, std::system_category(), where(what, fd)); }

int new_socket(int family, int type, const char* what) {
  int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) raise_errno(what, -1);
  return fd;
}

// Closes fd on scope exit unless released: for sockets still being set up.
struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

// readv/writev: a socket goes through recvmsg/sendmsg, anything else
// (a pipe adopted as a stream) through readv/writev.
std::size_t vector_io(io_handle& h, const char* what, const iovec* iov, int iovcnt, deadline d, opcode msg_op,
                      opcode vec_op) {
  if (iovcnt < 0 || iovcnt > IOV_MAX)
    throw error(errc::invalid_argument, std::string("weft::io::socket::") + what + ": iovcnt must be 0..IOV_MAX");
  io_request r;
  msghdr m{};
  if (h.is_socket) {
    m.msg_iov = const_cast<iovec*>(iov);
    m.msg_iovlen = static_cast<std::size_t>(iovcnt);
    r.op = msg_op;
    r.msg = &m;
  } else {
    r.op = vec_op;
    r.iov = iov;
    r.iovcnt = iovcnt;
  }
  return check(what, h.fd, detail::io::handle_op(h, r, d.steady_ns()));
}

}  // namespace

socket::~socket() {
  if (h_) detail::io::handle_destroy(h_);
}

socket& socket::operator=(socket&& o) noexcept {
  if (this != &o) {
    if (h_) detail::io::handle_destroy(h_);
    h_ = std::exchange(o.h_, nullptr);
  }
  return *this;
}

io_handle& socket::handle(const char* what) const {
  if (!h_) throw error(errc::closed, std::string("weft::io::socket::") + what + ": the socket is empty (default-constructed or moved from)");
  return *h_;
}

socket socket::listen(const address& at, const listen_options& opts) {
  if (opts.backlog < 1) throw error(errc::invalid_argument, "weft::io::socket::listen: backlog must be at least 1");
  fd_guard g{new_socket(at.family(), SOCK_STREAM, "listen")};
  int one = 1;
  if (opts.reuse_address && at.family() != AF_UNIX && ::setsockopt(g.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    raise_errno("listen: SO_REUSEADDR", g.fd);
  if (opts.reuse_port && ::setsockopt(g.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    raise_errno("listen: SO_REUSEPORT", g.fd);
  if (::bind(g.fd, at.data(), at.size()) != 0)
    throw std::system_error(errno, std::system_category(), "weft::io::socket::listen: bind " + at.to_string());
  if (::listen(g.fd, opts.backlog) != 0) raise_errno("listen", g.fd);
  return socket(detail::io::handle_create(g.release(), true, true, true));
}

socket socket::connect(const address& to, deadline d) {
  socket s(detail::io::handle_create(new_socket(to.family(), SOCK_STREAM, "connect"), true, true, true));
  io_request r;
  r.op = opcode::connect;
  r.addr = to.data();
  r.addrlen = to.size();
  std::int64_t res = detail::io::handle_op(*s.h_, r, d.steady_ns());
  if (res < 0) {
    int e = static_cast<int>(-res);
    if (e == ETIMEDOUT) throw error(errc::timed_out, "weft::io::socket::connect " + to.to_string() + ": deadline passed");
    throw std::system_error(e, std::system_category(), "weft::io::socket::connect " + to.to_string());
  }
  return s;
}

socket socket::bind_datagram(const address& at) {
  fd_guard g{new_socket(at.family(), SOCK_DGRAM, "bind_datagram")};
  if (::bind(g.fd, at.data(), at.size()) != 0)
    throw std::system_error(errno, std::system_category(), "weft::io::socket::bind_datagram: bind " + at.to_string());
  return socket(detail::io::handle_create(g.release(), true, true, true));
}

socket socket::datagram(int family) {
  if (family != AF_INET && family != AF_INET6 && family != AF_UNIX)
    throw error(errc::invalid_argument, "weft::io::socket::datagram: family must be AF_INET, AF_INET6 or AF_UNIX");
  return socket(detail::io::handle_create(new_socket(family, SOCK_DGRAM, "datagram"), true, true, true));
}

std::pair<socket, socket> socket::pair(int type) {
  if (type != SOCK_STREAM && type != SOCK_DGRAM && type != SOCK_SEQPACKET)
    throw error(errc::invalid_argument, "weft::io::socket::pair: type must be SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET");
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) raise_errno("pair", -1);
  socket a(detail::io::handle_create(fds[0], true, true, true));
  socket b(detail::io::handle_create(fds[1], true, true, true));
  return {std::move(a), std::move(b)};
}

socket socket::adopt(int fd) {
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0)
    throw error(errc::invalid_argument, "weft::io::socket::adopt: " + std::to_string(fd) + " is not an open descriptor");
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode))
    throw error(errc::invalid_argument,
                "weft::io::socket::adopt: fd " + std::to_string(fd) + " is a file or directory (use weft::io::file)");
  return socket(detail::io::handle_create(fd, S_ISSOCK(st.st_mode), true));
}

socket socket::accept(deadline d) {
  io_handle& h = handle("accept");
  io_request r;
  r.op = opcode::accept;
  r.flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  int fd = static_cast<int>(check("accept", h.fd, detail::io::handle_op(h, r, d.steady_ns())));
  return socket(detail::io::handle_create(fd, true, true, true));
}

socket socket::accept(address& peer, deadline d) {
  io_handle& h = handle("accept");
  io_request r;
  r.op = opcode::accept;
  r.flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  r.addr_out = reinterpret_cast<sockaddr*>(&ss);
  r.addrlen_out = &len;
  int fd = static_cast<int>(check("accept", h.fd, detail::io::handle_op(h, r, d.steady_ns())));
  socket s(detail::io::handle_create(fd, true, true, true));
  peer = address(reinterpret_cast<sockaddr*>(&ss), len);
  return s;
}

std::size_t socket::read(void* buf, std::size_t n, deadline d) {
  io_handle& h = handle("read");
  if (n == 0) return 0;
  io_request r;
  r.op = h.is_socket ? opcode::recv : opcode::read;
  r.buf = buf;
  r.len = n;
  r.expect_wait = !h.more_queued.load(std::memory_order_relaxed);
  std::size_t got = check("read", h.fd, detail::io::handle_op(h, r, d.steady_ns()));
  h.more_queued.store(r.more_queued, std::memory_order_relaxed);
  return got;
}

std::size_t socket::write(const void* buf, std::size_t n, deadline d) {
  io_handle& h = handle("write");
  if (n == 0) return 0;
  io_request r;
  r.op = h.is_socket ? opcode::send : opcode::write;
  r.buf = const_cast<void*>(buf);
  r.len = n;
  return check("write", h.fd, detail::io::handle_op(h, r, d.steady_ns()));
}

std::size_t socket::read_exact(void* buf, std::size_t n, deadline d) {
  auto* p = static_cast<char*>(buf);
  std::size_t got = 0;
  while (got < n) {
    std::size_t k = read(p + got, n - got, d);
    if (k == 0) break;
    got += k;
  }
  return got;
}

void socket::write_all(const void* buf, std::size_t n, deadline d) {
  const auto* p = static_cast<const char*>(buf);
  std::size_t done = 0;
  while (done < n) done += write(p + done, n - done, d);
}

std::size_t socket::readv(const iovec* iov, int iovcnt, deadline d) {
  return vector_io(handle("readv"), "readv", iov, iovcnt, d, opcode::recvmsg, opcode::readv);
}

std::size_t socket::writev(const iovec* iov, int iovcnt, deadline d) {
  // sendmsg rather than writev on sockets: only it takes MSG_NOSIGNAL.
  return vector_io(handle("writev"), "writev", iov, iovcnt, d, opcode::sendmsg, opcode::writev);
}

std::size_t socket::recv(void* buf, std::size_t n, int flags, deadline d) {
  io_handle& h = handle("recv");
  io_request r;
  r.op = opcode::recv;
  r.buf = buf;
  r.len = n;
  r.flags = flags;
  return check("recv", h.fd, detail::io::handle_op(h, r, d.steady_ns()));
}

std::size_t socket::send(const void* buf, std::size_t n, int flags, deadline d) {
  io_handle& h = handle("send");
  io_request r;
  r.op = opcode::send;
  r.buf = const_cast<void*>(buf);
  r.len = n;
  r.flags = flags;
  return check("send", h.fd, detail::io::handle_op(h, r, d.steady_ns()));
}

std::size_t socket::send_to(const void* buf, std::size_t n, const address& to, deadline d) {
  io_handle& h = handle("send_to");
  iovec v{const_cast<void*>(buf), n};
  msghdr m{};
  m.msg_name = const_cast<sockaddr*>(to.data());
  m.msg_namelen = to.size();
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  io_request r;
  r.op = opcode::sendmsg;
  r.msg = &m;
  return check("send_to", h.fd, detail::io::handle_op(h, r, d.steady_ns()));
}

std::size_t socket::recv_from(void* buf, std::size_t n, address& from, deadline d) {
  io_handle& h = handle("recv_from");
  iovec v{buf, n};
  sockaddr_storage ss;
  msghdr m{};
  m.msg_name = &ss;
  m.msg_namelen = sizeof ss;
  m.msg_iov = &v;
  m.msg_iovlen = 1;
  io_request r;
  r.op = opcode::recvmsg;
  r.msg = &m;
  std::size_t got = check("recv_from", h.fd, detail::io::handle_op(h, r, d.steady_ns()));
  from = address(reinterpret_cast<sockaddr*>(&ss), m.msg_namelen);
  return got;
}

void socket::shutdown(int how) {
  io_handle& h = handle("shutdown");
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
    throw error(errc::invalid_argument, "weft::io::socket::shutdown: how must be SHUT_RD, SHUT_WR or SHUT_RDWR");
  if (detail::io::handle_closed(h)) fail("shutdown", -1, -EBADF);
  if (::shutdown(h.fd, how) != 0) raise_errno("shutdown", h.fd);
}

void socket::cancel() {
  if (h_) detail::io::handle_cancel(*h_);
}

void socket::close() {
  if (h_) detail::io::handle_close(*h_);
}

bool socket::is_open() const noexcept { return h_ && !detail::io::handle_closed(*h_); }

int socket::fd() const noexcept { return is_open() ? h_->fd : -1; }

address socket::local_address() const {
  io_handle& h = handle("local_address");
  address a;
  *a.size_ptr() = address::capacity();
  if (::getsockname(h.fd, a.data(), a.size_ptr()) != 0) raise_errno("local_address", h.fd);
  return a;
}

address socket::peer_address() const {
  io_handle& h = handle("peer_address");
  address a;
  *a.size_ptr() = address::capacity();
  if (::getpeername(h.fd, a.data(), a.size_ptr()) != 0) raise_errno("peer_address", h.fd);
  return a;
}

void socket::set_option(int level, int name, int value) { set_option(level, name, &value, sizeof value); }

void socket::set_option(int level, int name, const void* value, socklen_t len) {
  io_handle& h = handle("set_option");
  if (detail::io::handle_closed(h)) fail("set_option", -1, -EBADF);
  if (::setsockopt(h.fd, level, name, value, len) != 0) raise_errno("set_option", h.fd);
}

}  // namespace weft::io
