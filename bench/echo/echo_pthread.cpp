// echo_pthread: the thread-per-connection echo server -- what the weft echo
// server looks like written with kernel threads.
//
//   echo_pthread --port P
//
// Prints "listening on 127.0.0.1:P" once it accepts; exits 0 on SIGINT or
// SIGTERM: the main thread polls the listener and a signalfd, and at a
// signal shuts every connection down, which ends its thread's read().
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "listen.hpp"

namespace {

std::mutex g_mu;
std::vector<int> g_live;
int g_running = 0;
std::condition_variable g_done;

void serve(int fd) {
  char buf[16 * 1024];
  for (;;) {
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0) break;
    ssize_t off = 0;
    while (off < r) {
      ssize_t w = ::send(fd, buf + off, static_cast<std::size_t>(r - off), MSG_NOSIGNAL);
      if (w <= 0) goto out;
      off += w;
    }
  }
out:
  std::lock_guard lk(g_mu);
  g_live.erase(std::find(g_live.begin(), g_live.end(), fd));
  ::close(fd);
  if (--g_running == 0) g_done.notify_all();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--port") != 0) {
    std::fprintf(stderr, "usage: echo_pthread --port P\n");
    return 2;
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // before any thread: all inherit it
  int sfd = ::signalfd(-1, &sigs, SFD_CLOEXEC);
  int lfd = weft_echo::listen_and_announce("echo_pthread", std::atoi(argv[2]), 0);
  int one = 1;

  for (;;) {
    pollfd p[2] = {{lfd, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) continue;
    if (p[1].revents) break;
    int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lk(g_mu);
    try {
      std::thread(serve, c).detach();
    } catch (const std::system_error&) {
      ::close(c);  // out of threads: refuse this connection, keep serving the others
      continue;
    }
    g_live.push_back(c);
    ++g_running;
  }
  std::unique_lock lk(g_mu);
  for (int fd : g_live) ::shutdown(fd, SHUT_RDWR);
  g_done.wait(lk, [] { return g_running == 0; });
  ::close(lfd);
  return 0;
}
