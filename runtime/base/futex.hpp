// Thin futex wrappers: how a kernel thread (an idle worker, or a foreign
// thread waiting on a weft primitive) sleeps on a 32-bit word.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

// Sleeps while *word == expected, until woken or until deadline_ns (steady
// clock; < 0 means no deadline). Spurious returns are allowed.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::int64_t deadline_ns) noexcept;

// Wakes up to n sleepers on word. Safe on an address whose owner may already
// have returned: the kernel only looks the address up.
void futex_wake(std::atomic<std::uint32_t>& word, int n = 1) noexcept;

}  // namespace weft::detail
