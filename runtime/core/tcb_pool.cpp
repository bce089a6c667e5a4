#include "core/tcb_pool.hpp"

#include <cstdlib>

namespace weft::detail {
namespace {
constexpr std::size_t slab_bytes = 64 * 1024;
}

tcb_depot::~tcb_depot() {
  for (void* s : slabs_) std::free(s);
}

bool tcb_depot::carve(unsigned cls) noexcept {
  void* slab = std::malloc(slab_bytes);
  if (!slab) return false;
  try {
    slabs_.push_back(slab);
    std::size_t size = cls * granule;
    auto& list = free_[cls];
    // Highest address first, so the LIFO hands them out in address order.
    for (std::size_t off = (slab_bytes / size) * size; off >= size; off -= size)
      list.push_back(static_cast<char*>(slab) + off - size);
  } catch (...) {
    return false;
  }
  return true;
}

void* tcb_depot::take(unsigned cls) noexcept {
  void* p = nullptr;
  take_batch(cls, &p, 1);
  return p;
}

void tcb_depot::give(unsigned cls, void* p) noexcept { give_batch(cls, &p, 1); }

std::size_t tcb_depot::take_batch(unsigned cls, void** out, std::size_t n) noexcept {
  std::lock_guard lk(mu_);
  auto& list = free_[cls];
  if (list.empty() && !carve(cls)) return 0;
  std::size_t got = 0;
  while (got < n && !list.empty()) {
    out[got++] = list.back();
    list.pop_back();
  }
  return got;
}

void tcb_depot::give_batch(unsigned cls, void* const* in, std::size_t n) noexcept {
  std::lock_guard lk(mu_);
  auto& list = free_[cls];
  try {
    list.insert(list.end(), in, in + n);
  } catch (...) {
    // Out of memory for the free list itself: the blocks stay in their slab
    // (freed with the depot), only unavailable for reuse.
  }
}

tcb_cache::~tcb_cache() {
  for (unsigned c = 0; c < classes; ++c)
    if (!free_[c].empty()) depot_.give_batch(c, free_[c].data(), free_[c].size());
}

void* tcb_cache::take(unsigned cls) noexcept {
  auto& list = free_[cls];
  if (list.empty()) {
    void* batch[capacity / 2];
    std::size_t n = depot_.take_batch(cls, batch, capacity / 2);
    if (n == 0) return nullptr;
    try {
      list.insert(list.end(), batch, batch + n);
    } catch (...) {
      depot_.give_batch(cls, batch, n);
      return nullptr;
    }
  }
  void* p = list.back();
  list.pop_back();
  return p;
}

void tcb_cache::give(unsigned cls, void* p) noexcept {
  auto& list = free_[cls];
  if (list.size() >= capacity) {
    depot_.give_batch(cls, list.data(), capacity / 2);
    list.erase(list.begin(), list.begin() + capacity / 2);
  }
  try {
    list.push_back(p);
  } catch (...) {
    depot_.give(cls, p);
  }
}

}  // namespace weft::detail
