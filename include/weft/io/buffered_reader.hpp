// A buffered reader over a weft socket, as Go's bufio.Reader or Asio's
// read_until: read until a delimiter, read a line, read exactly n bytes,
// peek and consume -- so a protocol's parser works on whole lines or
// messages instead of whatever one read(2) happened to return.
//
// Zero-copy: the std::string_views returned point into the reader's own
// buffer. A view stays valid until the next call of a non-const member
// (any read, peek, fill or consume may move or reuse the buffer); copy what
// must live longer.
//
// Bounded: the buffer holds at most limit() bytes. A delimiter not found
// within that many bytes, or a peek or read_exact of more, throws
// weft::error(errc::limit_exceeded) instead of growing without bound; the
// bytes buffered so far stay in buffered(), so a caller can look at what
// it got (an HTTP server tells a too-long request line from too many
// headers that way). The buffer starts small and doubles up to the limit,
// so an idle connection costs little.
//
// Deadlines: every waiting call takes a deadline, as socket::read does; it
// bounds the whole call, however many reads it makes.
//
// Errors: what socket::read throws (std::system_error, weft::error
// timed_out / closed), plus weft::error(limit_exceeded) as above and
// weft::error(end_of_stream) when the stream ends in the middle of what
// the call asked for (a line without its delimiter, fewer than n bytes).
// A clean end of stream -- nothing buffered -- is not an error: read_until
// and read_line return std::nullopt, read returns 0. After an exception the
// buffered bytes are still there and the reader can be used again.
//
// One reader per socket, used by one thread at a time (a writer on the same
// socket in another thread is fine).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

#include "deadline.hpp"
#include "socket.hpp"

namespace weft::io {

class buffered_reader {
 public:
  static constexpr std::size_t default_limit = 64 * 1024;

  // Reads from s, which must outlive the reader, buffering at most `limit`
  // bytes; throws weft::error(invalid_argument) for a zero limit.
  explicit buffered_reader(socket& s, std::size_t limit = default_limit);
  buffered_reader(const buffered_reader&) = delete;
  buffered_reader& operator=(const buffered_reader&) = delete;

  // Reads through the first `delim` and returns it, delimiter included;
  // nullopt at a clean end of stream. Throws limit_exceeded, end_of_stream
  // (the stream ended after some bytes), timed_out and socket::read's errors.
  std::optional<std::string_view> read_until(char delim, deadline d = {});
  // As read_until(char) with a delimiter of several bytes (e.g. "\r\n\r\n");
  // throws the same, and invalid_argument for an empty delimiter.
  std::optional<std::string_view> read_until(std::string_view delim, deadline d = {});
  // Reads a line ended by "\n" or "\r\n" and returns it without the ending;
  // nullopt at a clean end of stream. Throws as read_until.
  std::optional<std::string_view> read_line(deadline d = {});
  // Reads exactly n bytes (n <= limit()). Throws limit_exceeded for n >
  // limit(), end_of_stream if the stream ends first, and socket::read's errors.
  std::string_view read_exact(std::size_t n, deadline d = {});
  // Copies up to n bytes into buf: buffered bytes if there are any, else
  // one socket read (straight into buf when n is large); 0 at end of stream.
  // For bodies of any size. Throws socket::read's errors.
  std::size_t read(void* buf, std::size_t n, deadline d = {});
  // Waits until at least n bytes are buffered (fewer only at end of stream)
  // and returns the first n without consuming them. Throws limit_exceeded
  // for n > limit(), and socket::read's errors.
  std::string_view peek(std::size_t n, deadline d = {});
  // Drops the first n buffered bytes (after a peek); throws
  // weft::error(invalid_argument) if fewer are buffered.
  void consume(std::size_t n);
  // Makes one socket read into the buffer and returns how many bytes it
  // added, 0 at end of stream. Throws limit_exceeded when the buffer is
  // full, and socket::read's errors.
  std::size_t fill(deadline d = {});

  // The bytes buffered and not yet consumed. Throws nothing.
  std::string_view buffered() const noexcept { return {buf_.get() + begin_, end_ - begin_}; }
  // True once a read saw the end of the stream. Throws nothing.
  bool at_eof() const noexcept { return eof_; }
  // The most bytes the reader buffers. Throws nothing.
  std::size_t limit() const noexcept { return limit_; }
  // The socket read from. Throws nothing.
  socket& source() noexcept { return *sock_; }

 private:
  // Makes room for more bytes at the end: moves the unread bytes to the
  // front and grows up to the limit; false when the buffer is full.
  bool make_room();
  std::string_view take(std::size_t n);

  socket* sock_;
  std::size_t limit_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;  // first unread byte
  std::size_t end_ = 0;    // one past the last buffered byte
  bool eof_ = false;
};

}  // namespace weft::io
