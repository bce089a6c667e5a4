// echo_uring: a single-threaded io_uring echo server written by hand with
// liburing -- the floor under weft's io_uring engine (no green threads, no
// scheduler), and the bench for the io_uring features weft could adopt.
//
//   echo_uring --port P [--recv single|multishot]
//
//   single     one recv per message, armed with IORING_RECVSEND_POLL_FIRST
//              into the connection's own 4 KiB buffer, then one send: what
//              weft's engine issues for a blocking-style read/write loop.
//   multishot  one multishot recv per connection into a provided buffer
//              ring (1024 x 4 KiB, kernel 6.0), echoed from that buffer and
//              recycled once sent; accept is multishot too. Saves the SQE,
//              the poll arming and its allocation per message.
//
// Prints "listening on 127.0.0.1:P" once it accepts; exits 0 on SIGINT or
// SIGTERM (read from a signalfd through the ring). The ring is set up with
// SINGLE_ISSUER | DEFER_TASKRUN where the kernel offers them, as weft's is.
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_set>

#include "listen.hpp"

namespace {

constexpr unsigned buf_count = 1024;  // provided buffers (a power of two)
constexpr unsigned buf_size = 4096;
constexpr int buf_group = 0;

enum : std::uint64_t { op_recv = 1, op_send = 2, op_accept = 3, op_signal = 4, op_mask = 7 };

struct conn {
  int fd = -1;
  int inflight = 0;      // SQEs whose last CQE has not come
  bool closing = false;  // shut down: free once inflight is 0
  bool recv_armed = false;
  bool eof = false;      // the peer finished sending: close once all is echoed
  // single: the message buffer. multishot: buffers waiting to be sent, in
  // order (a send in flight is the front), with how much of the front went.
  char buf[buf_size];
  unsigned buf_len = 0, buf_sent = 0;  // single: the message, and how much went
  std::deque<std::pair<std::uint16_t, unsigned>> to_send;
  unsigned front_sent = 0;
};

struct server {
  io_uring ring{};
  bool multishot = false;
  int listen_fd = -1;
  int signal_fd = -1;
  signalfd_siginfo si{};
  io_uring_buf_ring* br = nullptr;
  char* bufs = nullptr;
  std::unordered_set<conn*> conns;
  std::deque<conn*> starved;  // multishot recvs stopped for want of a buffer
  bool stop = false;

  io_uring_sqe* sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    while (!s) {
      io_uring_submit(&ring);
      s = io_uring_get_sqe(&ring);
    }
    return s;
  }
  static std::uint64_t tag(conn* c, std::uint64_t op) { return reinterpret_cast<std::uint64_t>(c) | op; }

  char* buffer(std::uint16_t bid) { return bufs + static_cast<std::size_t>(bid) * buf_size; }
  // Gives a buffer back, and restarts a recv that had stopped for want of one.
  void recycle(std::uint16_t bid) {
    io_uring_buf_ring_add(br, buffer(bid), buf_size, bid, io_uring_buf_ring_mask(buf_count), 0);
    io_uring_buf_ring_advance(br, 1);
    while (!starved.empty()) {
      conn* c = starved.front();
      starved.pop_front();
      if (!c->closing && !c->recv_armed && !c->eof) {
        arm_recv(c);
        break;
      }
    }
  }

