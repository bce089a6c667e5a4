// Sockets on both engines: echo over loopback with many connections, partial
// reads and writes, end of stream, peer resets, refused connections.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

#include "io_test_support.hpp"

using namespace std::chrono_literals;
using weft_io_test::IoEngine;
namespace io = weft::io;
using io::address;

namespace {

class IoSocket : public IoEngine {};
WEFT_IO_ENGINES(IoSocket);

TEST_P(IoSocket, ReportsItsEngine) {
  weft::runtime rt(opts(1));
  auto name = weft::spawn_in(rt, [] { return std::string(weft::io::engine_name()); }).join();
  EXPECT_EQ(name, GetParam() == weft::io_engine::io_uring ? "io_uring" : "epoll");
}

// weft relies on every socket it makes being non-blocking (it creates them
// with SOCK_NONBLOCK instead of an fcntl per connection) and close-on-exec.
TEST_P(IoSocket, EverySocketItMakesIsNonBlockingAndCloseOnExec) {
  auto flags_ok = [](const io::socket& s) {
    int fl = ::fcntl(s.fd(), F_GETFL), fd_fl = ::fcntl(s.fd(), F_GETFD);
    return fl >= 0 && (fl & O_NONBLOCK) && fd_fl >= 0 && (fd_fl & FD_CLOEXEC);
  };
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [&] {
    io::socket listener = io::socket::listen(address::loopback(0));
    EXPECT_TRUE(flags_ok(listener)) << "listen";
    auto conn = weft::spawn([&] { return io::socket::connect(address::loopback(listener.local_address().port())); });
    address peer;
    io::socket accepted = listener.accept(peer);
    io::socket connected = conn.join();
    EXPECT_TRUE(flags_ok(accepted)) << "accept(peer)";
    EXPECT_TRUE(flags_ok(connected)) << "connect";
    auto conn2 = weft::spawn([&] { return io::socket::connect(address::loopback(listener.local_address().port())); });
    io::socket accepted2 = listener.accept();
    EXPECT_TRUE(flags_ok(accepted2)) << "accept";
    conn2.join();
    auto [a, b] = io::socket::pair();
    EXPECT_TRUE(flags_ok(a) && flags_ok(b)) << "pair";
    EXPECT_TRUE(flags_ok(io::socket::datagram(AF_INET))) << "datagram";
    EXPECT_TRUE(flags_ok(io::socket::bind_datagram(address::loopback(0)))) << "bind_datagram";
    // adopt() of a blocking descriptor makes it non-blocking.
    int raw[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, raw), 0);
    io::socket adopted = io::socket::adopt(raw[0]);
    EXPECT_TRUE(flags_ok(adopted)) << "adopt";
    ::close(raw[1]);
  }).join();
}

TEST_P(IoSocket, EchoManyConnections) {
  constexpr int conns = 200;
  constexpr int rounds = 20;
  weft::runtime rt(opts(2));
  std::atomic<int> ok{0};
  weft::spawn_in(rt, [&] {
    weft_io_test::echo_server server;
    std::vector<weft::thread<void>> clients;
    for (int i = 0; i < conns; ++i)
      clients.push_back(weft::spawn([&, i] {
        io::socket c = io::socket::connect(server.address());
        char out[64], in[64];
        for (int r = 0; r < rounds; ++r) {
          std::memset(out, 'a' + (i + r) % 26, sizeof out);
          c.write_all(out, sizeof out);
          ASSERT_EQ(c.read_exact(in, sizeof in), sizeof in);
          ASSERT_EQ(std::memcmp(in, out, sizeof in), 0);
        }
        ok.fetch_add(1);
      }));
    for (auto& t : clients) t.join();
    server.stop();
  }).join();
  EXPECT_EQ(ok.load(), conns);
}

TEST_P(IoSocket, PartialReadsAndWrites) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    auto [a, b] = io::socket::pair();
    // A small send buffer forces partial writes of a big buffer.
    a.set_option(SOL_SOCKET, SO_SNDBUF, 4096);
    std::vector<unsigned char> data(1 << 20);
    std::iota(data.begin(), data.end(), 0);
    std::size_t first_write = 0;
    auto writer = weft::spawn([&a, &data, &first_write] {
      first_write = a.write(data.data(), data.size());
      a.write_all(data.data() + first_write, data.size() - first_write);
      a.shutdown(SHUT_WR);
    });
    std::vector<unsigned char> got;
    unsigned char buf[1000];
    std::size_t reads = 0;
    while (std::size_t n = b.read(buf, sizeof buf)) {
      got.insert(got.end(), buf, buf + n);
      ++reads;
    }
    writer.join();
    EXPECT_LT(first_write, data.size());  // the first write was partial
    EXPECT_GT(first_write, 0u);
    EXPECT_GE(reads, data.size() / sizeof buf);
    EXPECT_EQ(got, data);
  }).join();
}

TEST_P(IoSocket, ReadReturnsWhatIsThere) {
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [] {
    auto [a, b] = io::socket::pair();
    a.write_all("hello", 5);
    char buf[100];
    EXPECT_EQ(b.read(buf, sizeof buf), 5u);  // partial: 5 of 100
    a.write_all("wor", 3);
    auto later = weft::spawn([&a] {
      weft::this_thread::sleep_for(5ms);
      a.write_all("ld", 2);
    });
    EXPECT_EQ(b.read_exact(buf, 5), 5u);  // spans two writes
    EXPECT_EQ(std::string(buf, 5), "world");
    later.join();
  }).join();
}

