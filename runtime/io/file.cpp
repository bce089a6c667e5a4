// Files on top of handles.
#include "weft/io/file.hpp"

#include <cerrno>
#include <climits>
#include <string>
#include <system_error>

#include <sys/stat.h>
#include <unistd.h>

#include "io/handle.hpp"
#include "weft/error.hpp"

namespace weft::io {

using detail::io::io_handle;
using detail::io::io_request;
using detail::io::opcode;

namespace {

std::size_t check(const char* what, int fd, std::int64_t res) {
  if (res >= 0) return static_cast<std::size_t>(res);
  std::string where = std::string("weft::io::file::") + what + " (fd " + std::to_string(fd) + ")";
  if (res == -EBADF) throw error(errc::closed, where + ": the file is closed");
  if (res == -ETIMEDOUT) throw error(errc::timed_out, where + ": deadline passed");
  throw std::system_error(static_cast<int>(-res), std::system_category(), where);
}

// Regular files and block devices cannot be polled; pipes and ttys can.
bool is_pollable(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISDIR(st.st_mode);
}

}  // namespace

file::~file() {
  if (h_) detail::io::handle_destroy(h_);
}

file& file::operator=(file&& o) noexcept {
  if (this != &o) {
    if (h_) detail::io::handle_destroy(h_);
    h_ = std::exchange(o.h_, nullptr);
  }
  return *this;
}

io_handle& file::handle(const char* what) const {
  if (!h_) throw error(errc::closed, std::string("weft::io::file::") + what + ": the file is empty (default-constructed or moved from)");
  return *h_;
}

file file::open(const std::string& path, int flags, unsigned mode, deadline d) {
  if (path.empty()) throw error(errc::invalid_argument, "weft::io::file::open: empty path");
  io_request r;
  r.op = opcode::openat;
  r.fd = AT_FDCWD;
  r.path = path.c_str();
  r.flags = flags | O_CLOEXEC;
  r.mode = mode;
  std::int64_t fd = detail::io::unhandled_op(r, d.steady_ns());
  if (fd == -ETIMEDOUT) throw error(errc::timed_out, "weft::io::file::open " + path + ": deadline passed");
  if (fd < 0) throw std::system_error(static_cast<int>(-fd), std::system_category(), "weft::io::file::open " + path);
  int ifd = static_cast<int>(fd);
  return file(detail::io::handle_create(ifd, false, is_pollable(ifd)));
}

file file::adopt(int fd) {
  if (fd < 0 || ::fcntl(fd, F_GETFD) < 0)
    throw error(errc::invalid_argument, "weft::io::file::adopt: " + std::to_string(fd) + " is not an open descriptor");
  return file(detail::io::handle_create(fd, false, is_pollable(fd)));
}

std::size_t file::rw(const char* what, bool write, void* buf, std::size_t n, std::int64_t offset, deadline d) {
  io_handle& h = handle(what);
  if (n == 0) return 0;
  io_request r;
  r.op = write ? opcode::write : opcode::read;
  r.buf = buf;
  // A single read/write moves at most 0x7ffff000 bytes; callers loop.
  r.len = n > 0x7ffff000 ? 0x7ffff000 : n;
  r.offset = offset;
  return check(what, h.fd, detail::io::handle_op(h, r, d.steady_ns()));
}

std::size_t file::read(void* buf, std::size_t n, deadline d) { return rw("read", false, buf, n, -1, d); }

std::size_t file::write(const void* buf, std::size_t n, deadline d) {
  return rw("write", true, const_cast<void*>(buf), n, -1, d);
}

std::size_t file::read_at(void* buf, std::size_t n, std::uint64_t offset, deadline d) {
  if (offset > static_cast<std::uint64_t>(INT64_MAX)) throw error(errc::invalid_argument, "weft::io::file::read_at: offset too big");
  return rw("read_at", false, buf, n, static_cast<std::int64_t>(offset), d);
}

std::size_t file::write_at(const void* buf, std::size_t n, std::uint64_t offset, deadline d) {
  if (offset > static_cast<std::uint64_t>(INT64_MAX)) throw error(errc::invalid_argument, "weft::io::file::write_at: offset too big");
  return rw("write_at", true, const_cast<void*>(buf), n, static_cast<std::int64_t>(offset), d);
}

void file::write_all_at(const void* buf, std::size_t n, std::uint64_t offset, deadline d) {
  const auto* p = static_cast<const char*>(buf);
  std::size_t done = 0;
  while (done < n) {
    std::size_t k = write_at(p + done, n - done, offset + done, d);
    if (k == 0) throw std::system_error(EIO, std::system_category(), "weft::io::file::write_all_at: no progress");
    done += k;
  }
}

void file::sync(const char* what, bool data_only, deadline d) {
  io_handle& h = handle(what);
  io_request r;
  r.op = opcode::fsync;
  r.flags = data_only ? 1 : 0;
  check(what, h.fd, detail::io::handle_op(h, r, d.steady_ns()));
}

void file::fsync(deadline d) { sync("fsync", false, d); }

void file::fdatasync(deadline d) { sync("fdatasync", true, d); }

void file::cancel() {
  if (h_) detail::io::handle_cancel(*h_);
}

std::uint64_t file::size() const {
  io_handle& h = handle("size");
  if (detail::io::handle_closed(h)) check("size", -1, -EBADF);
  struct stat st;
  if (::fstat(h.fd, &st) != 0) throw std::system_error(errno, std::system_category(), "weft::io::file::size");
  return static_cast<std::uint64_t>(st.st_size);
}

void file::close() {
  if (h_) detail::io::handle_close(*h_);
}

bool file::is_open() const noexcept { return h_ && !detail::io::handle_closed(*h_); }

int file::fd() const noexcept { return is_open() ? h_->fd : -1; }

}  // namespace weft::io
