// A zero-copy HTTP/1.x request parser: it parses a request head (the request
// line and the headers, through the blank line) that the caller has in one
// piece -- weft::io::buffered_reader::read_until("\r\n\r\n") gives exactly
// that -- and fills a `request` of string_views into it. No allocation.
//
// Why our own: Debian's libhttp-parser (nodejs/http-parser) is archived
// upstream and no longer maintained (its authors point to llhttp, which is
// generated C from a TypeScript description, a dependency we would have to
// vendor or find packaged on every platform weft builds on). What a server
// needs from a parser once the reader has found the end of the head is
// small enough to read in one sitting and to test on its own
// (tests/http_parser_test.cpp), and this one is strict where leniency
// breeds request smuggling: no obsolete line folding, no space before the
// colon, one Content-Length, not both Content-Length and Transfer-Encoding.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace http {

struct header {
  std::string_view name;
  std::string_view value;  // without surrounding spaces and tabs
};

enum class body_kind { none, length, chunked };

struct request {
  static constexpr std::size_t max_headers = 64;

  std::string_view method;  // as sent; methods are case-sensitive
  std::string_view target;  // the request-target, as sent (still percent-encoded)
  int minor_version = 1;    // HTTP/1.<minor_version>
  std::array<header, max_headers> headers{};
  std::size_t header_count = 0;

  // What the server needs, taken out of the headers while parsing.
  bool keep_alive = true;  // after the Connection header and the version
  body_kind body = body_kind::none;
  std::uint64_t content_length = 0;  // for body_kind::length
  std::string_view host;
  std::string_view if_modified_since;

  // The first header of that name (case-insensitive), if any.
  std::optional<std::string_view> find(std::string_view name) const;
};

// The outcome of a parse: 0 when the head is good, else the HTTP status to
// answer with (400, 414, 431, 501, 505) and why, for the response body.
struct parse_error {
  int status = 0;
  const char* reason = "";
  explicit operator bool() const { return status != 0; }
};

struct parse_limits {
  std::size_t max_target = 8192;  // longer request-targets get 414
};

// Parses `head` (the request line and the headers, ending in "\r\n\r\n")
// into `out`, whose views point into `head`.
parse_error parse_request(std::string_view head, request& out, const parse_limits& limits = {});

// Parses a chunked body's chunk-size line (without its CRLF; extensions
// after ';' are ignored). False when it is not a hex size that fits 60 bits.
bool parse_chunk_size(std::string_view line, std::uint64_t& size);

// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);

}  // namespace http
