// ENOBUFS, on both engines. Where Linux reports it on demand: a netlink
// socket whose receive buffer overflowed with kernel replies -- the kernel
// drops what does not fit and flags the socket, and the next receive fails
// with ENOBUFS once. weft hands that to the caller as std::system_error
// naming the call and the descriptor, and the socket stays usable: the
// replies that did fit are still read. (UDP on loopback never says
// ENOBUFS: a full send buffer means EAGAIN, which weft waits out, and a
// full receive buffer drops datagrams silently -- the second test.)
#include <gtest/gtest.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "io_test_support.hpp"

using namespace std::chrono_literals;
using weft_io_test::IoEngine;
namespace io = weft::io;

namespace {

class IoEnobufs : public IoEngine {};
WEFT_IO_ENGINES(IoEnobufs);

// A NETLINK_ROUTE socket with the smallest receive buffer the kernel allows.
io::socket tiny_netlink_socket() {
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "socket(AF_NETLINK)");
  io::socket s = io::socket::adopt(fd);
  s.set_option(SOL_SOCKET, SO_RCVBUF, 1);  // the kernel rounds it up to its minimum
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    throw std::system_error(errno, std::system_category(), "bind(AF_NETLINK)");
  return s;
}

// Asks for the loopback interface's link record; no privilege needed.
void request_lo(io::socket& s, std::uint32_t seq) {
  struct {
    nlmsghdr h;
    ifinfomsg i;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = seq;
  req.i.ifi_family = AF_UNSPEC;
  req.i.ifi_index = static_cast<int>(::if_nametoindex("lo"));
  EXPECT_EQ(s.send(&req, sizeof req, 0, weft_test::absurdly_late), sizeof req);
}

TEST_P(IoEnobufs, OverflowedNetlinkSocketReportsEnobufsAndStaysUsable) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    io::socket s = tiny_netlink_socket();
    // Each reply is ~1.5 KiB; the buffer holds a few: the rest overflow.
    for (std::uint32_t i = 1; i <= 64; ++i) request_lo(s, i);
    std::vector<char> buf(64 * 1024);
    try {
      s.recv(buf.data(), buf.size(), 0, weft_test::absurdly_late);
      ADD_FAILURE() << "no ENOBUFS after 64 unread replies";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::no_buffer_space) << e.what();
      EXPECT_NE(std::string(e.what()).find("recv (fd "), std::string::npos) << e.what();
    }
    // What fit is still there, and the socket works for new requests.
    std::size_t n = s.recv(buf.data(), buf.size(), 0, weft_test::absurdly_late);
    ASSERT_GE(n, sizeof(nlmsghdr));
    nlmsghdr h;
    std::memcpy(&h, buf.data(), sizeof h);
    EXPECT_EQ(h.nlmsg_type, RTM_NEWLINK);
    while (true) {
      try {
        s.recv(buf.data(), buf.size(), 0, std::chrono::steady_clock::now());  // drain, one try each
      } catch (const weft::error& e) {
        EXPECT_EQ(e.code(), weft::errc::timed_out) << e.what();
        break;
      }
    }
    request_lo(s, 1000);
    n = s.recv(buf.data(), buf.size(), 0, weft_test::absurdly_late);
    ASSERT_GE(n, sizeof(nlmsghdr));
    std::memcpy(&h, buf.data(), sizeof h);
    EXPECT_EQ(h.nlmsg_seq, 1000u);
  }).join();
}

TEST_P(IoEnobufs, UdpFloodWithTinyBuffersNeverFailsASend) {
  weft::runtime rt(opts(2));
  weft::spawn_in(rt, [] {
    io::socket rx = io::socket::bind_datagram(io::address::loopback(0));
    rx.set_option(SOL_SOCKET, SO_RCVBUF, 1);
    io::socket tx = io::socket::datagram(AF_INET);
    tx.set_option(SOL_SOCKET, SO_SNDBUF, 1);
    std::vector<char> payload(1400, 'u');
    for (int i = 0; i < 2000; ++i)
      ASSERT_EQ(tx.send_to(payload.data(), payload.size(), rx.local_address(), weft_test::absurdly_late),
                payload.size());
    // The receiver kept what fit; the rest the kernel dropped, as UDP may.
    char buf[2048];
    io::address from;
    EXPECT_EQ(rx.recv_from(buf, sizeof buf, from, weft_test::absurdly_late), payload.size());
  }).join();
}

}  // namespace
