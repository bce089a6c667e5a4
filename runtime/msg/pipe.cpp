// weft::pipe. Bytes live in a ring under a spin lock held only for the
// copy. Waiting uses park.hpp's wait_for_condition on two queues: readers
// wait for "bytes or EOF", writers for "room for what I need, or no reader".
// Whoever changes the state first publishes it (size_, the closed flags),
// then wakes the other side's queue; the waiting side re-checks under the
// queue lock before parking, so no wake-up is lost.
//
// Wake policy: after a write, one reader (any reader can use any byte; a
// reader that leaves bytes behind wakes the next). After a read, every
// waiting writer: a writer needing an atomic 4 KiB would otherwise sit on the
// only wake-up while a smaller writer could proceed.
#include "weft/pipe.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/park.hpp"
#include "base/fatal.hpp"
#include "base/spinlock.hpp"
#include "weft/error.hpp"

namespace weft {

using namespace detail;

namespace {

struct guard {
  std::atomic<std::uint32_t>& w;
  explicit guard(std::atomic<std::uint32_t>& word) noexcept : w(word) { spin_lock(w); }
  ~guard() { spin_unlock(w); }
};

}  // namespace

pipe::pipe(std::size_t capacity) : cap_(capacity) {
  if (capacity == 0) throw error(errc::invalid_argument, "pipe: capacity must be at least 1 byte");
  buf_.reset(new unsigned char[capacity]);
}

pipe::~pipe() {
  WEFT_CHECK(wq_empty(readers_) && wq_empty(writers_), "a pipe was destroyed while threads were still blocked on it");
}

io_result pipe::read_impl(void* out, std::size_t n, long long deadline, bool nonblock) {
  if (n == 0) return {0, op_status::ok};
  auto* dst = static_cast<unsigned char*>(out);
  for (;;) {
    std::size_t k = 0;
    bool more = false;
    {
      guard g(lock_);
      std::size_t size = size_.load(std::memory_order_relaxed);
      if (size > 0 && !read_closed_.load(std::memory_order_relaxed)) {
        k = std::min(n, size);
        std::size_t first = std::min(k, cap_ - head_);
        std::memcpy(dst, buf_.get() + head_, first);
        std::memcpy(dst + first, buf_.get(), k - first);
        head_ = (head_ + k) % cap_;
        size_.store(size - k, std::memory_order_release);
        more = size > k;
      }
    }
    if (k) {
      wake_all(writers_);
      if (more) wake_one(readers_);
      return {k, op_status::ok};
    }
    if (read_closed_.load(std::memory_order_acquire) || write_closed_.load(std::memory_order_acquire)) {
      // EOF only once drained: a write that raced the close may have landed.
      if (size_.load(std::memory_order_acquire) == 0 || read_closed_.load(std::memory_order_acquire))
        return {0, op_status::closed};
      continue;
    }
    if (nonblock) return {0, op_status::would_block};
    wake_status ready = wait_for_condition_cancellable(
        readers_,
        [&] {
          return size_.load(std::memory_order_acquire) > 0 || write_closed_.load(std::memory_order_acquire) ||
                 read_closed_.load(std::memory_order_acquire);
        },
        deadline, wait_reason::pipe);
    if (ready == wake_status::canceled) return {0, op_status::canceled};
    if (ready != wake_status::notified) return {0, op_status::timeout};
  }
}

io_result pipe::write_impl(const void* in, std::size_t n, long long deadline, bool nonblock) {
  auto* src = static_cast<const unsigned char*>(in);
  bool atomic = n <= std::min(atomic_write, cap_);
  std::size_t done = 0;
  for (;;) {
    if (read_closed_.load(std::memory_order_acquire) || write_closed_.load(std::memory_order_acquire))
      return {done, op_status::closed};
    if (done == n) return {n, op_status::ok};
    std::size_t need = atomic ? n : 1;
    std::size_t k = 0;
    {
      guard g(lock_);
      std::size_t size = size_.load(std::memory_order_relaxed);
      std::size_t room = cap_ - size;
      if (room >= need && !read_closed_.load(std::memory_order_relaxed)) {
        k = std::min(room, n - done);
        std::size_t tail = (head_ + size) % cap_;
        std::size_t first = std::min(k, cap_ - tail);
        std::memcpy(buf_.get() + tail, src + done, first);
        std::memcpy(buf_.get(), src + done + first, k - first);
        size_.store(size + k, std::memory_order_release);
      }
    }
    if (k) {
      done += k;
      wake_one(readers_);
      if (nonblock && done < n) return {done, op_status::ok};
      continue;
    }
    if (nonblock) return {done, done ? op_status::ok : op_status::would_block};
    wake_status ready = wait_for_condition_cancellable(
        writers_,
        [&] {
          return cap_ - size_.load(std::memory_order_acquire) >= need ||
                 read_closed_.load(std::memory_order_acquire) || write_closed_.load(std::memory_order_acquire);
        },
        deadline, wait_reason::pipe);
    if (ready == wake_status::canceled) return {done, op_status::canceled};
    if (ready != wake_status::notified) return {done, op_status::timeout};
  }
}

void pipe::close_write() noexcept {
  write_closed_.store(true, std::memory_order_release);
  wake_all(readers_);
  wake_all(writers_);
}

void pipe::close_read() noexcept {
  {
    guard g(lock_);
    read_closed_.store(true, std::memory_order_release);
    head_ = 0;
    size_.store(0, std::memory_order_release);
  }
  wake_all(writers_);
  wake_all(readers_);
}

}  // namespace weft
