// The label of a green thread (base/thread_label.hpp) for a TCB, and as a
// std::string for exception messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/thread_label.hpp"
#include "core/tcb.hpp"

namespace weft::detail {

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
