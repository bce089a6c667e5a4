// Set commands: SADD SREM SMEMBERS SISMEMBER SCARD SPOP.
#include <atomic>
#include <mutex>
#include <random>

#include "cmd_util.hpp"

namespace kv::cmd {
namespace {

void sadd(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_set* s = typed<string_set>(sh, a[1], true, out, wrong);
  if (wrong) return;
  long long added = 0;
  for (std::size_t i = 2; i < a.size(); ++i) added += s->emplace(a[i]).second;
  resp::integer(out, added);
}

void srem(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_set* s = typed<string_set>(sh, a[1], false, out, wrong);
  if (wrong) return;
  long long removed = 0;
  if (s) {
    for (std::size_t i = 2; i < a.size(); ++i)
      if (auto it = s->find(a[i]); it != s->end()) {
        s->erase(it);
        ++removed;
      }
    drop_if_empty(sh, a[1], *s);
  }
  resp::integer(out, removed);
}

void smembers(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_set* s = typed<string_set>(sh, a[1], false, out, wrong);
  if (wrong) return;
  resp::array(out, s ? s->size() : 0);
  if (s)
    for (auto& m : *s) resp::bulk(out, m);
}

void sismember(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_set* s = typed<string_set>(sh, a[1], false, out, wrong);
  if (!wrong) resp::integer(out, s && s->find(a[2]) != s->end());
}

void scard(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_set* s = typed<string_set>(sh, a[1], false, out, wrong);
  if (!wrong) resp::integer(out, s ? static_cast<long long>(s->size()) : 0);
}

// SPOP key [count]: random members, taken from a random bucket on
// (uniform enough for a cache; Redis's own pick is not uniform either).
void spop(context& c, session&, const args_t& a, std::string& out) {
  if (a.size() > 3) return resp::error(out, syntax);
  long long count = 1;
  if (a.size() == 3 && !pop_count(a[2], count, out)) return;
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_set* s = typed<string_set>(sh, a[1], false, out, wrong);
  if (wrong) return;
  if (!s) return a.size() == 3 ? resp::array(out, 0) : resp::null_bulk(out);
  // Not thread_local: a green thread may move to another worker at any
  // park, and the compiler may keep a thread_local's address across it.
  static std::atomic<std::uint32_t> seed{0x9e3779b9u};
  std::minstd_rand rng{seed.fetch_add(0x9e3779b9u, std::memory_order_relaxed)};
  std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(count), s->size());
  if (a.size() == 3) resp::array(out, n);
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t b = rng() % s->bucket_count();
    while (s->bucket_size(b) == 0) b = (b + 1) % s->bucket_count();
    auto it = s->find(*s->begin(b));
    resp::bulk(out, *it);
    s->erase(it);
  }
  // Keeps the bucket walk above short once a big set has shrunk.
  if (s->size() * 8 < s->bucket_count()) s->rehash(0);
  drop_if_empty(sh, a[1], *s);
}

}  // namespace

void add_set_commands(table& t) {
  auto add = [&](command c) { t.emplace(c.name, c); };
  add({"sadd", -3, sadd, 1, 1, 1, "write denyoom fast", "set", "Add one or more members to a set"});
  add({"srem", -3, srem, 1, 1, 1, "write fast", "set", "Remove one or more members from a set"});
  add({"smembers", 2, smembers, 1, 1, 1, "readonly", "set", "Get all the members in a set"});
  add({"sismember", 3, sismember, 1, 1, 1, "readonly fast", "set", "Determine if a given value is a member of a set"});
  add({"scard", 2, scard, 1, 1, 1, "readonly fast", "set", "Get the number of members in a set"});
  add({"spop", -2, spop, 1, 1, 1, "write fast", "set", "Remove and return one or multiple random members from a set"});
}

}  // namespace kv::cmd
