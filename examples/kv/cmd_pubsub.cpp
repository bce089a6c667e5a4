// Pub/sub commands: PUBLISH SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE.
// pubsub.hpp has the delivery design.
#include <algorithm>

#include "cmd_util.hpp"

namespace kv::cmd {
namespace {

// The connection's subscriber, made at its first (P)SUBSCRIBE with a queue
// of --pubsub-queue replies (server_info::pubsub_queue).
std::shared_ptr<subscriber>& ensure_subscriber(context& c, session& s, std::string& out) {
  if (!s.sub) {
    s.sub = std::make_shared<subscriber>(*s.sock, c.info.pubsub_queue);
    s.ps = &c.ps;
  }
  // Replies already written for this batch go first, before any message
  // a publisher may queue from now on.
  if (!out.empty()) {
    s.sub->send_own(std::move(out));
    out.clear();
  }
  return s.sub;
}

std::string confirmation(std::string_view kind, std::string_view name, std::size_t count, bool null_name = false) {
  std::string r;
  resp::array(r, 3);
  resp::bulk(r, kind);
  null_name ? resp::null_bulk(r) : resp::bulk(r, name);
  resp::integer(r, static_cast<long long>(count));
  return r;
}

void subscribe_any(context& c, session& s, const args_t& a, std::string& out, bool pattern) {
  auto& sub = ensure_subscriber(c, s, out);
  auto& mine = pattern ? sub->patterns : sub->channels;
  for (std::size_t i = 1; i < a.size(); ++i) {
    bool is_new = std::find(mine.begin(), mine.end(), a[i]) == mine.end();
    if (is_new) mine.emplace_back(a[i]);
    // The confirmation is queued before the registration, so no message
    // on the channel can overtake it.
    sub->send_own(confirmation(pattern ? "psubscribe" : "subscribe", a[i], s.subscriptions()));
    if (is_new) pattern ? c.ps.psubscribe(sub, a[i]) : c.ps.subscribe(sub, a[i]);
  }
}

void unsubscribe_any(context& c, session& s, const args_t& a, std::string& out, bool pattern) {
  auto& sub = ensure_subscriber(c, s, out);
  auto& mine = pattern ? sub->patterns : sub->channels;
  const char* kind = pattern ? "punsubscribe" : "unsubscribe";
  std::vector<std::string> names;
  if (a.size() == 1) names = mine;  // all of them
  else names.assign(a.begin() + 1, a.end());
  if (names.empty()) {
    sub->send_own(confirmation(kind, {}, s.subscriptions(), true));
    return;
  }
  for (auto& n : names) {
    if (auto it = std::find(mine.begin(), mine.end(), n); it != mine.end()) {
      pattern ? c.ps.punsubscribe(sub, n) : c.ps.unsubscribe(sub, n);
      mine.erase(it);
    }
    sub->send_own(confirmation(kind, n, s.subscriptions()));
  }
}

void subscribe(context& c, session& s, const args_t& a, std::string& out) { subscribe_any(c, s, a, out, false); }
void psubscribe(context& c, session& s, const args_t& a, std::string& out) { subscribe_any(c, s, a, out, true); }
void unsubscribe(context& c, session& s, const args_t& a, std::string& out) { unsubscribe_any(c, s, a, out, false); }
void punsubscribe(context& c, session& s, const args_t& a, std::string& out) { unsubscribe_any(c, s, a, out, true); }

void publish(context& c, session&, const args_t& a, std::string& out) {
  resp::integer(out, static_cast<long long>(c.ps.publish(a[1], a[2])));
}

}  // namespace

void add_pubsub_commands(table& t) {
  auto add = [&](command c) { t.emplace(c.name, c); };
  add({"publish", 3, publish, 0, 0, 0, "pubsub loading stale fast", "pubsub", "Post a message to a channel"});
  add({"subscribe", -2, subscribe, 0, 0, 0, "pubsub noscript loading stale", "pubsub", "Listen for messages published to the given channels"});
  add({"unsubscribe", -1, unsubscribe, 0, 0, 0, "pubsub noscript loading stale", "pubsub", "Stop listening for messages posted to the given channels"});
  add({"psubscribe", -2, psubscribe, 0, 0, 0, "pubsub noscript loading stale", "pubsub", "Listen for messages published to channels matching the given patterns"});
  add({"punsubscribe", -1, punsubscribe, 0, 0, 0, "pubsub noscript loading stale", "pubsub", "Stop listening for messages posted to channels matching the given patterns"});
}

}  // namespace kv::cmd
