// Socket addresses: IPv4, IPv6 and Unix-domain, parsed from text or
// resolved by name (getaddrinfo, run on the offload pool).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include "deadline.hpp"

namespace weft::io {

class address {
 public:
  // An empty address (family AF_UNSPEC).
  address() noexcept;
  // Copies a raw sockaddr; throws weft::error(invalid_argument) if len is too big.
  address(const sockaddr* sa, socklen_t len);

  // Parses "1.2.3.4:80", "[::1]:80" or "unix:/path" (numeric only, no DNS);
  // throws weft::error(invalid_argument) naming the bad text.
  static address parse(std::string_view text);
  // An IP address from its numeric text and a port; throws weft::error(invalid_argument).
  static address ip(std::string_view numeric_host, std::uint16_t port);
  // 127.0.0.1:port.
  static address loopback(std::uint16_t port) noexcept;
  // 0.0.0.0:port (every IPv4 interface).
  static address any(std::uint16_t port) noexcept;
  // A Unix-domain socket path; a leading '@' names an abstract socket.
  // Throws weft::error(invalid_argument) if the path does not fit sun_path.
  static address unix_path(std::string_view path);

  int family() const noexcept { return storage_.ss_family; }
  // The port of an IP address; 0 otherwise.
  std::uint16_t port() const noexcept;
  // "1.2.3.4:80", "[::1]:80", "unix:/path", or "(none)".
  std::string to_string() const;

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return len_; }
  // For calls that fill the address in (accept, recvfrom): capacity in, length out.
  socklen_t* size_ptr() noexcept { return &len_; }
  static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }

  friend bool operator==(const address& a, const address& b) noexcept;

 private:
  sockaddr_storage storage_;
  socklen_t len_;
};

// Resolves host and service ("example.org", "443" or "https") to addresses
// with getaddrinfo on the offload pool, so the green thread waits, not its
// worker. Throws std::system_error (EAI_* in weft::io::resolver_category())
// when the name does not resolve.
std::vector<address> resolve(const std::string& host, const std::string& service, int family = AF_UNSPEC);

// The error category of getaddrinfo's EAI_* codes.
const std::error_category& resolver_category() noexcept;

}  // namespace weft::io
