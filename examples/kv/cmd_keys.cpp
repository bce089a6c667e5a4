// Commands on keys whatever their type: DEL EXISTS EXPIRE PEXPIRE TTL PTTL
// PERSIST TYPE KEYS SCAN.
#include <mutex>

#include "cmd_util.hpp"
#include "glob.hpp"

namespace kv::cmd {
namespace {

void del_or_exists(context& c, const args_t& a, std::string& out, bool del) {
  std::vector<std::string_view> keys(a.begin() + 1, a.end());
  auto locks = c.db.lock_keys(keys);
  std::int64_t now = now_ms();
  long long n = 0;
  for (auto k : keys) n += del ? c.db.shard_of(k).erase(k, now) : c.db.shard_of(k).find(k, now) != nullptr;
  resp::integer(out, n);
}
void del(context& c, session&, const args_t& a, std::string& out) { del_or_exists(c, a, out, true); }
void exists(context& c, session&, const args_t& a, std::string& out) { del_or_exists(c, a, out, false); }

// EXPIRE/PEXPIRE key time [NX|XX|GT|LT]
void expire_in(context& c, const args_t& a, std::string& out, long long unit_ms, const char* name) {
  long long t = 0;
  if (!parse_ll(a[2], t)) return resp::error(out, not_integer);
  bool nx = false, xx = false, gt = false, lt = false;
  for (std::size_t i = 3; i < a.size(); ++i) {
    if (is(a[i], "nx")) nx = true;
    else if (is(a[i], "xx")) xx = true;
    else if (is(a[i], "gt")) gt = true;
    else if (is(a[i], "lt")) lt = true;
    else return resp::error(out, "ERR Unsupported option " + std::string(a[i]));
  }
  if (nx && (xx || gt || lt))
    return resp::error(out, "ERR NX and XX, GT or LT options at the same time are not compatible");
  if (gt && lt) return resp::error(out, "ERR GT and LT options at the same time are not compatible");
  std::int64_t now = now_ms();
  if ((t > 0 && t > (INT64_MAX - now) / unit_ms) || (t < 0 && t < INT64_MIN / 2 / unit_ms))
    return resp::error(out, std::string("ERR invalid expire time in '") + name + "' command");
  std::int64_t at = now + t * unit_ms;
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  value* v = sh.find(a[1], now);
  if (!v) return resp::integer(out, 0);
  // A missing TTL counts as infinite for GT and LT, as in Redis.
  std::int64_t cur = v->expire_at;
  if ((nx && cur != 0) || (xx && cur == 0) || (gt && (cur == 0 || at <= cur)) || (lt && cur != 0 && at >= cur))
    return resp::integer(out, 0);
  if (at <= now) {
    sh.erase(a[1], now);  // a time in the past deletes the key
  } else {
    sh.set_expire(a[1], *v, at);
  }
  resp::integer(out, 1);
}
void expire(context& c, session&, const args_t& a, std::string& out) { expire_in(c, a, out, 1000, "expire"); }
void pexpire(context& c, session&, const args_t& a, std::string& out) { expire_in(c, a, out, 1, "pexpire"); }

void ttl_in(context& c, const args_t& a, std::string& out, bool ms) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  std::int64_t now = now_ms();
  value* v = sh.find(a[1], now);
  if (!v) return resp::integer(out, -2);
  if (v->expire_at == 0) return resp::integer(out, -1);
  std::int64_t left = v->expire_at - now;
  resp::integer(out, ms ? left : (left + 500) / 1000);
}
void ttl(context& c, session&, const args_t& a, std::string& out) { ttl_in(c, a, out, false); }
void pttl(context& c, session&, const args_t& a, std::string& out) { ttl_in(c, a, out, true); }

void persist(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  value* v = sh.find(a[1], now_ms());
  if (!v || v->expire_at == 0) return resp::integer(out, 0);
  sh.set_expire(a[1], *v, 0);
  resp::integer(out, 1);
}

void type_cmd(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  value* v = sh.find(a[1], now_ms());
  resp::simple(out, v ? type_name(v->kind()) : "none");
}

void keys(context& c, session&, const args_t& a, std::string& out) {
  std::vector<std::string> hits;
  {
    auto locks = c.db.lock_all();
    std::int64_t now = now_ms();
    for (std::size_t i = 0; i < c.db.shard_count(); ++i)
      c.db.at(i).for_each(now, [&](const std::string& k, const value&) {
        if (glob_match(a[1], k)) hits.push_back(k);
      });
  }
  resp::array(out, hits.size());
  for (auto& k : hits) resp::bulk(out, k);
}

// SCAN cursor [MATCH p] [COUNT n] [TYPE t]. The cursor is the next shard
// to visit: each call returns the matching keys of one shard (COUNT is a
// hint, as in Redis, and is not needed here). A key present for the whole
// iteration is returned exactly once, whatever is added or rehashed
// meanwhile -- a hash table's bucket order would not survive a rehash.
void scan(context& c, session&, const args_t& a, std::string& out) {
  long long cursor = 0;
  if (!parse_ll(a[1], cursor) || cursor < 0) return resp::error(out, "ERR invalid cursor");
  std::string_view match = "*";
  std::string_view type_filter;
  for (std::size_t i = 2; i < a.size(); i += 2) {
    if (i + 1 >= a.size()) return resp::error(out, syntax);
    long long n = 0;
    if (is(a[i], "match")) match = a[i + 1];
    else if (is(a[i], "type")) type_filter = a[i + 1];
    else if (is(a[i], "count")) {
      if (!parse_ll(a[i + 1], n)) return resp::error(out, not_integer);
      if (n < 1) return resp::error(out, syntax);
    } else return resp::error(out, syntax);
  }
  std::vector<std::string> hits;
  std::size_t next = 0;
  if (static_cast<unsigned long long>(cursor) < c.db.shard_count()) {
    shard& sh = c.db.at(static_cast<std::size_t>(cursor));
    std::lock_guard lk(sh.mu);
    sh.for_each(now_ms(), [&](const std::string& k, const value& v) {
      if (!type_filter.empty() && !is(type_filter, type_name(v.kind()))) return;
      if (glob_match(match, k)) hits.push_back(k);
    });
    next = static_cast<std::size_t>(cursor) + 1 == c.db.shard_count() ? 0 : static_cast<std::size_t>(cursor) + 1;
  }
  resp::array(out, 2);
  resp::bulk(out, std::to_string(next));
  resp::array(out, hits.size());
  for (auto& k : hits) resp::bulk(out, k);
}

}  // namespace