  void arm_accept() {
    io_uring_sqe* s = sqe();
    if (multishot) io_uring_prep_multishot_accept(s, listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    else io_uring_prep_accept(s, listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    s->user_data = op_accept;
  }
  void arm_signal() {
    io_uring_sqe* s = sqe();
    io_uring_prep_read(s, signal_fd, &si, sizeof si, 0);
    s->user_data = op_signal;
  }
  void arm_recv(conn* c) {
    io_uring_sqe* s = sqe();
    if (multishot) {
      io_uring_prep_recv_multishot(s, c->fd, nullptr, 0, 0);
      s->flags |= IOSQE_BUFFER_SELECT;
      s->buf_group = buf_group;
    } else {
      io_uring_prep_recv(s, c->fd, c->buf, buf_size, 0);
      s->ioprio |= IORING_RECVSEND_POLL_FIRST;
    }
    s->user_data = tag(c, op_recv);
    c->recv_armed = true;
    ++c->inflight;
  }
  void send(conn* c, const char* p, unsigned n) {
    io_uring_sqe* s = sqe();
    io_uring_prep_send(s, c->fd, p, n, MSG_NOSIGNAL);
    s->user_data = tag(c, op_send);
    ++c->inflight;
  }
  void send_front(conn* c) {
    auto [bid, len] = c->to_send.front();
    send(c, buffer(bid) + c->front_sent, len - c->front_sent);
  }
  // Ends a connection: the shutdown makes its pending recv complete; the
  // memory goes once no SQE can name it.
  void close_conn(conn* c) {
    if (!c->closing) {
      c->closing = true;
      ::shutdown(c->fd, SHUT_RDWR);
    }
    if (c->inflight == 0) {
      for (auto& [bid, len] : c->to_send) recycle(bid);
      std::erase(starved, c);
      ::close(c->fd);
      conns.erase(c);
      delete c;
    }
  }

  void on_accept(int res, bool more) {
    if (res >= 0) {
      int one = 1;
      ::setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto* c = new conn;
      c->fd = res;
      conns.insert(c);
      arm_recv(c);
    }
    // EMFILE and friends: the connection stays queued; try again.
    if (!more) arm_accept();
  }

  void on_recv(conn* c, int res, std::uint32_t flags) {
    bool more = flags & IORING_CQE_F_MORE;
    if (!more) {
      --c->inflight;
      c->recv_armed = false;
    }
    if (c->closing && (flags & IORING_CQE_F_BUFFER)) recycle(static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT));
    if (c->closing) {
      close_conn(c);
      return;
    }
    if (res == -ENOBUFS) {
      // Every provided buffer waits to be sent; the data stays in the
      // socket, and the next buffer given back restarts this recv.
      starved.push_back(c);
      return;
    }
    if (res == 0) {
      // The peer shut its side: echo what is still queued, then close.
      c->eof = true;
      if (c->to_send.empty()) close_conn(c);
      return;
    }
    if (res < 0) {
      close_conn(c);
      return;
    }
    if (!multishot) {
      c->buf_len = static_cast<unsigned>(res);
      c->buf_sent = 0;
      send(c, c->buf, c->buf_len);
      return;
    }
    auto bid = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    c->to_send.emplace_back(bid, static_cast<unsigned>(res));
    if (c->to_send.size() == 1) send_front(c);  // else it waits its turn: sends stay in order
    if (!more) arm_recv(c);
  }

  void on_send(conn* c, int res) {
    --c->inflight;
    if (res < 0 || c->closing) {
      close_conn(c);
      return;
    }
    if (!multishot) {
      c->buf_sent += static_cast<unsigned>(res);
      if (c->buf_sent < c->buf_len) send(c, c->buf + c->buf_sent, c->buf_len - c->buf_sent);
      else arm_recv(c);
      return;
    }
    c->front_sent += static_cast<unsigned>(res);
    if (c->front_sent < c->to_send.front().second) {
      send_front(c);
      return;
    }
    std::uint16_t bid = c->to_send.front().first;
    c->to_send.pop_front();
    c->front_sent = 0;
    if (!c->to_send.empty()) send_front(c);
    else if (c->eof) close_conn(c);
    recycle(bid);  // after: c may be gone, recycle() may restart a starved recv
  }

  void run() {
    arm_accept();
    arm_signal();
    while (!stop) {
      io_uring_submit_and_wait(&ring, 1);
      unsigned head, n = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(&ring, head, cqe) {
        ++n;
        std::uint64_t ud = cqe->user_data;
        auto* c = reinterpret_cast<conn*>(ud & ~op_mask);
        switch (ud & op_mask) {
          case op_accept: on_accept(cqe->res, cqe->flags & IORING_CQE_F_MORE); break;
          case op_signal: stop = true; break;
          case op_recv: on_recv(c, cqe->res, cqe->flags); break;
          case op_send: on_send(c, cqe->res); break;
        }
      }
      io_uring_cq_advance(&ring, n);
    }
    for (conn* c : conns) {
      ::close(c->fd);
      delete c;
    }
    ::close(listen_fd);
    io_uring_queue_exit(&ring);
  }
};

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: echo_uring --port P [--recv single|multishot]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int port = -1;
  server s;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--port") port = std::atoi(v.c_str());
    else if (a == "--recv" && (v == "single" || v == "multishot")) s.multishot = v == "multishot";
    else usage();
  }
  if (port < 0 || port > 65535 || argc % 2 == 0) usage();

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigprocmask(SIG_BLOCK, &sigs, nullptr);
  s.signal_fd = ::signalfd(-1, &sigs, SFD_CLOEXEC);

  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  p.cq_entries = 8192;
  if (io_uring_queue_init_params(256, &s.ring, &p) < 0) {
    p = {};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = 8192;
    if (int r = io_uring_queue_init_params(256, &s.ring, &p); r < 0) {
      std::fprintf(stderr, "echo_uring: io_uring_queue_init: %s\n", std::strerror(-r));
      return 1;
    }
  }
  if (s.multishot) {
    std::size_t ring_bytes = buf_count * sizeof(io_uring_buf);
    void* mem = ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    s.bufs = static_cast<char*>(std::aligned_alloc(4096, std::size_t{buf_count} * buf_size));
    if (mem == MAP_FAILED || !s.bufs) {
      std::fprintf(stderr, "echo_uring: out of memory\n");
      return 1;
    }
    s.br = static_cast<io_uring_buf_ring*>(mem);
    io_uring_buf_ring_init(s.br);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(mem);
    reg.ring_entries = buf_count;
    reg.bgid = buf_group;
    if (int r = io_uring_register_buf_ring(&s.ring, &reg, 0); r < 0) {
      std::fprintf(stderr, "echo_uring: provided buffer ring: %s (kernel older than 5.19?)\n", std::strerror(-r));
      return 1;
    }
    for (unsigned i = 0; i < buf_count; ++i)
      io_uring_buf_ring_add(s.br, s.buffer(static_cast<std::uint16_t>(i)), buf_size, static_cast<std::uint16_t>(i),
                            io_uring_buf_ring_mask(buf_count), static_cast<int>(i));
    io_uring_buf_ring_advance(s.br, static_cast<int>(buf_count));
  }
  s.listen_fd = weft_echo::listen_and_announce("echo_uring", port, 0);
  s.run();
  std::free(s.bufs);
  return 0;
}
