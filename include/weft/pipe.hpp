// A byte pipe between threads, with the semantics of a POSIX pipe:
//   - read blocks while the pipe is empty, then returns what is there (up
//     to n bytes: partial reads); after the write end is closed and the
//     bytes are drained it returns {0, closed} (EOF);
//   - write blocks while the pipe is full and returns once all n bytes are
//     in; a write of at most atomic_write bytes is never interleaved with
//     other writers' bytes (PIPE_BUF); after the read end is closed it
//     fails with {bytes written so far, closed} (EPIPE, without a signal).
// Green threads park, foreign kernel threads block. See docs/messaging.md.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "detail/chan_core.hpp"
#include "detail/msg_result.hpp"
#include "detail/wait_queue.hpp"

namespace weft {

class pipe {
 public:
  // Writes up to this many bytes are atomic (POSIX PIPE_BUF on Linux).
  static constexpr std::size_t atomic_write = 4096;

  // A pipe holding up to `capacity` bytes; throws weft::error(invalid_argument) for 0.
  explicit pipe(std::size_t capacity = 64 * 1024);
  // Aborts with a message if a thread is still blocked on it.
  ~pipe();
  pipe(const pipe&) = delete;
  pipe& operator=(const pipe&) = delete;

  // Reads 1..n bytes, waiting while empty; {0, closed} at EOF or after close_read(); n == 0 returns {0, ok};
  // {0, canceled} when stop is requested on the calling green thread while it waits.
  io_result read(void* buf, std::size_t n) { return read_impl(buf, n, -1, false); }
  // Reads what is there without waiting; {0, would_block} if empty.
  io_result try_read(void* buf, std::size_t n) { return read_impl(buf, n, -1, true); }
  // read() waiting at most d; {0, timeout} (or {0, canceled}, as read()). Throws weft::error(invalid_argument) on a negative d.
  template <class Rep, class Period>
  io_result read_for(void* buf, std::size_t n, std::chrono::duration<Rep, Period> d) {
    return read_impl(buf, n, detail::msg_deadline_for(d, "pipe::read_for"), false);
  }

  // Writes all n bytes, waiting for room; {k, closed} if the read end closes first, {k, canceled}
  // if stop is requested on the calling green thread while it waits.
  io_result write(const void* buf, std::size_t n) { return write_impl(buf, n, -1, false); }
  // Writes what fits now (all or nothing for n <= atomic_write); {0, would_block} if nothing fits.
  io_result try_write(const void* buf, std::size_t n) { return write_impl(buf, n, -1, true); }
  // write() waiting at most d; {bytes written, timeout}. Throws weft::error(invalid_argument) on a negative d.
  template <class Rep, class Period>
  io_result write_for(const void* buf, std::size_t n, std::chrono::duration<Rep, Period> d) {
    return write_impl(buf, n, detail::msg_deadline_for(d, "pipe::write_for"), false);
  }

  // Closes the write end: readers drain the bytes, then see EOF; writes fail with closed.
  void close_write() noexcept;
  // Closes the read end: buffered bytes are discarded, writers fail with closed (EPIPE).
  void close_read() noexcept;
  // Bytes buffered now (a snapshot).
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return cap_; }

 private:
  io_result read_impl(void* buf, std::size_t n, long long deadline, bool nonblock);
  io_result write_impl(const void* buf, std::size_t n, long long deadline, bool nonblock);

  const std::size_t cap_;
  std::unique_ptr<unsigned char[]> buf_;
  std::size_t head_ = 0;                // guarded by lock_
  std::atomic<std::uint32_t> lock_{0};  // a spin lock over buf_ and head_; held for a copy only
  std::atomic<std::size_t> size_{0};    // written under lock_, read by wait conditions
  std::atomic<bool> write_closed_{false};
  std::atomic<bool> read_closed_{false};
  detail::wait_queue readers_;  // threads waiting for bytes
  detail::wait_queue writers_;  // threads waiting for room
};

}  // namespace weft
