#include "resp.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace kv::resp {

void parser::reset() noexcept {
  pos_ = 0;
  want_args_ = -1;
  bulk_len_ = -1;
  spans_.clear();
  args_.clear();
  inline_store_.clear();
  error_.clear();
}

status parser::fail(std::string why) {
  error_ = "Protocol error: " + std::move(why);
  return status::error;
}

bool parser::read_number_line(std::string_view in, char type, long long& n, status& st) {
  std::size_t eol = in.find('\r', pos_);
  if (eol == std::string_view::npos || eol + 1 >= in.size()) {
    // The header line is not all here. A line this long is no header:
    // refuse now instead of buffering a stream without a line end.
    if (in.size() - pos_ > 32) {
      st = fail(type == '*' ? "too big mbulk count string" : "too big bulk count string");
      return false;
    }
    st = status::need_more;
    return false;
  }
  const char* b = in.data() + pos_ + 1;
  const char* e = in.data() + eol;
  auto [p, ec] = std::from_chars(b, e, n);
  if (ec != std::errc{} || p != e || b == e || in[eol + 1] != '\n') {
    st = fail(type == '*' ? "invalid multibulk length" : "invalid bulk length");
    return false;
  }
  pos_ = eol + 2;
  return true;
}

status parser::parse(std::string_view in) {
  if (pos_ >= in.size()) return status::need_more;
  if (want_args_ < 0 && spans_.empty()) {
    if (in[pos_] != '*') return parse_inline(in);
    long long n = 0;
    status st{};
    if (!read_number_line(in, '*', n, st)) return st;
    // Redis: more than INT_MAX is invalid, zero or less is an empty request.
    if (n > 2147483647LL || static_cast<unsigned long long>(n > 0 ? n : 0) > lim_.max_args)
      return fail("invalid multibulk length");
    if (n <= 0) return status::empty;
    want_args_ = n;
    spans_.reserve(static_cast<std::size_t>(std::min<long long>(n, 1024)));
  }
  while (static_cast<long long>(spans_.size()) < want_args_) {
    if (bulk_len_ < 0) {
      if (pos_ >= in.size()) return status::need_more;
      if (in[pos_] != '$') return fail(std::string("expected '$', got '") + in[pos_] + "'");
      long long n = 0;
      status st{};
      if (!read_number_line(in, '$', n, st)) return st;
      if (n < 0 || static_cast<unsigned long long>(n) > lim_.max_bulk) return fail("invalid bulk length");
      bulk_len_ = n;
    }
    std::size_t len = static_cast<std::size_t>(bulk_len_);
    if (in.size() - pos_ < len + 2) return status::need_more;
    if (in[pos_ + len] != '\r' || in[pos_ + len + 1] != '\n') return fail("bulk string not ended by CRLF");
    spans_.emplace_back(pos_, len);
    pos_ += len + 2;
    bulk_len_ = -1;
  }
  args_.clear();
  args_.reserve(spans_.size());
  for (auto [off, len] : spans_) args_.emplace_back(in.data() + off, len);
  return status::complete;
}

namespace {
bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '\0'; }
}  // namespace

status parser::parse_inline(std::string_view in) {
  std::size_t eol = in.find('\n', pos_);
  if (eol == std::string_view::npos) {
    if (in.size() - pos_ > lim_.max_inline) return fail("too big inline request");
    return status::need_more;
  }
  if (eol - pos_ > lim_.max_inline) return fail("too big inline request");
  std::string_view line = in.substr(pos_, eol - pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos_ = eol + 1;
  args_.clear();
  if (line.find_first_of("\"'") == std::string_view::npos) {
    // No quotes, so no escapes: the words are views into the input, as
    // multibulk arguments are (redis-benchmark's PING_INLINE, telnet).
    for (std::size_t i = 0; i < line.size();) {
      while (i < line.size() && blank(line[i])) ++i;
      std::size_t start = i;
      while (i < line.size() && !blank(line[i])) ++i;
      if (i > start) args_.push_back(line.substr(start, i - start));
    }
    return args_.empty() ? status::empty : status::complete;
  }
  inline_store_.clear();
  if (!split_inline(line, inline_store_)) return fail("unbalanced quotes in request");
  if (inline_store_.empty()) return status::empty;
  args_.assign(inline_store_.begin(), inline_store_.end());
  return status::complete;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool split_inline(std::string_view line, std::vector<std::string>& out) {
  std::size_t i = 0, n = line.size();
  for (;;) {
    while (i < n && blank(line[i])) ++i;
    if (i == n) return true;
    std::string cur;
    bool in_dq = false, in_sq = false;
    for (bool done = false; !done;) {
      if (in_dq) {
        if (i == n) return false;
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_value(line[i + 2]) >= 0 &&
            hex_value(line[i + 3]) >= 0) {
          cur += static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < n) {
          ++i;
          switch (line[i]) {
            case 'n': cur += '\n'; break;
            case 'r': cur += '\r'; break;
            case 't': cur += '\t'; break;
            case 'b': cur += '\b'; break;
            case 'a': cur += '\a'; break;
            default: cur += line[i]; break;
          }
        } else if (line[i] == '"') {
          // A closing quote must be followed by a blank or the end.
          if (i + 1 < n && !blank(line[i + 1])) return false;
          done = true;
        } else {
          cur += line[i];
        }
      } else if (in_sq) {
        if (i == n) return false;
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          cur += '\'';
        } else if (line[i] == '\'') {
          if (i + 1 < n && !blank(line[i + 1])) return false;
          done = true;
        } else {
          cur += line[i];
        }
      } else {
        if (i == n || blank(line[i])) {
          done = true;
        } else if (line[i] == '"') {
          in_dq = true;
        } else if (line[i] == '\'') {
          in_sq = true;
        } else {
          cur += line[i];
        }
      }
      if (i < n) ++i;
    }
    out.push_back(std::move(cur));
  }
}

void simple(std::string& out, std::string_view s) {
  out += '+';
  out += s;
  out += "\r\n";
}

void error(std::string& out, std::string_view s) {
  out += '-';
  // An error echoes client bytes (an unknown command's name): a line end
  // in it would end the reply early and desynchronise the client, so it
  // becomes a space, as Redis does.
  for (char c : s) out += c == '\r' || c == '\n' ? ' ' : c;
  out += "\r\n";
}

namespace {
void number_line(std::string& out, char type, long long n) {
  char buf[24];
  buf[0] = type;
  auto r = std::to_chars(buf + 1, buf + sizeof buf - 2, n);
  *r.ptr++ = '\r';
  *r.ptr++ = '\n';
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}
}  // namespace

void integer(std::string& out, long long n) { number_line(out, ':', n); }

void bulk(std::string& out, std::string_view s) {
  number_line(out, '$', static_cast<long long>(s.size()));
  out += s;
  out += "\r\n";
}

void null_bulk(std::string& out) { out += "$-1\r\n"; }
void array(std::string& out, std::size_t n) { number_line(out, '*', static_cast<long long>(n)); }
void null_array(std::string& out) { out += "*-1\r\n"; }

std::string format_double(double d) {
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

}  // namespace kv::resp
