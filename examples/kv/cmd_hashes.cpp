// Hash commands: HSET HGET HDEL HGETALL HLEN HINCRBY.
#include <charconv>
#include <mutex>

#include "cmd_util.hpp"

namespace kv::cmd {
namespace {

void hset(context& c, session&, const args_t& a, std::string& out) {
  if (a.size() % 2 != 0) return arity_error(out, "hset");
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_map* h = typed<string_map>(sh, a[1], true, out, wrong);
  if (wrong) return;
  long long added = 0;
  for (std::size_t i = 2; i < a.size(); i += 2) {
    auto it = h->find(a[i]);
    if (it == h->end()) {
      h->emplace(std::string(a[i]), std::string(a[i + 1]));
      ++added;
    } else {
      it->second = a[i + 1];
    }
  }
  resp::integer(out, added);
}

void hget(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_map* h = typed<string_map>(sh, a[1], false, out, wrong);
  if (wrong) return;
  auto it = h ? h->find(a[2]) : string_map::iterator{};
  if (!h || it == h->end()) return resp::null_bulk(out);
  resp::bulk(out, it->second);
}

void hdel(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_map* h = typed<string_map>(sh, a[1], false, out, wrong);
  if (wrong) return;
  long long removed = 0;
  if (h) {
    for (std::size_t i = 2; i < a.size(); ++i)
      if (auto it = h->find(a[i]); it != h->end()) {
        h->erase(it);
        ++removed;
      }
    drop_if_empty(sh, a[1], *h);
  }
  resp::integer(out, removed);
}

void hgetall(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_map* h = typed<string_map>(sh, a[1], false, out, wrong);
  if (wrong) return;
  resp::array(out, h ? h->size() * 2 : 0);
  if (h)
    for (auto& [f, v] : *h) {
      resp::bulk(out, f);
      resp::bulk(out, v);
    }
}

void hlen(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_map* h = typed<string_map>(sh, a[1], false, out, wrong);
  if (!wrong) resp::integer(out, h ? static_cast<long long>(h->size()) : 0);
}

void hincrby(context& c, session&, const args_t& a, std::string& out) {
  long long by = 0;
  if (!parse_ll(a[3], by)) return resp::error(out, not_integer);
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  string_map* h = typed<string_map>(sh, a[1], true, out, wrong);
  if (wrong) return;
  auto it = h->find(a[2]);
  long long cur = 0;
  if (it != h->end() && !parse_ll(it->second, cur)) return resp::error(out, "ERR hash value is not an integer");
  long long next = 0;
  if (__builtin_add_overflow(cur, by, &next)) {
    drop_if_empty(sh, a[1], *h);  // do not leave the hash created for nothing
    return resp::error(out, "ERR increment or decrement would overflow");
  }
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, next);
  if (it == h->end()) h->emplace(std::string(a[2]), std::string(buf, r.ptr));
  else it->second.assign(buf, r.ptr);
  resp::integer(out, next);
}

}  // namespace

void add_hash_commands(table& t) {
  auto add = [&](command c) { t.emplace(c.name, c); };
  add({"hset", -4, hset, 1, 1, 1, "write denyoom fast", "hash", "Set the string value of a hash field"});
  add({"hget", 3, hget, 1, 1, 1, "readonly fast", "hash", "Get the value of a hash field"});
  add({"hdel", -3, hdel, 1, 1, 1, "write fast", "hash", "Delete one or more hash fields"});
  add({"hgetall", 2, hgetall, 1, 1, 1, "readonly", "hash", "Get all the fields and values in a hash"});
  add({"hlen", 2, hlen, 1, 1, 1, "readonly fast", "hash", "Get the number of fields in a hash"});
  add({"hincrby", 4, hincrby, 1, 1, 1, "write denyoom fast", "hash", "Increment the integer value of a hash field by the given number"});
}

}  // namespace kv::cmd
