// The buffered reader: one buffer, compacted before it is refilled, grown
// by doubling up to the limit.
#include "weft/io/buffered_reader.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "weft/error.hpp"

namespace weft::io {

namespace {

constexpr std::size_t initial_capacity = 4096;

[[noreturn]] void too_large(const char* what, std::size_t limit) {
  throw error(errc::limit_exceeded,
              std::string("weft::io::buffered_reader::") + what + ": more than the limit of " + std::to_string(limit) + " bytes");
}

[[noreturn]] void ended(const char* what, std::size_t have) {
  throw error(errc::end_of_stream, std::string("weft::io::buffered_reader::") + what + ": the stream ended after " +
                                       std::to_string(have) + " bytes, in the middle");
}

}  // namespace

buffered_reader::buffered_reader(socket& s, std::size_t limit) : sock_(&s), limit_(limit) {
  if (limit == 0) throw error(errc::invalid_argument, "weft::io::buffered_reader: the limit must be at least 1 byte");
}

bool buffered_reader::make_room() {
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ < cap_) return true;
  if (begin_ > 0) {
    // Views handed out earlier die here, as documented.
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    return true;
  }
  if (cap_ >= limit_) return false;
  std::size_t cap = cap_ == 0 ? std::min(initial_capacity, limit_) : std::min(cap_ * 2, limit_);
  auto bigger = std::make_unique<char[]>(cap);
  if (end_ > 0) std::memcpy(bigger.get(), buf_.get(), end_);
  buf_ = std::move(bigger);
  cap_ = cap;
  return true;
}

std::size_t buffered_reader::fill(deadline d) {
  if (eof_) return 0;
  if (!make_room()) too_large("fill", limit_);
  std::size_t n = sock_->read(buf_.get() + end_, cap_ - end_, d);
  if (n == 0) eof_ = true;
  end_ += n;
  return n;
}

std::string_view buffered_reader::take(std::size_t n) {
  std::string_view v(buf_.get() + begin_, n);
  begin_ += n;
  return v;
}

std::optional<std::string_view> buffered_reader::read_until(char delim, deadline d) {
  return read_until(std::string_view(&delim, 1), d);
}

std::optional<std::string_view> buffered_reader::read_until(std::string_view delim, deadline d) {
  if (delim.empty()) throw error(errc::invalid_argument, "weft::io::buffered_reader::read_until: empty delimiter");
  // Where to resume the search, relative to begin_: bytes already searched
  // are not searched again, so a line that dribbles in costs linear time.
  std::size_t from = 0;
  for (;;) {
    std::string_view have = buffered();
    std::size_t at = have.find(delim, from);
    if (at != std::string_view::npos) return take(at + delim.size());
    if (have.size() >= delim.size()) from = have.size() - delim.size() + 1;
    if (have.size() >= limit_) too_large("read_until", limit_);
    if (fill(d) == 0) {
      if (have.empty()) return std::nullopt;
      ended("read_until", have.size());
    }
  }
}

std::optional<std::string_view> buffered_reader::read_line(deadline d) {
  auto line = read_until('\n', d);
  if (!line) return line;
  line->remove_suffix(1);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  return line;
}

std::string_view buffered_reader::peek(std::size_t n, deadline d) {
  if (n > limit_) too_large("peek", limit_);
  while (end_ - begin_ < n)
    if (fill(d) == 0) break;
  return buffered().substr(0, n);
}

std::string_view buffered_reader::read_exact(std::size_t n, deadline d) {
  if (n > limit_) too_large("read_exact", limit_);
  std::string_view v = peek(n, d);
  if (v.size() < n) ended("read_exact", v.size());
  return take(n);
}

std::size_t buffered_reader::read(void* buf, std::size_t n, deadline d) {
  if (n == 0) return 0;
  if (begin_ == end_) {
    if (eof_) return 0;
    // A large read skips the copy through the buffer.
    if (n >= initial_capacity) {
      std::size_t got = sock_->read(buf, n, d);
      if (got == 0) eof_ = true;
      return got;
    }
    if (fill(d) == 0) return 0;
  }
  std::size_t k = std::min(n, end_ - begin_);
  std::memcpy(buf, buf_.get() + begin_, k);
  begin_ += k;
  return k;
}

void buffered_reader::consume(std::size_t n) {
  if (n > end_ - begin_)
    throw error(errc::invalid_argument, "weft::io::buffered_reader::consume: " + std::to_string(n) + " bytes asked, " +
                                            std::to_string(end_ - begin_) + " buffered");
  begin_ += n;
}

}  // namespace weft::io
