// Memory for TCB+task allocations. Every spawn allocates one and every
// reaped thread frees one, usually on different workers: through malloc that
// meant a free into another thread's arena (its lock, contended) and heap
// trimming that handed a million freed TCBs back to the kernel only to fault
// them in again on the next burst. So TCBs come from size classes (16-byte
// steps up to 1008 bytes) carved from 64 KiB slabs that live as long as the
// scheduler, through a LIFO cache per worker (no lock, the warmest block
// first) in front of a locked depot. Larger or over-aligned tasks use
// operator new. Memory that a burst of threads used stays pooled until the
// runtime ends: the price of never faulting it in twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace weft::detail {

class tcb_depot;

// A worker's cache; used only by its worker.
class tcb_cache {
 public:
  explicit tcb_cache(tcb_depot& d) : depot_(d) {}
  ~tcb_cache();
  tcb_cache(const tcb_cache&) = delete;
  tcb_cache& operator=(const tcb_cache&) = delete;
  void* take(unsigned cls) noexcept;
  void give(unsigned cls, void* p) noexcept;

 private:
  friend class tcb_depot;
  static constexpr unsigned classes = 64;
  // 256 blocks a class: a spawn burst on one worker rarely outruns it; past
  // it, half goes back to the depot in one lock round.
  static constexpr std::size_t capacity = 256;
  tcb_depot& depot_;
  std::vector<void*> free_[classes];
};

class tcb_depot {
 public:
  static constexpr std::size_t granule = 16;
  static constexpr std::size_t max_size = 63 * granule;
  tcb_depot() = default;
  ~tcb_depot();
  tcb_depot(const tcb_depot&) = delete;
  tcb_depot& operator=(const tcb_depot&) = delete;

  // The class for a block of `size` bytes aligned to `align`; 0 = not pooled.
  static unsigned class_of(std::size_t size, std::size_t align) noexcept {
    if (align > granule || size > max_size) return 0;
    return static_cast<unsigned>((size + granule - 1) / granule);
  }
  // Blocks for callers without a worker (foreign threads) and for caches.
  void* take(unsigned cls) noexcept;
  void give(unsigned cls, void* p) noexcept;
  std::size_t take_batch(unsigned cls, void** out, std::size_t n) noexcept;
  void give_batch(unsigned cls, void* const* in, std::size_t n) noexcept;

 private:
  bool carve(unsigned cls) noexcept;  // needs mu_
  std::mutex mu_;
  std::vector<void*> free_[tcb_cache::classes];
  std::vector<void*> slabs_;
};

}  // namespace weft::detail
