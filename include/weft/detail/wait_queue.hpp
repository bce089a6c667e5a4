// Storage of the one wait queue every blocking primitive embeds. The
// operations live in the runtime (runtime/park.hpp); primitives only need
// the layout here so they can hold a queue by value.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

struct waiter;

struct wait_queue {
  // Bit 0 locks the queue; the other bits belong to the primitive that
  // embeds it (mutex and semaphore keep their state there, so one store
  // both publishes the state and releases the queue). 64 bits cost nothing:
  // the word shares its 8-byte slot with padding either way.
  static constexpr std::uint64_t lock_bit = 1;
  std::atomic<std::uint64_t> lock{0};
  waiter* head = nullptr;
  waiter* tail = nullptr;
};

}  // namespace weft::detail