void add_key_commands(table& t) {
  auto add = [&](command c) { t.emplace(c.name, c); };
  add({"del", -2, del, 1, -1, 1, "write", "generic", "Delete a key"});
  add({"exists", -2, exists, 1, -1, 1, "readonly fast", "generic", "Determine if a key exists"});
  add({"expire", -3, expire, 1, 1, 1, "write fast", "generic", "Set a key's time to live in seconds"});
  add({"pexpire", -3, pexpire, 1, 1, 1, "write fast", "generic", "Set a key's time to live in milliseconds"});
  add({"ttl", 2, ttl, 1, 1, 1, "readonly fast", "generic", "Get the time to live for a key in seconds"});
  add({"pttl", 2, pttl, 1, 1, 1, "readonly fast", "generic", "Get the time to live for a key in milliseconds"});
  add({"persist", 2, persist, 1, 1, 1, "write fast", "generic", "Remove the expiration from a key"});
  add({"type", 2, type_cmd, 1, 1, 1, "readonly fast", "generic", "Determine the type stored at key"});
  add({"keys", 2, keys, 0, 0, 0, "readonly", "generic", "Find all keys matching the given pattern"});
  add({"scan", -2, scan, 0, 0, 0, "readonly", "generic", "Incrementally iterate the keys space"});
}

}  // namespace kv::cmd
