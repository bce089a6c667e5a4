// What the command files share: the table entry type, the registration
// functions each file provides, argument parsing with Redis's rules and its
// common error texts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "commands.hpp"
#include "resp.hpp"

namespace kv::cmd {

using args_t = std::vector<std::string_view>;
using handler = void (*)(context&, session&, const args_t&, std::string&);

struct command {
  const char* name;     // lower case
  int arity;            // Redis's: n = exactly n args with the name, -n = at least n
  handler fn;
  int first_key, last_key, step;  // key positions, as COMMAND reports them
  const char* flags;    // space-separated, as COMMAND reports them ("write denyoom")
  const char* group;    // as COMMAND DOCS reports it ("string", "list", ...)
  const char* summary;  // likewise
};

using table = std::unordered_map<std::string_view, command>;

// Each adds its file's commands to the table. Throw std::bad_alloc only.
void add_server_commands(table& t);
void add_key_commands(table& t);
void add_string_commands(table& t);
void add_list_commands(table& t);
void add_set_commands(table& t);
void add_hash_commands(table& t);
void add_zset_commands(table& t);
void add_pubsub_commands(table& t);
// The whole table, built once. Throws std::bad_alloc only (the first time).
const table& commands();

inline constexpr std::string_view wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view not_integer = "ERR value is not an integer or out of range";
inline constexpr std::string_view not_float = "ERR value is not a valid float";
inline constexpr std::string_view syntax = "ERR syntax error";

// An integer as Redis's string2ll reads it: optional '-', digits, no
// leading zeros or blanks, within long long. Throws nothing.
bool parse_ll(std::string_view s, long long& out) noexcept;
// A double as Redis reads a score: strtod over the whole string, "inf"
// allowed, NaN refused. Throws nothing.
bool parse_double(std::string_view s, double& out) noexcept;
// ASCII case-insensitive equality with a lower-case word. Throws nothing.
bool is(std::string_view arg, std::string_view lower) noexcept;
// Redis's "wrong number of arguments for 'x' command". Throws std::bad_alloc only.
void arity_error(std::string& out, std::string_view name);
// LRANGE/ZRANGE index normalisation: negative from the end, clamped;
// false when the range is empty. Throws nothing.
bool normalize_range(long long& start, long long& stop, long long size) noexcept;

}  // namespace kv::cmd

namespace kv::cmd {

// The value of type T at `key` in `sh` (locked): nullptr when absent and
// `create` is false; a new empty T when absent and `create` is true. For a
// key of another type, writes WRONGTYPE to `out`, sets `wrong` and returns
// nullptr. Throws std::bad_alloc only.
template <class T>
T* typed(shard& sh, std::string_view key, bool create, std::string& out, bool& wrong) {
  wrong = false;
  value* v = sh.find(key, now_ms());
  if (!v) {
    if (!create) return nullptr;
    v = &sh.create(key);
    v->data = T{};
  } else if (!std::holds_alternative<T>(v->data)) {
    resp::error(out, wrongtype);
    wrong = true;
    return nullptr;
  }
  return &std::get<T>(v->data);
}

// Deletes `key` if its collection became empty: Redis never keeps an empty
// list, set, hash or sorted set. Throws nothing.
template <class T>
void drop_if_empty(shard& sh, std::string_view key, const T& c) noexcept {
  if (c.empty()) sh.erase(key, now_ms());
}

// An optional COUNT argument of the pop commands: false (error written) if
// it is not a non-negative integer. Throws std::bad_alloc only.
inline bool pop_count(std::string_view s, long long& n, std::string& out) {
  if (!parse_ll(s, n) || n < 0) {
    resp::error(out, "ERR value is out of range, must be positive");
    return false;
  }
  return true;
}

}  // namespace kv::cmd
