// The request-head parser (RFC 9112, sections 3 and 5): one pass over the
// head, line by line.
#include "parser.hpp"

namespace http {

namespace {

// tchar of RFC 9110, 5.6.2: what methods and header names are made of.
bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// Header values: visible characters, spaces, tabs and obs-text; no other controls.
bool is_value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Cuts the next CRLF-terminated line off `rest`; false if there is none.
bool next_line(std::string_view& rest, std::string_view& line) {
  std::size_t at = rest.find("\r\n");
  if (at == std::string_view::npos) return false;
  line = rest.substr(0, at);
  rest.remove_prefix(at + 2);
  return true;
}

bool parse_decimal(std::string_view s, std::uint64_t& v) {
  if (s.empty() || s.size() > 18) return false;  // 18 digits cannot overflow
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

// Whether the comma-separated list `value` holds `token` (case-insensitive).
bool list_has(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

parse_error fail(int status, const char* reason) { return {status, reason}; }

parse_error parse_request_line(std::string_view line, request& out, const parse_limits& limits) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail(400, "malformed request line");
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail(400, "malformed request line");
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(out.method)) return fail(400, "malformed method");
  if (out.target.size() > limits.max_target) return fail(414, "request-target too long");
  if (out.target.empty()) return fail(400, "empty request-target");
  for (unsigned char c : out.target)
    if (c <= 0x20 || c == 0x7f) return fail(400, "control character or space in the request-target");
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return fail(400, "malformed HTTP version");
  if (version[5] != '1') return fail(505, "only HTTP/1.x is served");
  out.minor_version = version[7] - '0';
  return {};
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> request::find(std::string_view name) const {
  for (std::size_t i = 0; i < header_count; ++i)
    if (iequals(headers[i].name, name)) return headers[i].value;
  return std::nullopt;
}

parse_error parse_request(std::string_view head, request& out, const parse_limits& limits) {
  out = request{};
  std::string_view rest = head, line;
  // RFC 9112 2.2: a server should ignore empty lines before the request line.
  while (rest.starts_with("\r\n")) rest.remove_prefix(2);
  if (!next_line(rest, line)) return fail(400, "no request line");
  if (parse_error e = parse_request_line(line, out, limits)) return e;

  bool have_length = false, have_te = false, have_host = false;
  std::string_view connection;
  for (;;) {
    if (!next_line(rest, line)) return fail(400, "headers do not end with an empty line");
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') return fail(400, "obsolete line folding");
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(400, "header without a colon");
    std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (!is_token(name)) return fail(400, "malformed header name");
    for (unsigned char c : value)
      if (!is_value_char(c)) return fail(400, "control character in a header value");
    if (out.header_count == request::max_headers) return fail(431, "too many headers");
    out.headers[out.header_count++] = {name, value};

    if (iequals(name, "content-length")) {
      std::uint64_t n = 0;
      if (!parse_decimal(value, n)) return fail(400, "malformed Content-Length");
      if (have_length && n != out.content_length) return fail(400, "conflicting Content-Length headers");
      have_length = true;
      out.content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      // Only "chunked" alone: gzip or a list ending in chunked would need a
      // decoder this server does not have.
      if (have_te || !iequals(value, "chunked")) return fail(501, "unsupported Transfer-Encoding (only a single chunked is accepted)");
      have_te = true;
    } else if (iequals(name, "connection")) {
      connection = value;
    } else if (iequals(name, "host")) {
      if (have_host) return fail(400, "more than one Host header");
      have_host = true;
      out.host = value;
    } else if (iequals(name, "if-modified-since")) {
      out.if_modified_since = value;
    }
  }
  if (!rest.empty()) return fail(400, "bytes after the end of the head");
  if (out.minor_version == 0 && have_te) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
  if (have_te && have_length) return fail(400, "both Content-Length and Transfer-Encoding");
  if (out.minor_version >= 1 && !have_host) return fail(400, "HTTP/1.1 request without Host");
  out.body = have_te ? body_kind::chunked : (have_length && out.content_length > 0 ? body_kind::length : body_kind::none);
  out.keep_alive = out.minor_version >= 1 ? !list_has(connection, "close") : list_has(connection, "keep-alive");
  return {};
}

bool parse_chunk_size(std::string_view line, std::uint64_t& size) {
  std::size_t semi = line.find(';');
  std::string_view digits = line.substr(0, semi);
  while (!digits.empty() && (digits.back() == ' ' || digits.back() == '\t')) digits.remove_suffix(1);
  if (digits.empty() || digits.size() > 15) return false;  // 15 hex digits: 60 bits
  size = 0;
  for (char c : digits) {
    int v;
    if (c >= '0' && c <= '9') v = c - '0';
    else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    else return false;
    size = size * 16 + static_cast<std::uint64_t>(v);
  }
  return true;
}

}  // namespace http