TEST_P(IoSocket, EndOfStream) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    auto [a, b] = io::socket::pair();
    a.write_all("abc", 3);
    a.shutdown(SHUT_WR);
    char buf[10];
    EXPECT_EQ(b.read_exact(buf, sizeof buf), 3u);  // short only because the stream ended
    EXPECT_EQ(b.read(buf, sizeof buf), 0u);
    EXPECT_EQ(b.read(buf, sizeof buf), 0u);  // and stays ended
  }).join();
}

TEST_P(IoSocket, PeerResetIsEconnreset) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    io::socket l = io::socket::listen(address::loopback(0));
    io::socket c = io::socket::connect(l.local_address());
    io::socket s = l.accept();
    // Linger 0: close sends RST instead of FIN.
    linger lg{1, 0};
    s.set_option(SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    s.close();
    char buf[10];
    try {
      c.read(buf, sizeof buf);
      ADD_FAILURE() << "read after a reset returned";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_reset) << e.what();
    }
  }).join();
}

TEST_P(IoSocket, WriteToClosedPeerIsEpipeNotSigpipe) {
  // Default SIGPIPE disposition: a write without MSG_NOSIGNAL would kill the test.
  auto old = std::signal(SIGPIPE, SIG_DFL);
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    auto [a, b] = io::socket::pair();
    b.close();
    char buf[1024] = {};
    try {
      for (int i = 0; i < 100; ++i) a.write_all(buf, sizeof buf);
      ADD_FAILURE() << "writes to a closed peer kept succeeding";
    } catch (const std::system_error& e) {
      EXPECT_TRUE(e.code() == std::errc::broken_pipe || e.code() == std::errc::connection_reset) << e.what();
    }
  }).join();
  std::signal(SIGPIPE, old);
}

TEST_P(IoSocket, ConnectRefused) {
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [] {
    address free_port;
    {
      io::socket l = io::socket::listen(address::loopback(0));
      free_port = l.local_address();
    }  // closed: nobody listens there now
    try {
      io::socket::connect(free_port);
      ADD_FAILURE() << "connect to a closed port succeeded";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::connection_refused) << e.what();
    }
  }).join();
}

TEST_P(IoSocket, UdpSendToRecvFrom) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    io::socket srv = io::socket::bind_datagram(address::loopback(0));
    io::socket cli = io::socket::bind_datagram(address::loopback(0));
    auto echo = weft::spawn([&srv] {
      char buf[100];
      address from;
      std::size_t n = srv.recv_from(buf, sizeof buf, from);
      srv.send_to(buf, n, from);
    });
    cli.send_to("ping", 4, srv.local_address());
    char buf[100];
    address from;
    ASSERT_EQ(cli.recv_from(buf, sizeof buf, from), 4u);
    EXPECT_EQ(std::string(buf, 4), "ping");
    EXPECT_EQ(from, srv.local_address());
    echo.join();
  }).join();
}

TEST_P(IoSocket, UnixStreamSocket) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    auto at = address::unix_path("@weft-io-test-" + std::to_string(::getpid()));
    io::socket l = io::socket::listen(at);
    auto srv = weft::spawn([&l] {
      io::socket s = l.accept();
      char buf[16];
      std::size_t n = s.read(buf, sizeof buf);
      s.write_all(buf, n);
    });
    io::socket c = io::socket::connect(at);
    c.write_all("unix", 4);
    char buf[16];
    ASSERT_EQ(c.read_exact(buf, 4), 4u);
    EXPECT_EQ(std::string(buf, 4), "unix");
    srv.join();
  }).join();
}

TEST_P(IoSocket, ReadvWritev) {
  weft::runtime rt(opts(1));
  weft::spawn_in(rt, [] {
    auto [a, b] = io::socket::pair();
    char h[] = "head-", t[] = "tail";
    iovec out[2] = {{h, 5}, {t, 4}};
    EXPECT_EQ(a.writev(out, 2), 9u);
    char x[3], y[6];
    iovec in[2] = {{x, 3}, {y, 6}};
    EXPECT_EQ(b.readv(in, 2), 9u);
    EXPECT_EQ(std::string(x, 3) + std::string(y, 6), "head-tail");
  }).join();
}

TEST_P(IoSocket, ForeignThreadClientOfGreenServer) {
  weft::runtime rt(opts(2));
  std::uint16_t port = 0;
  weft::event ready, stop;
  auto server = weft::spawn_in(rt, [&] {
    weft_io_test::echo_server s;
    port = s.port();
    ready.set();
    stop.wait();
  });
  ready.wait();
  {
    // A plain std::thread: the same calls block the kernel thread.
    io::socket c = io::socket::connect(address::loopback(port));
    c.write_all("foreign", 7);
    char buf[7];
    EXPECT_EQ(c.read_exact(buf, 7, weft_test::absurdly_late), 7u);
    EXPECT_EQ(std::string(buf, 7), "foreign");
  }
  stop.set();
  server.join();
}

}  // namespace
