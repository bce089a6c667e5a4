// Socket addresses and name resolution.
#include "weft/io/address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

#include "weft/error.hpp"
#include "weft/io/blocking.hpp"

namespace weft::io {
namespace {

[[noreturn]] void bad(std::string_view text, const char* why) {
  throw error(errc::invalid_argument, "weft::io::address: '" + std::string(text) + "': " + why);
}

class resolver_category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int ev) const override { return ::gai_strerror(ev); }
};

}  // namespace

address::address() noexcept : storage_{}, len_(0) { storage_.ss_family = AF_UNSPEC; }

address::address(const sockaddr* sa, socklen_t len) : storage_{}, len_(len) {
  if (len > sizeof storage_)
    throw error(errc::invalid_argument, "weft::io::address: sockaddr length " + std::to_string(len) + " is too big");
  std::memcpy(&storage_, sa, len);
}

address address::ip(std::string_view host, std::uint16_t port) {
  address a;
  std::string h(host);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  if (::inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.len_ = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.len_ = sizeof(sockaddr_in6);
  } else {
    bad(host, "not a numeric IPv4 or IPv6 address");
  }
  return a;
}

address address::parse(std::string_view text) {
  if (text.substr(0, 5) == "unix:") return unix_path(text.substr(5));
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      bad(text, "expected [ipv6]:port");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) bad(text, "expected host:port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) bad(text, "an IPv6 address needs brackets: [addr]:port");
  }
  if (port.empty() || port.size() > 5) bad(text, "port must be 0..65535");
  unsigned p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') bad(text, "port must be 0..65535");
    p = p * 10 + static_cast<unsigned>(c - '0');
  }
  if (p > 65535) bad(text, "port must be 0..65535");
  return ip(host, static_cast<std::uint16_t>(p));
}

address address::loopback(std::uint16_t port) noexcept {
  address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  v4->sin_family = AF_INET;
  v4->sin_port = htons(port);
  v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.len_ = sizeof(sockaddr_in);
  return a;
}

address address::any(std::uint16_t port) noexcept {
  address a = loopback(port);
  reinterpret_cast<sockaddr_in*>(&a.storage_)->sin_addr.s_addr = htonl(INADDR_ANY);
  return a;
}

address address::unix_path(std::string_view path) {
  address a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
  if (path.empty()) bad(path, "empty Unix socket path");
  if (path.size() >= sizeof un->sun_path) bad(path, "Unix socket path longer than 107 bytes");
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  if (path.front() == '@') {
    un->sun_path[0] = '\0';  // abstract namespace: no terminator, length counts
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  } else {
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  }
  return a;
}

std::uint16_t address::port() const noexcept {
  if (storage_.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (storage_.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

std::string address::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (storage_.ss_family) {
    case AF_INET:
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
      return std::string(buf) + ":" + std::to_string(port());
    case AF_INET6:
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof buf);
      return "[" + std::string(buf) + "]:" + std::to_string(port());
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
      std::size_t n = len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
      if (n == 0) return "unix:(unnamed)";
      if (un->sun_path[0] == '\0') return "unix:@" + std::string(un->sun_path + 1, n - 1);
      return "unix:" + std::string(un->sun_path, strnlen(un->sun_path, n));
    }
    default:
      return "(none)";
  }
}

bool operator==(const address& a, const address& b) noexcept {
  return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

const std::error_category& resolver_category() noexcept {
  static const resolver_category_impl c;
  return c;
}

std::vector<address> resolve(const std::string& host, const std::string& service, int family) {
  if (host.empty()) throw error(errc::invalid_argument, "weft::io::resolve: empty host name");
  return weft::blocking([&] {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    if (rc != 0) {
      if (rc == EAI_SYSTEM) throw std::system_error(errno, std::system_category(), "weft::io::resolve " + host);
      throw std::system_error(rc, resolver_category(), "weft::io::resolve " + host + ":" + service);
    }
    std::vector<address> out;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) out.emplace_back(ai->ai_addr, ai->ai_addrlen);
    ::freeaddrinfo(res);
    return out;
  });
}

}  // namespace weft::io
