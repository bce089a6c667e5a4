// List commands: LPUSH RPUSH LPOP RPOP LLEN LRANGE LINDEX.
#include <mutex>

#include "cmd_util.hpp"

namespace kv::cmd {
namespace {

using list_t = std::deque<std::string>;

void push(context& c, const args_t& a, std::string& out, bool left) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  list_t* l = typed<list_t>(sh, a[1], true, out, wrong);
  if (wrong) return;
  for (std::size_t i = 2; i < a.size(); ++i) left ? l->emplace_front(a[i]) : l->emplace_back(a[i]);
  resp::integer(out, static_cast<long long>(l->size()));
}
void lpush(context& c, session&, const args_t& a, std::string& out) { push(c, a, out, true); }
void rpush(context& c, session&, const args_t& a, std::string& out) { push(c, a, out, false); }

// LPOP/RPOP key [count]: one element as a bulk, or with a count an array.
void pop(context& c, const args_t& a, std::string& out, bool left) {
  if (a.size() > 3) return arity_error(out, left ? "lpop" : "rpop");
  long long count = 1;
  if (a.size() == 3 && !pop_count(a[2], count, out)) return;
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  list_t* l = typed<list_t>(sh, a[1], false, out, wrong);
  if (wrong) return;
  if (!l) return a.size() == 3 ? resp::null_array(out) : resp::null_bulk(out);
  std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(count), l->size());
  if (a.size() == 3) resp::array(out, n);
  for (std::size_t i = 0; i < n; ++i) {
    if (left) {
      resp::bulk(out, l->front());
      l->pop_front();
    } else {
      resp::bulk(out, l->back());
      l->pop_back();
    }
  }
  drop_if_empty(sh, a[1], *l);
}
void lpop(context& c, session&, const args_t& a, std::string& out) { pop(c, a, out, true); }
void rpop(context& c, session&, const args_t& a, std::string& out) { pop(c, a, out, false); }

void llen(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  list_t* l = typed<list_t>(sh, a[1], false, out, wrong);
  if (!wrong) resp::integer(out, l ? static_cast<long long>(l->size()) : 0);
}

void lrange(context& c, session&, const args_t& a, std::string& out) {
  long long start = 0, stop = 0;
  if (!parse_ll(a[2], start) || !parse_ll(a[3], stop)) return resp::error(out, not_integer);
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  list_t* l = typed<list_t>(sh, a[1], false, out, wrong);
  if (wrong) return;
  if (!l || !normalize_range(start, stop, static_cast<long long>(l->size()))) return resp::array(out, 0);
  resp::array(out, static_cast<std::size_t>(stop - start + 1));
  for (auto it = l->begin() + start, end = l->begin() + stop + 1; it != end; ++it) resp::bulk(out, *it);
}

void lindex(context& c, session&, const args_t& a, std::string& out) {
  long long i = 0;
  if (!parse_ll(a[2], i)) return resp::error(out, not_integer);
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  list_t* l = typed<list_t>(sh, a[1], false, out, wrong);
  if (wrong) return;
  long long n = l ? static_cast<long long>(l->size()) : 0;
  if (i < 0) i += n;
  if (i < 0 || i >= n) return resp::null_bulk(out);
  resp::bulk(out, (*l)[static_cast<std::size_t>(i)]);
}

}  // namespace

void add_list_commands(table& t) {
  auto add = [&](command c) { t.emplace(c.name, c); };
  add({"lpush", -3, lpush, 1, 1, 1, "write denyoom fast", "list", "Prepend one or multiple elements to a list"});
  add({"rpush", -3, rpush, 1, 1, 1, "write denyoom fast", "list", "Append one or multiple elements to a list"});
  add({"lpop", -2, lpop, 1, 1, 1, "write fast", "list", "Remove and get the first elements in a list"});
  add({"rpop", -2, rpop, 1, 1, 1, "write fast", "list", "Remove and get the last elements in a list"});
  add({"llen", 2, llen, 1, 1, 1, "readonly fast", "list", "Get the length of a list"});
  add({"lrange", 4, lrange, 1, 1, 1, "readonly", "list", "Get a range of elements from a list"});
  add({"lindex", 3, lindex, 1, 1, 1, "readonly", "list", "Get an element from a list by its index"});
}

}  // namespace kv::cmd
