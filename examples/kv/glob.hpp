// Redis's glob patterns (stringmatchlen): * ? [abc] [^a-z] and \ escapes.
// Used by KEYS, SCAN MATCH, CONFIG GET and PSUBSCRIBE.
#pragma once

#include <string_view>

namespace kv {

// True if `s` matches `pattern` as Redis's KEYS would match it. Throws nothing.
bool glob_match(std::string_view pattern, std::string_view s) noexcept;

}  // namespace kv
