// Buffers behind channels: a FIFO ring and a priority heap. Both grow on
// demand (a channel of capacity 1'000'000 costs nothing until it fills) and
// never shrink, so a slot freed by a receive is refilled without allocating
// (chan_buffer's contract). All calls come under the channel's lock.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "chan_core.hpp"

namespace weft::detail {

// Moves the T at src into the std::optional<T> at sink.
template <class T>
void chan_deliver(void* sink, void* src) noexcept {
  static_cast<std::optional<T>*>(sink)->emplace(std::move(*static_cast<T*>(src)));
}

// Wraps a callable as a chan_pred over T.
template <class T, class Pred>
chan_pred make_chan_pred(const Pred& p) noexcept {
  return {[](const void* ctx, const void* v) noexcept -> bool {
            return (*static_cast<const Pred*>(ctx))(*static_cast<const T*>(v));
          },
          &p};
}

// FIFO ring of T, growing by doubling up to `limit` slots.
template <class T>
class ring_buffer : public chan_buffer {
 public:
  explicit ring_buffer(std::size_t limit) noexcept : limit_(limit) {}
  ring_buffer(const ring_buffer&) = delete;
  ring_buffer& operator=(const ring_buffer&) = delete;
  ~ring_buffer() {
    for (; n_ > 0; --n_) {
      at(head_)->~T();
      head_ = wrap(head_ + 1);
    }
    if (slots_) std::allocator<T>().deallocate(slots_, cap_);
  }

  void push(void* src, int) override {
    if (n_ == cap_) grow();
    ::new (static_cast<void*>(at(wrap(head_ + n_)))) T(std::move(*static_cast<T*>(src)));
    ++n_;
  }

  void pop(void* sink) noexcept override {
    T* p = at(head_);
    static_cast<std::optional<T>*>(sink)->emplace(std::move(*p));
    p->~T();
    head_ = wrap(head_ + 1);
    --n_;
  }

  bool pop_match(const chan_pred& pred, void* sink) noexcept override {
    for (std::size_t i = 0; i < n_; ++i) {
      T* p = at(wrap(head_ + i));
      if (!pred.fn(pred.ctx, p)) continue;
      static_cast<std::optional<T>*>(sink)->emplace(std::move(*p));
      // Close the gap: every later value moves one slot toward the head.
      for (std::size_t j = i + 1; j < n_; ++j) {
        T* q = at(wrap(head_ + j));
        p->~T();
        ::new (static_cast<void*>(p)) T(std::move(*q));
        p = q;
      }
      p->~T();
      --n_;
      return true;
    }
    return false;
  }

 private:
  T* at(std::size_t i) noexcept { return slots_ + i; }
  std::size_t wrap(std::size_t i) const noexcept { return i >= cap_ ? i - cap_ : i; }

  void grow() {
    std::size_t want = cap_ ? cap_ * 2 : 16;
    if (want > limit_ || want < cap_) want = limit_;
    T* fresh = std::allocator<T>().allocate(want);  // the only step that can throw
    for (std::size_t i = 0; i < n_; ++i) {
      T* p = at(wrap(head_ + i));
      ::new (static_cast<void*>(fresh + i)) T(std::move(*p));
      p->~T();
    }
    if (slots_) std::allocator<T>().deallocate(slots_, cap_);
    slots_ = fresh;
    cap_ = want;
    head_ = 0;
  }

  const std::size_t limit_;
  T* slots_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;
  std::size_t n_ = 0;
};

// Highest priority first, FIFO within a priority (a sequence number breaks ties).
template <class T>
class prio_buffer : public chan_buffer {
 public:
  prio_buffer() = default;
  prio_buffer(const prio_buffer&) = delete;
  prio_buffer& operator=(const prio_buffer&) = delete;
  ~prio_buffer() = default;

  void push(void* src, int prio) override {
    heap_.push_back(entry{std::move(*static_cast<T*>(src)), prio, seq_++});  // strong guarantee
    std::push_heap(heap_.begin(), heap_.end(), later);
  }

  void pop(void* sink) noexcept override {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    static_cast<std::optional<T>*>(sink)->emplace(std::move(heap_.back().value));
    heap_.pop_back();
  }

  bool pop_match(const chan_pred& pred, void* sink) noexcept override {
    auto best = heap_.end();
    for (auto it = heap_.begin(); it != heap_.end(); ++it)
      if (pred.fn(pred.ctx, &it->value) && (best == heap_.end() || later(*best, *it))) best = it;
    if (best == heap_.end()) return false;
    static_cast<std::optional<T>*>(sink)->emplace(std::move(best->value));
    heap_.erase(best);
    std::make_heap(heap_.begin(), heap_.end(), later);
    return true;
  }

 private:
  struct entry {
    T value;
    int prio;
    std::uint64_t seq;
  };
  // Heap order: a comes out after b.
  static bool later(const entry& a, const entry& b) noexcept {
    return a.prio != b.prio ? a.prio < b.prio : a.seq > b.seq;
  }

  std::vector<entry> heap_;
  std::uint64_t seq_ = 0;
};

}  // namespace weft::detail
