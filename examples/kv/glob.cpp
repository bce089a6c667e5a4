#include "glob.hpp"

#include <utility>

namespace kv {

namespace {
// Whether the one-character token at p[i] ('?', a [class], an escaped or a
// plain character) matches c; sets `len` to the token's length.
bool token_matches(std::string_view p, std::size_t i, char c, std::size_t& len) noexcept {
  if (p[i] == '?') {
    len = 1;
    return true;
  }
  if (p[i] == '\\' && i + 1 < p.size()) {
    len = 2;
    return p[i + 1] == c;
  }
  if (p[i] != '[') {
    len = 1;
    return p[i] == c;
  }
  std::size_t j = i + 1;
  bool negate = j < p.size() && p[j] == '^';
  if (negate) ++j;
  bool hit = false;
  while (j < p.size() && p[j] != ']') {
    if (p[j] == '\\' && j + 1 < p.size()) {
      if (p[j + 1] == c) hit = true;
      j += 2;
    } else if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
      char lo = p[j], hi = p[j + 2];
      if (lo > hi) std::swap(lo, hi);
      if (c >= lo && c <= hi) hit = true;
      j += 3;
    } else {
      if (p[j] == c) hit = true;
      ++j;
    }
  }
  len = (j < p.size() ? j + 1 : j) - i;
  return hit != negate;
}
}  // namespace

// The classic single-backtrack wildcard match: every token but '*' eats
// exactly one character, so on a mismatch only the last star needs to eat
// one more. O(pattern * string) at worst, where naive recursion at each
// star is exponential -- KEYS and PSUBSCRIBE patterns come from clients.
bool glob_match(std::string_view p, std::string_view s) noexcept {
  std::size_t pi = 0, si = 0;
  std::size_t star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    std::size_t len = 0;
    if (pi < p.size() && p[pi] == '*') {
      star_p = ++pi;
      star_s = si;
    } else if (pi < p.size() && token_matches(p, pi, s[si], len)) {
      pi += len;
      ++si;
    } else if (star_p != std::string_view::npos) {
      pi = star_p;
      si = ++star_s;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace kv
