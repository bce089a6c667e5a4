#include "stack/stack_pool.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>

#include <sys/mman.h>
#include <unistd.h>

#include "base/log.hpp"
#include "base/sanitizer.hpp"

namespace weft::detail {
namespace {

std::size_t read_max_map_count() {
  std::ifstream f("/proc/sys/vm/max_map_count");
  std::size_t n = 65530;
  if (f) f >> n;
  return n;
}

std::size_t count_current_maps() {
  std::ifstream f("/proc/self/maps");
  std::size_t n = 0;
  std::string line;
  while (std::getline(f, line)) ++n;
  return n;
}

// Stacks per slab past the guard budget: 32 MiB of address space (512 default
// stacks), at least 64. Each slab spends one page on its first stack's canary
// (refill_from_slab), 8 bytes per thread at 512.
std::size_t stacks_per_slab(std::size_t stack_size) {
  return std::clamp<std::size_t>((std::size_t{32} << 20) / stack_size, 64, 512);
}
// Mappings kept free for the program itself (its heap arenas, files, rings).
constexpr std::size_t reserved_maps = 8192;

}  // namespace

stack_pool::stack_pool(std::size_t default_size, std::size_t max_guarded)
    : page_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))) {
  if (default_size < 4 * page_) default_size = 4 * page_;
  default_size_ = (default_size + page_ - 1) / page_ * page_;
  std::size_t limit = read_max_map_count();
  std::size_t used = count_current_maps();
  std::size_t free_maps = limit > used + reserved_maps ? limit - used - reserved_maps : 0;
  guard_budget_ = free_maps / 4;  // half of the free maps, two maps per guarded stack
  if (max_guarded != 0) guard_budget_ = std::min(guard_budget_, max_guarded);
  WEFT_LOG_DEBUG("stack", "stacks: %zu bytes by default, guard pages for up to %zu (vm.max_map_count %zu, %zu maps in use)",
                 default_size_, guard_budget_, limit, used);
}

void stack_pool::unmap(void* p, std::size_t n) noexcept {
#ifdef WEFT_ASAN
  // ASan keeps the shadow of stack frames that never returned (a thread's
  // frames when it ended); a later mapping at the same address (another
  // stack, an io_uring ring) would inherit that poison. Clear it with the memory.
  __asan_unpoison_memory_region(p, n);
#endif
  munmap(p, n);
}

void stack_pool::unmap_stack(const stack& s) noexcept {
  unmap(s.lo - (s.guarded ? page_ : 0), s.size + (s.guarded ? page_ : 0));
}

stack_pool::~stack_pool() {
  for (auto& s : free_default_)
    if (!s.from_slab) unmap_stack(s);
  for (auto& s : free_other_)
    if (!s.from_slab) unmap_stack(s);
  for (auto& [p, n] : slabs_) unmap(p, n);
}

stack stack_pool::map_guarded(std::size_t size) noexcept {
  std::size_t total = size + page_;
  // MAP_NORESERVE: a 64 KiB stack of which a thread touches one page must not
  // count 64 KiB against the overcommit limit.
  void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) return {};
  if (mprotect(p, page_, PROT_NONE) != 0) {
    unmap(p, total);
    return {};
  }
  ++guarded_mapped_;
  return stack{static_cast<char*>(p) + page_, static_cast<std::uint32_t>(size), true, false};
}

bool stack_pool::refill_from_slab() noexcept {
  // The stacks sit canary_bytes below page boundaries, so a stack's canary
  // (its lowest bytes) shares a page with the top of the stack below it,
  // a page that thread touches anyway. Page-aligned stacks put each canary
  // alone on the bottom page, and reading it at every switch faults that
  // page in: some kernels (seen on 6.18) back a read fault of anonymous
  // memory with a fresh page rather than the shared zero page, which made
  // every unguarded thread cost two pages. The first stack's canary takes
  // the slab's extra leading page.
  std::size_t n = stacks_per_slab(default_size_);
  std::size_t bytes = default_size_ * n + page_;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  slabs_.emplace_back(static_cast<char*>(p), bytes);
  char* first = static_cast<char*>(p) + page_ - canary_bytes;
  // Pushed highest first so the LIFO hands out ascending addresses.
  for (std::size_t i = n; i-- > 0;)
    free_default_.push_back(stack{first + i * default_size_, static_cast<std::uint32_t>(default_size_), false, true});
  return true;
}

