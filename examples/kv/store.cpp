#include "store.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>

namespace kv {

namespace {
// Keys expired, for INFO's expired_keys; relaxed, it is a statistic.
std::atomic<std::uint64_t> expired_total{0};
}  // namespace

bool zset::set(std::string_view member, double score) {
  auto it = scores.find(member);
  if (it != scores.end()) {
    if (it->second == score) return false;
    by_score.erase({it->second, it->first});
    it->second = score;
    by_score.emplace(std::pair{score, it->first}, std::monostate{});
    return false;
  }
  std::string m(member);
  by_score.emplace(std::pair{score, m}, std::monostate{});
  scores.emplace(std::move(m), score);
  return true;
}

bool zset::erase(std::string_view member) noexcept {
  auto it = scores.find(member);
  if (it == scores.end()) return false;
  by_score.erase({it->second, it->first});
  scores.erase(it);
  return true;
}

const char* type_name(type t) noexcept {
  switch (t) {
    case type::string: return "string";
    case type::list: return "list";
    case type::set: return "set";
    case type::hash: return "hash";
    case type::zset: return "zset";
  }
  return "none";
}

std::int64_t now_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

value* shard::find(std::string_view key, std::int64_t now) noexcept {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  if (it->second.expire_at != 0 && it->second.expire_at <= now) {
    volatile_.erase(it->first);
    map_.erase(it);
    expired_total.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  return &it->second;
}

value& shard::create(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) it = map_.emplace(std::string(key), value{}).first;
  return it->second;
}

bool shard::erase(std::string_view key, std::int64_t now) noexcept {
  if (!find(key, now)) return false;
  auto it = map_.find(key);
  if (it->second.expire_at != 0) volatile_.erase(it->first);
  map_.erase(it);
  return true;
}

void shard::set_expire(std::string_view key, value& v, std::int64_t at) {
  if (at == 0) {
    if (v.expire_at != 0) volatile_.erase(volatile_.find(key));
  } else if (v.expire_at == 0) {
    volatile_.emplace(key);
  }
  v.expire_at = at;
}

void shard::clear() noexcept {
  map_.clear();
  volatile_.clear();
}

std::pair<std::size_t, std::size_t> shard::expire_sample(std::int64_t now, std::size_t sample,
                                                        std::minstd_rand& rng) noexcept {
  std::size_t checked = 0, expired = 0;
  if (volatile_.empty()) return {0, 0};
  // Buckets from a random one on, at most 20 empty ones per key wanted
  // (Redis bounds its walk the same way), so a sparse table costs little.
  std::size_t buckets = volatile_.bucket_count();
  std::size_t b = rng() % buckets;
  std::vector<std::string_view> doomed;
  for (std::size_t visited = 0; visited < buckets && visited < sample * 20 && checked < sample; ++visited) {
    for (auto it = volatile_.begin(b); it != volatile_.end(b) && checked < sample; ++it) {
      ++checked;
      auto v = map_.find(*it);
      if (v != map_.end() && v->second.expire_at <= now) doomed.push_back(*it);
    }
    b = (b + 1) % buckets;
  }
  for (std::string_view k : doomed) {
    // find() deletes it: it is expired.
    find(k, now);
    ++expired;
  }
  return {checked, expired};
}

store::store(std::size_t shards) {
  std::size_t n = 1;
  while (n < shards) n <<= 1;
  mask_ = n - 1;
  shards_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<shard>());
}

std::vector<std::unique_lock<weft::mutex>> store::lock_keys(const std::vector<std::string_view>& keys) {
  std::vector<std::size_t> idx;
  idx.reserve(keys.size());
  for (auto k : keys) idx.push_back(index_of(k));
  std::sort(idx.begin(), idx.end());
  idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
  std::vector<std::unique_lock<weft::mutex>> locks;
  locks.reserve(idx.size());
  for (std::size_t i : idx) locks.emplace_back(shards_[i]->mu);
  return locks;
}

std::vector<std::unique_lock<weft::mutex>> store::lock_all() {
  std::vector<std::unique_lock<weft::mutex>> locks;
  locks.reserve(shards_.size());
  for (auto& s : shards_) locks.emplace_back(s->mu);
  return locks;
}

std::size_t store::expire_cycle(std::size_t rounds_per_shard) noexcept {
  std::size_t total = 0;
  std::int64_t now = now_ms();
  for (auto& s : shards_) {
    std::lock_guard lk(s->mu);
    for (std::size_t r = 0; r < rounds_per_shard; ++r) {
      auto [checked, expired] = s->expire_sample(now, 20, rng_);
      total += expired;
      if (checked == 0 || expired * 4 <= checked) break;
    }
  }
  return total;
}

std::uint64_t store::expired_keys() const noexcept { return expired_total.load(std::memory_order_relaxed); }

}  // namespace kv
