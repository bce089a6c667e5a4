// The keyspace: values of five types, split into shards by key hash, with
// Redis's lazy and active expiry.
//
// Why shards behind weft::mutex: commands run on the connections' green
// threads, spread over every worker, and most touch one key. One lock per
// shard lets commands on different keys run in parallel, and a
// weft::mutex parks only the green thread that waits (a std::mutex would
// block its whole worker and every green thread queued on it). Critical
// sections are a hash lookup and a small edit, so a shard is held for
// microseconds. A command on several keys (MSET, MGET, DEL, EXISTS) and a
// whole-keyspace one (KEYS, SCAN, DBSIZE, FLUSHALL) takes the shards it
// needs in index order, so two such commands can never deadlock, and MSET is
// atomic as in Redis.
//
// Expiry: a deadline per key, in steady-clock milliseconds (TTLs are
// relative, so the wall clock jumping must not expire or revive keys).
// Lazy: a lookup of an expired key deletes it and finds nothing. Active:
// expire_cycle samples keys that have a TTL, as Redis's activeExpireCycle
// does, so keys nobody reads again still go away.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "weft/mutex.hpp"

namespace kv {

// Hashing std::string keys and looking them up by std::string_view without
// building a string (C++20 heterogeneous lookup).
struct key_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
struct key_eq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

using string_set = std::unordered_set<std::string, key_hash, key_eq>;
using string_map = std::unordered_map<std::string, std::string, key_hash, key_eq>;

// A sorted set: members by score (then member, as Redis orders ties) and
// scores by member.
struct zset {
  std::map<std::pair<double, std::string>, std::monostate> by_score;
  std::unordered_map<std::string, double, key_hash, key_eq> scores;

  // Sets member's score; true if it is new. Throws std::bad_alloc only.
  bool set(std::string_view member, double score);
  // Removes the member; true if it was there. Throws nothing.
  bool erase(std::string_view member) noexcept;
  // Members. Throws nothing.
  std::size_t size() const noexcept { return scores.size(); }
};

enum class type { string, list, set, hash, zset };

// The Redis name of a type ("string", "list", ...). Throws nothing.
const char* type_name(type t) noexcept;

struct value {
  std::variant<std::string, std::deque<std::string>, string_set, string_map, zset> data;
  std::int64_t expire_at = 0;  // steady-clock ms; 0 = no TTL

  // Which of the five types it holds. Throws nothing.
  type kind() const noexcept { return static_cast<type>(data.index()); }
};

// Milliseconds on the steady clock, the time base of expire_at. Throws nothing.
std::int64_t now_ms() noexcept;

// One shard: a map and its lock. Every member but the lock needs `mu` held.
class shard {
 public:
  weft::mutex mu;

  // The live value of `key`, or nullptr; an expired one is deleted first.
  // Throws nothing.
  value* find(std::string_view key, std::int64_t now) noexcept;
  // The value of `key`, created empty (a string) when absent. Throws std::bad_alloc only.
  value& create(std::string_view key);
  // Deletes `key`; true if it was there (and live). Throws nothing.
  bool erase(std::string_view key, std::int64_t now) noexcept;
  // Sets (at > 0) or clears (at == 0) the deadline of the value at `key`.
  // Throws std::bad_alloc only.
  void set_expire(std::string_view key, value& v, std::int64_t at);
  // Deletes every key. Throws nothing.
  void clear() noexcept;
  // Keys, live or not yet collected. Throws nothing.
  std::size_t size() const noexcept { return map_.size(); }
  // Keys with a TTL. Throws nothing.
  std::size_t volatile_count() const noexcept { return volatile_.size(); }
  // Calls fn(key, value) for every live key. Throws what fn throws.
  template <class Fn>
  void for_each(std::int64_t now, Fn&& fn) const {
    for (const auto& [k, v] : map_)
      if (v.expire_at == 0 || v.expire_at > now) fn(k, v);
  }
  // Checks up to `sample` keys with a TTL, starting at a random bucket, and
  // deletes the expired ones; returns {checked, expired}. Throws nothing.
  std::pair<std::size_t, std::size_t> expire_sample(std::int64_t now, std::size_t sample, std::minstd_rand& rng) noexcept;

 private:
  std::unordered_map<std::string, value, key_hash, key_eq> map_;
  string_set volatile_;  // the keys with a TTL, what the active expiry samples
};

class store {
 public:
  // A store of `shards` shards, rounded up to a power of two (>= 1).
  // Throws std::bad_alloc only.
  explicit store(std::size_t shards = 64);

  // How many shards (a power of two). Throws nothing.
  std::size_t shard_count() const noexcept { return shards_.size(); }
  // The index of the shard that holds `key`. Throws nothing.
  std::size_t index_of(std::string_view key) const noexcept { return key_hash{}(key) & mask_; }
  // Shard i (< shard_count()). Throws nothing.
  shard& at(std::size_t i) noexcept { return *shards_[i]; }
  // The shard that holds `key`. Throws nothing.
  shard& shard_of(std::string_view key) noexcept { return at(index_of(key)); }

  // Locks the shards of `keys` (each once, in index order) and returns the
  // locks. Throws std::bad_alloc only.
  std::vector<std::unique_lock<weft::mutex>> lock_keys(const std::vector<std::string_view>& keys);
  // Locks every shard in index order. Throws std::bad_alloc only.
  std::vector<std::unique_lock<weft::mutex>> lock_all();

  // One round of active expiry over every shard, as Redis's cycle: sample
  // 20 keys with a TTL, delete the expired, sample again while more than a
  // quarter of the sample had expired -- but at most `rounds_per_shard`
  // times, so one call is bounded whatever the keyspace holds. Returns the
  // keys deleted. Throws nothing.
  std::size_t expire_cycle(std::size_t rounds_per_shard = 16) noexcept;

  // Keys expired so far (lazily or actively), for INFO. Throws nothing.
  std::uint64_t expired_keys() const noexcept;

 private:
  std::vector<std::unique_ptr<shard>> shards_;
  std::size_t mask_ = 0;
  std::minstd_rand rng_{0x5eed};
};

}  // namespace kv
