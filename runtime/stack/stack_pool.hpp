// Layer 2: stacks.
//
// Every green thread gets a stack when it first runs (a thread in state
// `created` has none) and gives it back the moment it ends, so a worker that
// spawns and finishes threads in a loop keeps reusing the same few, already
// faulted-in stacks.
//
// Guard pages versus the map budget. A stack with a PROT_NONE guard page
// costs two kernel mappings, and a stock kernel allows 65530 per process
// (vm.max_map_count), so guards alone would cap a process near 32k threads.
// weft gives guard pages to stacks while a budget derived from that limit
// lasts (half of what is free at start-up, leaving room for the program's own
// mappings) and carves further stacks out of unguarded 32 MiB slabs (one
// mapping each). Those carry a canary instead: their lowest 64 bytes must stay
// zero, and the scheduler checks them and the saved stack pointer every time
// the thread switches out. The switch to canaries is announced once, as a
// warning (base/log.hpp: stderr unless the user routes it elsewhere).
// A guard catches an overflow at the faulting instruction; a canary catches
// it at the next switch, unless a single frame jumped over the whole zone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace weft::detail {

struct stack {
  char* lo = nullptr;        // lowest usable byte (just above the guard page, if any)
  std::uint32_t size = 0;    // usable bytes (stacks are at most 1 GiB)
  bool guarded = false;      // has a PROT_NONE page below lo
  bool from_slab = false;    // carved from a slab: never unmapped on its own
  explicit operator bool() const noexcept { return lo != nullptr; }
};

inline constexpr std::size_t canary_bytes = 64;

class stack_pool {
 public:
  // default_size is rounded up to whole pages; max_guarded 0 = derive from vm.max_map_count.
  stack_pool(std::size_t default_size, std::size_t max_guarded);
  ~stack_pool();
  stack_pool(const stack_pool&) = delete;
  stack_pool& operator=(const stack_pool&) = delete;

  // Takes a stack of at least `size` bytes (0 = default); an empty stack if memory or mappings ran out.
  stack take(std::size_t size) noexcept;
  // Returns a stack for reuse.
  void give(stack s) noexcept;

  // Takes/gives up to n default-size stacks in one lock round (workers' caches).
  std::size_t take_batch(stack* out, std::size_t n) noexcept;
  void give_batch(const stack* in, std::size_t n) noexcept;

  std::size_t default_size() const noexcept { return default_size_; }

  // True if the canary zone of an unguarded stack is intact.
  static bool canary_intact(const stack& s) noexcept;

 private:
  // take()'s work under mu_; sets announce to the guarded count when the budget first runs out.
  stack take_locked(std::size_t size, std::size_t& announce) noexcept;
  stack map_guarded(std::size_t size) noexcept;
  bool refill_from_slab() noexcept;  // needs mu_
  static void unmap(void* p, std::size_t n) noexcept;  // munmap, clearing ASan's shadow first
  void unmap_stack(const stack& s) noexcept;

  std::size_t page_;
  std::size_t default_size_;
  std::size_t guard_budget_;
  std::mutex mu_;
  std::size_t guarded_mapped_ = 0;
  bool warned_ = false;
  std::vector<stack> free_default_;   // LIFO: the most recently used stack is the warmest
  std::vector<stack> free_other_;     // other sizes, guarded, first fit
  std::vector<std::pair<char*, std::size_t>> slabs_;
};

// A per-worker LIFO cache in front of the shared pool: no lock on the
// spawn/exit path while the cache has stacks.
class stack_cache {
 public:
  explicit stack_cache(stack_pool& pool) : pool_(pool) {}
  ~stack_cache();
  stack take(std::size_t size) noexcept;
  void give(stack s) noexcept;

 private:
  // 32 stacks: enough to absorb a burst of spawn/exit on one worker; the
  // batch moves half so a worker does not bounce on the boundary.
  static constexpr std::size_t capacity = 32;
  stack_pool& pool_;
  stack items_[capacity];
  std::size_t n_ = 0;
};

}  // namespace weft::detail
