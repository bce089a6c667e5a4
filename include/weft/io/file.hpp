// Files for green threads: open, read/write at an offset, fsync, close. On
// the io_uring engine these are ring operations; on the epoll engine (epoll
// cannot watch regular files) they run on the offload pool. Either way the
// calling green thread waits and its worker keeps running others.
//
// Errors follow socket.hpp: std::system_error with the errno value for what
// the kernel reports, weft::error(closed) after close(), weft::error
// (timed_out) when the deadline passed, ECANCELED after cancel(),
// weft::error(invalid_argument) for bad arguments (a negative timeout).
//
// Deadlines and cancel()/close() end a wait the kernel can give up, and
// never leave the caller's buffer with the kernel after a call returns:
//   - FIFOs, pipes, ttys (pollable: file::open of a FIFO, adopt of a pipe)
//     wait like sockets on both engines: a timeout or cancel ends them at once;
//   - regular files on io_uring: the operation carries a linked timeout and
//     cancel() cancels it in the kernel; the kernel gives up what it has not
//     started or what sleeps interruptibly in its worker thread,
//     but a read or write already being done against the disk finishes, and
//     the call then returns its result, late;
//   - regular files on epoll: the call waits on the offload pool; a deadline
//     or cancel() withdraws it while it is queued for a thread (the pool is
//     busy), but once a pool thread runs the syscall the call waits for it
//     and returns its result (a thread cannot be made to abandon a syscall);
//   - a deadline already past when the call begins tries once without
//     blocking -- reads and writes the page cache can serve (RWF_NOWAIT on
//     epoll, io_uring's inline attempt), open of a cached path -- and throws
//     timed_out for the rest (fsync on epoll always);
//   - on a plain kernel thread a regular-file call is the blocking syscall
//     itself: only an already-past deadline is honoured (as above).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include <fcntl.h>

#include "deadline.hpp"

namespace weft::detail::io {
struct io_handle;
}

namespace weft::io {

class file {
 public:
  file() noexcept = default;
  // close()s the file.
  ~file();
  file(file&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  // Closes what this file held, then takes o's descriptor.
  file& operator=(file&& o) noexcept;
  file(const file&) = delete;
  file& operator=(const file&) = delete;

  // Opens path with open(2) flags (O_RDONLY, O_WRONLY | O_CREAT | O_TRUNC,
  // ...; O_CLOEXEC is always added) and the mode for a created file; d bounds
  // waits such as a FIFO's for its other end. Throws std::system_error
  // (ENOENT, EACCES, EMFILE, ...), weft::error(timed_out).
  static file open(const std::string& path, int flags = O_RDONLY, unsigned mode = 0644, deadline d = {});
  // open() with a deadline and the default mode; throws as open().
  static file open(const std::string& path, int flags, deadline d) { return open(path, flags, 0644, d); }
  // Takes ownership of an open descriptor; throws weft::error(invalid_argument) if it is not one.
  static file adopt(int fd);

  // The waiting calls below throw std::system_error (errno; ECANCELED after
  // cancel()), weft::error(timed_out / closed / invalid_argument).
  // Reads up to n bytes at the current position; 0 at end of file.
  std::size_t read(void* buf, std::size_t n, deadline d = {});
  // Writes up to n bytes at the current position.
  std::size_t write(const void* buf, std::size_t n, deadline d = {});
  // Reads up to n bytes at offset (the position does not move); 0 at end of file.
  std::size_t read_at(void* buf, std::size_t n, std::uint64_t offset, deadline d = {});
  // Writes up to n bytes at offset.
  std::size_t write_at(const void* buf, std::size_t n, std::uint64_t offset, deadline d = {});
  // Writes all n bytes at offset (looping over short writes), all by d.
  void write_all_at(const void* buf, std::size_t n, std::uint64_t offset, deadline d = {});
  // Flushes data and metadata to the device (fsync(2)).
  void fsync(deadline d = {});
  // Flushes data, and metadata only as far as needed to read it (fdatasync(2)).
  void fdatasync(deadline d = {});
  // Makes every call now waiting on this file (in any thread) fail with
  // ECANCELED, as far as the list above lets it; later calls wait normally.
  // Throws nothing.
  void cancel();
  // Size in bytes (fstat); throws std::system_error.
  std::uint64_t size() const;
  // Ends waiting calls of other threads (weft::error(closed)) as cancel()
  // does, waits until they left, closes the descriptor; later calls throw
  // weft::error(closed). Idempotent; throws nothing.
  void close();
  bool is_open() const noexcept;
  // The descriptor, or -1 when closed or empty.
  int fd() const noexcept;

 private:
  explicit file(detail::io::io_handle* h) noexcept : h_(h) {}
  detail::io::io_handle& handle(const char* what) const;
  std::size_t rw(const char* what, bool write, void* buf, std::size_t n, std::int64_t offset, deadline d);
  void sync(const char* what, bool data_only, deadline d);
  detail::io::io_handle* h_ = nullptr;
};

}  // namespace weft::io
