// String commands: SET GET GETSET INCR DECR INCRBY DECRBY APPEND STRLEN MSET MGET.
#include <charconv>
#include <chrono>
#include <climits>
#include <mutex>

#include "cmd_util.hpp"

namespace kv::cmd {
namespace {

// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
void set(context& c, session&, const args_t& a, std::string& out) {
  bool nx = false, xx = false, get = false, keepttl = false;
  std::int64_t at = 0;
  bool have_time = false;
  std::int64_t now = now_ms();
  for (std::size_t i = 3; i < a.size(); ++i) {
    if (is(a[i], "nx") && !xx) nx = true;
    else if (is(a[i], "xx") && !nx) xx = true;
    else if (is(a[i], "get")) get = true;
    else if (is(a[i], "keepttl") && !have_time) keepttl = true;
    else if ((is(a[i], "ex") || is(a[i], "px") || is(a[i], "exat") || is(a[i], "pxat")) && !have_time && !keepttl &&
             i + 1 < a.size()) {
      long long t = 0;
      if (!parse_ll(a[i + 1], t)) return resp::error(out, not_integer);
      bool seconds = is(a[i], "ex") || is(a[i], "exat");
      bool absolute = is(a[i], "exat") || is(a[i], "pxat");
      if (t <= 0 || (seconds && t > INT64_MAX / 1000)) return resp::error(out, "ERR invalid expire time in 'set' command");
      std::int64_t ms = seconds ? t * 1000 : t;
      if (absolute) {
        // Unix time: converted to the steady clock the store keeps.
        std::int64_t wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        ms -= wall;
        at = ms <= 0 ? now : now + ms;  // already past: the key is set expired, as Redis deletes it
      } else {
        if (ms > INT64_MAX - now) return resp::error(out, "ERR invalid expire time in 'set' command");
        at = now + ms;
      }
      have_time = true;
      ++i;
    } else {
      return resp::error(out, syntax);
    }
  }
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  value* v = sh.find(a[1], now);
  if (get) {
    if (v && v->kind() != type::string) return resp::error(out, wrongtype);
    v ? resp::bulk(out, std::get<std::string>(v->data)) : resp::null_bulk(out);
  }
  if ((nx && v) || (xx && !v)) {
    if (!get) resp::null_bulk(out);
    return;
  }
  if (!v) v = &sh.create(a[1]);
  v->data = std::string(a[2]);
  if (!keepttl) sh.set_expire(a[1], *v, at);
  if (!get) resp::simple(out, "OK");
}

// The string at key for reading: nullptr (nothing written) if absent,
// false with WRONGTYPE written for another type.
bool string_at(shard& sh, std::string_view key, std::string& out, const std::string*& s) {
  value* v = sh.find(key, now_ms());
  s = nullptr;
  if (!v) return true;
  if (v->kind() != type::string) {
    resp::error(out, wrongtype);
    return false;
  }
  s = &std::get<std::string>(v->data);
  return true;
}

void get(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  const std::string* s;
  if (!string_at(sh, a[1], out, s)) return;
  s ? resp::bulk(out, *s) : resp::null_bulk(out);
}

void getset(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  value* v = sh.find(a[1], now_ms());
  if (v && v->kind() != type::string) return resp::error(out, wrongtype);
  v ? resp::bulk(out, std::get<std::string>(v->data)) : resp::null_bulk(out);
  if (!v) v = &sh.create(a[1]);
  v->data = std::string(a[2]);
  sh.set_expire(a[1], *v, 0);  // GETSET discards the TTL, as SET does
}

void incr_by(context& c, std::string_view key, long long by, std::string& out) {
  shard& sh = c.db.shard_of(key);
  std::lock_guard lk(sh.mu);
  value* v = sh.find(key, now_ms());
  long long cur = 0;
  if (v) {
    if (v->kind() != type::string) return resp::error(out, wrongtype);
    if (!parse_ll(std::get<std::string>(v->data), cur)) return resp::error(out, not_integer);
  }
  long long next = 0;
  if (__builtin_add_overflow(cur, by, &next)) return resp::error(out, "ERR increment or decrement would overflow");
  if (!v) v = &sh.create(key);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, next);
  v->data = std::string(buf, r.ptr);  // the TTL stays, as in Redis
  resp::integer(out, next);
}
void incr(context& c, session&, const args_t& a, std::string& out) { incr_by(c, a[1], 1, out); }
void decr(context& c, session&, const args_t& a, std::string& out) { incr_by(c, a[1], -1, out); }
void incrby(context& c, session&, const args_t& a, std::string& out) {
  long long n = 0;
  if (!parse_ll(a[2], n)) return resp::error(out, not_integer);
  incr_by(c, a[1], n, out);
}
void decrby(context& c, session&, const args_t& a, std::string& out) {
  long long n = 0;
  if (!parse_ll(a[2], n) || n == LLONG_MIN) return resp::error(out, n == LLONG_MIN ? "ERR decrement would overflow" : not_integer);
  incr_by(c, a[1], -n, out);
}

void append(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  value* v = sh.find(a[1], now_ms());
  if (v && v->kind() != type::string) return resp::error(out, wrongtype);
  std::string& s = v ? std::get<std::string>(v->data) : std::get<std::string>(sh.create(a[1]).data);
  if (s.size() + a[2].size() > c.info.max_bulk) return resp::error(out, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  s += a[2];
  resp::integer(out, static_cast<long long>(s.size()));
}

void strlen_cmd(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  const std::string* s;
  if (!string_at(sh, a[1], out, s)) return;
  resp::integer(out, s ? static_cast<long long>(s->size()) : 0);
}

void mset(context& c, session&, const args_t& a, std::string& out) {
  if (a.size() % 2 != 1) return arity_error(out, "mset");
  std::vector<std::string_view> keys;
  for (std::size_t i = 1; i < a.size(); i += 2) keys.push_back(a[i]);
  auto locks = c.db.lock_keys(keys);  // all at once: MSET is atomic
  std::int64_t now = now_ms();
  for (std::size_t i = 1; i < a.size(); i += 2) {
    shard& sh = c.db.shard_of(a[i]);
    value* v = sh.find(a[i], now);
    if (!v) v = &sh.create(a[i]);
    v->data = std::string(a[i + 1]);
    sh.set_expire(a[i], *v, 0);
  }
  resp::simple(out, "OK");
}

void mget(context& c, session&, const args_t& a, std::string& out) {
  std::vector<std::string_view> keys(a.begin() + 1, a.end());
  auto locks = c.db.lock_keys(keys);
  std::int64_t now = now_ms();
  resp::array(out, keys.size());
  for (auto k : keys) {
    value* v = c.db.shard_of(k).find(k, now);
    // MGET answers nil for a key of another type, it does not fail.
    if (v && v->kind() == type::string) resp::bulk(out, std::get<std::string>(v->data));
    else resp::null_bulk(out);
  }
}

}  // namespace

void add_string_commands(table& t) {
  auto add = [&](command c) { t.emplace(c.name, c); };
  add({"set", -3, set, 1, 1, 1, "write denyoom", "string", "Set the string value of a key"});
  add({"get", 2, get, 1, 1, 1, "readonly fast", "string", "Get the value of a key"});
  add({"getset", 3, getset, 1, 1, 1, "write denyoom fast", "string", "Set the string value of a key and return its old value"});
  add({"incr", 2, incr, 1, 1, 1, "write denyoom fast", "string", "Increment the integer value of a key by one"});
  add({"decr", 2, decr, 1, 1, 1, "write denyoom fast", "string", "Decrement the integer value of a key by one"});
  add({"incrby", 3, incrby, 1, 1, 1, "write denyoom fast", "string", "Increment the integer value of a key by the given amount"});
  add({"decrby", 3, decrby, 1, 1, 1, "write denyoom fast", "string", "Decrement the integer value of a key by the given number"});
  add({"append", 3, append, 1, 1, 1, "write denyoom fast", "string", "Append a value to a key"});
  add({"strlen", 2, strlen_cmd, 1, 1, 1, "readonly fast", "string", "Get the length of the value stored in a key"});
  add({"mset", -3, mset, 1, -1, 2, "write denyoom", "string", "Set multiple keys to multiple values"});
  add({"mget", -2, mget, 1, -1, 1, "readonly fast", "string", "Get the values of all the given keys"});
}

}  // namespace kv::cmd
