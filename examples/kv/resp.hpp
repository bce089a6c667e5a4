// RESP2, the Redis protocol: an incremental request parser and the reply
// writers.
//
// The parser works on the bytes a connection has buffered (the
// weft::io::buffered_reader's buffered()), not on the socket, so it is
// unit-tested on plain strings and a request split across any number of
// reads parses the same. It keeps where it got to as offsets, never as
// pointers, because the reader may move its buffer when it grows; the
// caller must not consume bytes until a request is complete.
//
// Both request forms are accepted: multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`,
// what clients send) and inline (`GET k\r\n`, what telnet and
// redis-benchmark's PING_INLINE send, with Redis's quoting rules).
// Malformed input gives the error text Redis 7 gives ("Protocol error:
// invalid bulk length", ...); the connection is then closed, because the
// rest of its stream can no longer be framed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kv::resp {

// What one request may take. A bulk string over max_bulk or a line over
// max_inline is a protocol error as soon as its header is seen, before any
// memory is spent on it; the whole pending input is bounded by the
// connection's reader (kv_server's --max-request).
struct limits {
  std::uint64_t max_bulk = 512ull * 1024 * 1024;  // Redis's proto-max-bulk-len
  std::size_t max_inline = 64 * 1024;              // Redis's PROTO_INLINE_MAX_SIZE
  std::uint64_t max_args = 1024ull * 1024 * 1024;  // Redis accepts up to INT_MAX; memory is capped by the input bound
};

enum class status {
  need_more,  // the request is not all there yet: read more, call again
  complete,   // args() holds a request; consumed() bytes of the input were used
  empty,      // an empty request (blank inline line, *0): consumed() bytes to drop, nothing to answer
  error,      // malformed: error_text() says why; the connection must close
};

class parser {
 public:
  // A parser enforcing `lim`. Throws nothing.
  explicit parser(limits lim = {}) noexcept : lim_(lim) {}

  // Parses on from where the previous call stopped. `in` must start where
  // it started then and may have grown (never shrunk or changed) since.
  // Throws std::bad_alloc only.
  status parse(std::string_view in);

  // The request's arguments after `complete`: views into the input given to
  // parse (or into the parser for inline arguments that had escapes), valid
  // until the next parse or reset. Throws nothing.
  const std::vector<std::string_view>& args() const noexcept { return args_; }
  // Input bytes the finished request took (complete or empty). Throws nothing.
  std::size_t consumed() const noexcept { return pos_; }
  // Why parse said error, as Redis says it ("Protocol error: ..."). Throws nothing.
  const std::string& error_text() const noexcept { return error_; }
  // Forgets the finished request: the next parse starts at a new request,
  // at the first byte after the consumed ones. Throws nothing.
  void reset() noexcept;

 private:
  status fail(std::string why);
  status parse_inline(std::string_view in);
  // Reads the number on the line at pos_ after its type byte; false with
  // need_more/error set in st when it cannot.
  bool read_number_line(std::string_view in, char type, long long& n, status& st);

  limits lim_;
  std::size_t pos_ = 0;              // next unparsed byte of the current request
  long long want_args_ = -1;         // multibulk count, -1 before the header
  long long bulk_len_ = -1;          // the pending bulk's length once its header is read
  std::vector<std::pair<std::size_t, std::size_t>> spans_;  // (offset, length) of the args so far
  std::vector<std::string_view> args_;
  std::vector<std::string> inline_store_;  // inline args rewritten by their escapes
  std::string error_;
};

// Splits an inline request line into arguments with Redis's rules
// (sdssplitargs): blanks separate, "..." takes \n \r \t \b \a \\ \" \xHH,
// '...' takes \'. False for unbalanced quotes. Throws std::bad_alloc only.
bool split_inline(std::string_view line, std::vector<std::string>& out);

// Reply writers: each appends one RESP2 value to `out`. Throw std::bad_alloc only.
void simple(std::string& out, std::string_view s);       // +s
void error(std::string& out, std::string_view s);        // -s (s starts with its code, e.g. "ERR ...")
void integer(std::string& out, long long n);             // :n
void bulk(std::string& out, std::string_view s);         // $len s
void null_bulk(std::string& out);                        // $-1
void array(std::string& out, std::size_t n);             // *n, then n values follow
void null_array(std::string& out);                       // *-1
// A double as Redis prints it (shortest round-trip, "inf", "-inf"). Throws std::bad_alloc only.
std::string format_double(double d);

}  // namespace kv::resp
