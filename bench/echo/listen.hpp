// What every hand-written comparison server does first: listen on
// 127.0.0.1:port (0: any free port) and say where, in the line that
// server_process.hpp waits for.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace weft_echo {

// A listening socket (SO_REUSEADDR, backlog 4096, flags = SOCK_NONBLOCK or 0);
// prints "listening on 127.0.0.1:P". Exits with status 1, naming `who`, if it cannot.
inline int listen_and_announce(const char* who, int port, int flags) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4096) != 0) {
    std::fprintf(stderr, "%s: ", who);
    std::perror("bind/listen");
    std::exit(1);
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  std::printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  std::fflush(stdout);
  return fd;
}

}  // namespace weft_echo
