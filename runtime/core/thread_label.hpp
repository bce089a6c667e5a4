// How every message names a green thread: "green thread 42", or
// "green thread 42 'worker'" when it has a name. One place, so that errors,
// the uncaught-exception report and the stack overflow report agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/tcb.hpp"

namespace weft::detail {

// Writes the label of thread `id` named `name` (null or empty: unnamed) into
// buf, truncated to cap - 1 characters and NUL-terminated; returns its length.
// Async-signal-safe (the overflow handler uses it): no allocation, no locale.
inline std::size_t thread_label(char* buf, std::size_t cap, thread_id id, const char* name) noexcept {
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

// The label of t (see above); async-signal-safe.
inline std::size_t thread_label(char* buf, std::size_t cap, const tcb* t) noexcept {
  return thread_label(buf, cap, t->id, t->name_or_empty());
}

// The label of thread `id` named `name` as a string, for exception messages.
inline std::string thread_label(thread_id id, const char* name) {
  std::size_t len = name ? std::char_traits<char>::length(name) : 0;
  std::string s(13 + 20 + 3 + len + 1, '\0');
  s.resize(thread_label(s.data(), s.size(), id, name));
  return s;
}

// The label of t as a string.
inline std::string thread_label(const tcb* t) { return thread_label(t->id, t->name_or_empty()); }

}  // namespace weft::detail