stack stack_pool::take(std::size_t size) noexcept {
  size = size == 0 ? default_size_ : (size + page_ - 1) / page_ * page_;
  std::size_t announce = 0;  // the guarded count, once the budget first ran out
  stack s = take_locked(size, announce);
  // Logged after mu_ is released: the handler is user code.
  if (announce)
    WEFT_LOG_WARN("stack",
                  "%zu guarded stacks in use (vm.max_map_count budget); further stacks are "
                  "canary-checked instead of guard-paged",
                  announce);
  return s;
}

stack stack_pool::take_locked(std::size_t size, std::size_t& announce) noexcept {
  std::lock_guard lk(mu_);
  if (size == default_size_) {
    if (free_default_.empty()) {
      if (guarded_mapped_ < guard_budget_) return map_guarded(size);
      if (!warned_) {
        warned_ = true;
        announce = guarded_mapped_;
      }
      if (!refill_from_slab()) return {};
    }
    stack s = free_default_.back();
    free_default_.pop_back();
    return s;
  }
  auto it = std::find_if(free_other_.begin(), free_other_.end(), [&](const stack& s) { return s.size == size; });
  if (it != free_other_.end()) {
    stack s = *it;
    free_other_.erase(it);
    return s;
  }
  if (guarded_mapped_ < guard_budget_) return map_guarded(size);
  // Odd sizes past the budget: a lone unguarded mapping with a canary.
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return {};
  return stack{static_cast<char*>(p), static_cast<std::uint32_t>(size), false, false};
}

void stack_pool::give(stack s) noexcept {
  if (!s) return;
  std::lock_guard lk(mu_);
  if (s.size == default_size_) {
    free_default_.push_back(s);
    return;
  }
  // Odd sizes are rare; keep a handful and unmap the rest.
  if (free_other_.size() < 64) {
    free_other_.push_back(s);
    return;
  }
  if (s.guarded) --guarded_mapped_;
  unmap_stack(s);
}

std::size_t stack_pool::take_batch(stack* out, std::size_t n) noexcept {
  std::size_t got = 0;
  for (; got < n; ++got) {
    {
      std::lock_guard lk(mu_);
      if (!free_default_.empty()) {
        out[got] = free_default_.back();
        free_default_.pop_back();
        continue;
      }
    }
    // Pool empty: map one (guarded while the budget lasts) and stop batching.
    out[got] = take(0);
    if (!out[got]) break;
    return got + 1;
  }
  return got;
}

void stack_pool::give_batch(const stack* in, std::size_t n) noexcept {
  std::lock_guard lk(mu_);
  for (std::size_t i = 0; i < n; ++i) free_default_.push_back(in[i]);
}

bool stack_pool::canary_intact(const stack& s) noexcept {
  // Fresh anonymous pages read as zero. A slab stack's canary lies in the
  // page of the stack below's top (refill_from_slab), so reading it costs no
  // page of its own; a lone odd-size stack pays one page for its check.
  static const char zeros[canary_bytes] = {};
  return std::memcmp(s.lo, zeros, canary_bytes) == 0;
}

stack_cache::~stack_cache() { pool_.give_batch(items_, n_); }

stack stack_cache::take(std::size_t size) noexcept {
  if (size != 0 && size != pool_.default_size()) return pool_.take(size);
  if (n_ == 0) n_ = pool_.take_batch(items_, capacity / 2);
  if (n_ == 0) return {};
  return items_[--n_];
}

void stack_cache::give(stack s) noexcept {
  if (s.size != pool_.default_size()) {
    pool_.give(s);
    return;
  }
  if (n_ == capacity) {
    pool_.give_batch(items_, capacity / 2);
    std::memmove(items_, items_ + capacity / 2, (capacity - capacity / 2) * sizeof(stack));
    n_ -= capacity / 2;
  }
  items_[n_++] = s;
}

}  // namespace weft::detail

