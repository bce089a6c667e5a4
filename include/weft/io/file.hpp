// Files for green threads: open, read/write at an offset, fsync, close. On
// the io_uring engine these are ring operations; on the epoll engine (epoll
// cannot watch regular files) they run on the offload pool. Either way the
// calling green thread waits and its worker keeps running others.
//
// Errors follow socket.hpp: std::system_error with the errno value for what
// the kernel reports, weft::error(closed) after close(), weft::error
// (invalid_argument) for bad arguments. Regular-file calls take no deadline:
// they wait for the disk, not for a peer, and the kernel cannot abandon a
// buffered read half-way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include <fcntl.h>

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
  // ...; O_CLOEXEC is always added) and the mode for a created file.
  // Throws std::system_error (ENOENT, EACCES, EMFILE, ...).
  static file open(const std::string& path, int flags = O_RDONLY, unsigned mode = 0644);
  // Takes ownership of an open descriptor; throws weft::error(invalid_argument) if it is not one.
  static file adopt(int fd);

  // Reads up to n bytes at the current position; 0 at end of file.
  std::size_t read(void* buf, std::size_t n);
  // Writes up to n bytes at the current position.
  std::size_t write(const void* buf, std::size_t n);
  // Reads up to n bytes at offset (the position does not move); 0 at end of file.
  std::size_t read_at(void* buf, std::size_t n, std::uint64_t offset);
  // Writes up to n bytes at offset.
  std::size_t write_at(const void* buf, std::size_t n, std::uint64_t offset);
  // Writes all n bytes at offset (looping over short writes).
  void write_all_at(const void* buf, std::size_t n, std::uint64_t offset);
  // Flushes data and metadata to the device (fsync(2)).
  void fsync();
  // Flushes data, and metadata only as far as needed to read it (fdatasync(2)).
  void fdatasync();
  // Size in bytes (fstat); throws std::system_error.
  std::uint64_t size() const;
  // Closes the descriptor; later calls throw weft::error(closed). Idempotent.
  void close();
  bool is_open() const noexcept;
  // The descriptor, or -1 when closed or empty.
  int fd() const noexcept;

 private:
  explicit file(detail::io::io_handle* h) noexcept : h_(h) {}
  detail::io::io_handle& handle(const char* what) const;
  std::size_t rw(const char* what, bool write, void* buf, std::size_t n, std::int64_t offset);
  detail::io::io_handle* h_ = nullptr;
};

}  // namespace weft::io
