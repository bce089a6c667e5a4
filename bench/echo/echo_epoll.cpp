// echo_epoll: the comparison point a careful C programmer would write -- a
// single-threaded, non-blocking, level-triggered epoll echo server.
//
//   echo_epoll --port P
//
// Prints "listening on 127.0.0.1:P" once it accepts; exits 0 on SIGINT or
// SIGTERM (read from a signalfd in the same epoll set). Each readable
// connection is read once per wake-up (16 KiB) and echoed at once; bytes the
// socket does not take are kept and sent on EPOLLOUT.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

#include "listen.hpp"

namespace {

struct conn {
  std::string pending;  // bytes the kernel did not take yet
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--port") != 0) {
    std::fprintf(stderr, "usage: echo_epoll --port P\n");
    return 2;
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigprocmask(SIG_BLOCK, &sigs, nullptr);
  int sfd = ::signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
  int lfd = weft_echo::listen_and_announce("echo_epoll", std::atoi(argv[2]), SOCK_NONBLOCK);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  ev.data.fd = sfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);

  std::unordered_map<int, conn> conns;
  char buf[16 * 1024];
  epoll_event evs[256];
  auto drop = [&](int fd) {
    ::close(fd);  // also leaves the epoll set
    conns.erase(fd);
  };
  for (;;) {
    int n = ::epoll_wait(ep, evs, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      if (fd == sfd) {
        for (auto& [cfd, c] : conns) ::close(cfd);
        ::close(lfd);
        ::close(ep);
        return 0;
      }
      if (fd == lfd) {
        for (;;) {
          int c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;  // EAGAIN, or EMFILE: retried on the next wake-up
          int one = 1;
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          conns.emplace(c, conn{});
        }
        continue;
      }
      conn& c = conns[fd];
      if (evs[i].events & EPOLLOUT) {
        ssize_t w = ::send(fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) {
          drop(fd);
          continue;
        }
        if (w > 0) c.pending.erase(0, static_cast<std::size_t>(w));
        if (c.pending.empty()) {
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = fd;
          ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
        }
        continue;
      }
      ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        drop(fd);
        continue;
      }
      if (r < 0) continue;
      if (!c.pending.empty()) {
        c.pending.append(buf, static_cast<std::size_t>(r));  // keep order behind what waits
        continue;
      }
      ssize_t w = ::send(fd, buf, static_cast<std::size_t>(r), MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN) {
        drop(fd);
        continue;
      }
      if (w < 0) w = 0;
      if (w < r) {
        c.pending.assign(buf + w, static_cast<std::size_t>(r - w));
        epoll_event cev{};
        cev.events = EPOLLIN | EPOLLOUT;
        cev.data.fd = fd;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
      }
    }
  }
}
