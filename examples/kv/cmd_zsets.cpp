// Sorted-set commands: ZADD ZRANGE ZSCORE ZPOPMIN ZCARD.
#include <cmath>
#include <iterator>
#include <mutex>

#include "cmd_util.hpp"

namespace kv::cmd {
namespace {

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
void zadd(context& c, session&, const args_t& a, std::string& out) {
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
  std::size_t i = 2;
  for (; i < a.size(); ++i) {
    if (is(a[i], "nx")) nx = true;
    else if (is(a[i], "xx")) xx = true;
    else if (is(a[i], "gt")) gt = true;
    else if (is(a[i], "lt")) lt = true;
    else if (is(a[i], "ch")) ch = true;
    else if (is(a[i], "incr")) incr = true;
    else break;
  }
  std::size_t pairs = a.size() - i;
  if (pairs == 0 || pairs % 2 != 0) return resp::error(out, syntax);
  if (nx && xx) return resp::error(out, "ERR XX and NX options at the same time are not compatible");
  if ((gt && nx) || (lt && nx) || (gt && lt))
    return resp::error(out, "ERR GT, LT, and/or NX options at the same time are not compatible");
  if (incr && pairs != 2) return resp::error(out, "ERR INCR option supports a single increment-element pair");
  std::vector<double> scores;
  for (std::size_t j = i; j < a.size(); j += 2) {
    double d = 0;
    if (!parse_double(a[j], d)) return resp::error(out, not_float);
    scores.push_back(d);
  }
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  zset* z = typed<zset>(sh, a[1], !xx, out, wrong);
  if (wrong) return;
  if (!z) return incr ? resp::null_bulk(out) : resp::integer(out, 0);
  long long added = 0, changed = 0;
  double result = 0;
  bool skipped = false;
  for (std::size_t j = i, k = 0; j < a.size(); j += 2, ++k) {
    std::string_view member = a[j + 1];
    auto it = z->scores.find(member);
    bool exists = it != z->scores.end();
    double score = scores[k];
    if ((nx && exists) || (xx && !exists)) {
      skipped = true;
      continue;
    }
    if (incr && exists) {
      score += it->second;
      if (std::isnan(score)) return resp::error(out, "ERR resulting score is not a number (NaN)");
    }
    if (exists && ((gt && score <= it->second) || (lt && score >= it->second))) {
      skipped = true;
      continue;
    }
    bool differs = exists && it->second != score;
    if (z->set(member, score)) ++added;
    else if (differs) ++changed;
    result = score;
  }
  drop_if_empty(sh, a[1], z->scores);
  if (incr) return skipped ? resp::null_bulk(out) : resp::bulk(out, resp::format_double(result));
  resp::integer(out, ch ? added + changed : added);
}

// ZRANGE key start stop [REV] [WITHSCORES]: by rank. (BYSCORE and BYLEX
// are not implemented and answer a syntax error.)
void zrange(context& c, session&, const args_t& a, std::string& out) {
  long long start = 0, stop = 0;
  bool rev = false, withscores = false;
  for (std::size_t i = 4; i < a.size(); ++i) {
    if (is(a[i], "rev")) rev = true;
    else if (is(a[i], "withscores")) withscores = true;
    else return resp::error(out, syntax);
  }
  if (!parse_ll(a[2], start) || !parse_ll(a[3], stop)) return resp::error(out, not_integer);
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  zset* z = typed<zset>(sh, a[1], false, out, wrong);
  if (wrong) return;
  if (!z || !normalize_range(start, stop, static_cast<long long>(z->size()))) return resp::array(out, 0);
  std::size_t n = static_cast<std::size_t>(stop - start + 1);
  resp::array(out, withscores ? n * 2 : n);
  auto emit = [&](const std::pair<double, std::string>& e) {
    resp::bulk(out, e.second);
    if (withscores) resp::bulk(out, resp::format_double(e.first));
  };
  if (rev) {
    auto it = std::next(z->by_score.rbegin(), start);
    for (std::size_t k = 0; k < n; ++k, ++it) emit(it->first);
  } else {
    auto it = std::next(z->by_score.begin(), start);
    for (std::size_t k = 0; k < n; ++k, ++it) emit(it->first);
  }
}

void zscore(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  zset* z = typed<zset>(sh, a[1], false, out, wrong);
  if (wrong) return;
  auto it = z ? z->scores.find(a[2]) : decltype(z->scores)::iterator{};
  if (!z || it == z->scores.end()) return resp::null_bulk(out);
  resp::bulk(out, resp::format_double(it->second));
}

void zpopmin(context& c, session&, const args_t& a, std::string& out) {
  if (a.size() > 3) return resp::error(out, syntax);
  long long count = 1;
  if (a.size() == 3 && !pop_count(a[2], count, out)) return;
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  zset* z = typed<zset>(sh, a[1], false, out, wrong);
  if (wrong) return;
  std::size_t n = z ? std::min<std::size_t>(static_cast<std::size_t>(count), z->size()) : 0;
  resp::array(out, n * 2);
  for (std::size_t k = 0; k < n; ++k) {
    auto it = z->by_score.begin();
    resp::bulk(out, it->first.second);
    resp::bulk(out, resp::format_double(it->first.first));
    z->scores.erase(it->first.second);
    z->by_score.erase(it);
  }
  if (z) drop_if_empty(sh, a[1], z->scores);
}

void zcard(context& c, session&, const args_t& a, std::string& out) {
  shard& sh = c.db.shard_of(a[1]);
  std::lock_guard lk(sh.mu);
  bool wrong;
  zset* z = typed<zset>(sh, a[1], false, out, wrong);
  if (!wrong) resp::integer(out, z ? static_cast<long long>(z->size()) : 0);
}

}  // namespace

void add_zset_commands(table& t) {
  auto add = [&](command c) { t.emplace(c.name, c); };
  add({"zadd", -4, zadd, 1, 1, 1, "write denyoom fast", "sorted-set", "Add one or more members to a sorted set"});
  add({"zrange", -4, zrange, 1, 1, 1, "readonly", "sorted-set", "Return a range of members in a sorted set"});
  add({"zscore", 3, zscore, 1, 1, 1, "readonly fast", "sorted-set", "Get the score associated with the given member"});
  add({"zpopmin", -2, zpopmin, 1, 1, 1, "write fast", "sorted-set", "Remove and return members with the lowest scores"});
  add({"zcard", 2, zcard, 1, 1, 1, "readonly fast", "sorted-set", "Get the number of members in a sorted set"});
}

}  // namespace kv::cmd
