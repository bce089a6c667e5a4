// Storage of the one wait queue every blocking primitive embeds. The
// operations live in the runtime (runtime/park.hpp); primitives only need
// the layout here so they can hold a queue by value.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

struct waiter;

struct wait_queue {
  std::atomic<std::uint32_t> lock{0};
  waiter* head = nullptr;
  waiter* tail = nullptr;
};

}  // namespace weft::detail
