// How every message names a green thread: "green thread 42", or
// "green thread 42 'worker'" when it has a name. The async-signal-safe
// writer lives here, below every layer, so that the stack layer's overflow
// report and the core's errors and fatal reports agree; core/thread_label.hpp
// adds the TCB and std::string forms.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weft::detail {

// Writes the label of thread `id` named `name` (null or empty: unnamed) into
// buf, truncated to cap - 1 characters and NUL-terminated; returns its length.
// Async-signal-safe (the overflow handler uses it): no allocation, no locale.
inline std::size_t thread_label(char* buf, std::size_t cap, std::uint64_t id, const char* name) noexcept {
  if (cap == 0) return 0;
  std::size_t n = 0;
  auto put = [&](char c) {
    if (n + 1 < cap) buf[n++] = c;
  };
  for (const char* p = "green thread "; *p; ++p) put(*p);
  char digits[24];
  int k = 0;
  do {
    digits[k++] = static_cast<char>('0' + id % 10);
    id /= 10;
  } while (id);
  while (k) put(digits[--k]);
  if (name && *name) {
    put(' ');
    put('\'');
    for (const char* p = name; *p; ++p) put(*p);
    put('\'');
  }
  buf[n] = '\0';
  return n;
}

}  // namespace weft::detail
