// Dispatch (name lookup, arity, pub/sub context) and the server and
// connection commands: PING ECHO SELECT DBSIZE FLUSHDB FLUSHALL INFO CONFIG
// COMMAND CLIENT QUIT.
#include "commands.hpp"

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <mutex>

#include "cmd_util.hpp"
#include "glob.hpp"

namespace kv {

void session::end_subscriber() noexcept {
  if (!sub) return;
  for (auto& c : sub->channels) ps->unsubscribe(sub, c);
  for (auto& p : sub->patterns) ps->punsubscribe(sub, p);
  sub.reset();  // the registry held the only other references
}

namespace cmd {

bool parse_ll(std::string_view s, long long& out) noexcept {
  if (s.empty() || s.size() > 20) return false;
  std::size_t digits = s[0] == '-' ? 1 : 0;
  if (digits == s.size() || (s[digits] == '0' && s.size() > digits + 1) || (digits && s[1] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

bool parse_double(std::string_view s, double& out) noexcept {
  if (s.empty() || s.size() > 256 || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  char buf[257];
  s.copy(buf, s.size());
  buf[s.size()] = 0;
  char* end = nullptr;
  out = std::strtod(buf, &end);
  return end == buf + s.size() && !std::isnan(out);
}

bool is(std::string_view arg, std::string_view lower) noexcept {
  if (arg.size() != lower.size()) return false;
  for (std::size_t i = 0; i < arg.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(arg[i])) != lower[i]) return false;
  return true;
}

void arity_error(std::string& out, std::string_view name) {
  resp::error(out, "ERR wrong number of arguments for '" + std::string(name) + "' command");
}

bool normalize_range(long long& start, long long& stop, long long size) noexcept {
  if (start < 0) start += size;
  if (stop < 0) stop += size;
  if (start < 0) start = 0;
  if (stop >= size) stop = size - 1;
  return start <= stop && start < size;
}

namespace {

void ping(context&, session& s, const args_t& a, std::string& out) {
  if (a.size() > 2) return arity_error(out, "ping");
  if (s.subscriptions() > 0) {
    // In subscribed mode Redis answers a pong message (RESP2).
    resp::array(out, 2);
    resp::bulk(out, "pong");
    resp::bulk(out, a.size() == 2 ? a[1] : std::string_view{});
  } else if (a.size() == 2) {
    resp::bulk(out, a[1]);
  } else {
    resp::simple(out, "PONG");
  }
}

void echo(context&, session&, const args_t& a, std::string& out) { resp::bulk(out, a[1]); }

void select(context&, session&, const args_t& a, std::string& out) {
  long long db = 0;
  if (!parse_ll(a[1], db)) return resp::error(out, not_integer);
  // One database: SELECT 0 is all there is (clients send it on connect).
  if (db != 0) return resp::error(out, "ERR DB index is out of range");
  resp::simple(out, "OK");
}

void dbsize(context& c, session&, const args_t&, std::string& out) {
  auto locks = c.db.lock_all();
  std::int64_t now = now_ms();
  long long n = 0;
  for (std::size_t i = 0; i < c.db.shard_count(); ++i) c.db.at(i).for_each(now, [&](auto&, auto&) { ++n; });
  resp::integer(out, n);
}

void flush(context& c, session&, const args_t& a, std::string& out) {
  // ASYNC and SYNC are accepted; the work is done now either way.
  if (a.size() > 2 || (a.size() == 2 && !is(a[1], "async") && !is(a[1], "sync"))) return resp::error(out, syntax);
  auto locks = c.db.lock_all();
  for (std::size_t i = 0; i < c.db.shard_count(); ++i) c.db.at(i).clear();
  resp::simple(out, "OK");
}

void quit(context&, session& s, const args_t&, std::string& out) {
  s.quit = true;
  resp::simple(out, "OK");
}

void info(context& c, session&, const args_t& a, std::string& out) {
  std::string section = a.size() > 1 ? std::string(a[1]) : "default";
  for (auto& ch : section) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  bool all = section == "default" || section == "all" || section == "everything";
  std::string t;
  auto want = [&](const char* name) { return all || section == name; };
  if (want("server")) {
    t += "# Server\r\n";
    // The Redis version whose protocol and replies this server follows:
    // clients look at it to decide what they may send.
    t += "redis_version:7.0.0\r\nredis_mode:standalone\r\nserver_name:weft-kv\r\nos:Linux\r\narch_bits:64\r\n";
    t += "multiplexing_api:weft-" + c.info.engine + "\r\nprocess_id:" + std::to_string(::getpid()) + "\r\n";
    t += "tcp_port:" + std::to_string(c.info.port) + "\r\n";
    t += "uptime_in_seconds:" + std::to_string((now_ms() - c.info.started_ms) / 1000) + "\r\n";
    t += "weft_workers:" + std::to_string(c.info.workers) + "\r\n\r\n";
  }
  if (want("clients")) {
    t += "# Clients\r\nconnected_clients:" + std::to_string(c.info.connected.load()) + "\r\n";
    t += "pubsub_channels:" + std::to_string(c.ps.channel_count()) + "\r\n\r\n";
  }
  if (want("stats")) {
    t += "# Stats\r\ntotal_connections_received:" + std::to_string(c.info.connections_total.load()) + "\r\n";
    t += "total_commands_processed:" + std::to_string(c.info.commands_total.load()) + "\r\n";
    t += "expired_keys:" + std::to_string(c.db.expired_keys()) + "\r\n\r\n";
  }
  if (want("persistence")) t += "# Persistence\r\nloading:0\r\nrdb_bgsave_in_progress:0\r\naof_enabled:0\r\n\r\n";
  if (want("keyspace")) {
    long long keys = 0, expires = 0;
    {
      auto locks = c.db.lock_all();
      std::int64_t now = now_ms();
      for (std::size_t i = 0; i < c.db.shard_count(); ++i) {
        c.db.at(i).for_each(now, [&](auto&, auto&) { ++keys; });
        expires += static_cast<long long>(c.db.at(i).volatile_count());
      }
    }
    t += "# Keyspace\r\n";
    if (keys > 0) t += "db0:keys=" + std::to_string(keys) + ",expires=" + std::to_string(expires) + ",avg_ttl=0\r\n";
  }
  resp::bulk(out, t);
}

void config(context& c, session&, const args_t& a, std::string& out) {
  if (is(a[1], "resetstat") && a.size() == 2) return resp::simple(out, "OK");
  if (!is(a[1], "get")) {
    if (is(a[1], "set")) return resp::error(out, "ERR CONFIG SET is not supported by this server");
    return resp::error(out, "ERR unknown subcommand '" + std::string(a[1]) + "'. Try CONFIG HELP.");
  }
  if (a.size() < 3) return arity_error(out, "config|get");
  // The parameters clients ask about (redis-benchmark: save, appendonly),
  // with this server's real values: no persistence, one database.
  const std::pair<std::string, std::string> params[] = {
      {"save", ""},
      {"appendonly", "no"},
      {"databases", "1"},
      {"port", std::to_string(c.info.port)},
      {"bind", "127.0.0.1"},
      {"timeout", "0"},
      {"maxmemory", "0"},
      {"maxclients", "10000"},
      {"io-threads", std::to_string(c.info.workers)},
      {"proto-max-bulk-len", std::to_string(c.info.max_bulk)},
      {"client-query-buffer-limit", std::to_string(c.info.max_request)},
  };
  std::vector<const std::pair<std::string, std::string>*> hits;
  for (const auto& p : params)
    for (std::size_t i = 2; i < a.size(); ++i) {
      std::string pat(a[i]);
      for (auto& ch : pat) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (glob_match(pat, p.first)) {
        hits.push_back(&p);
        break;
      }
    }
  resp::array(out, hits.size() * 2);
  for (auto* p : hits) {
    resp::bulk(out, p->first);
    resp::bulk(out, p->second);
  }
}

void command_entry(std::string& out, const command& c) {
  resp::array(out, 10);
  resp::bulk(out, c.name);
  resp::integer(out, c.arity);
  std::vector<std::string_view> flags;
  for (std::string_view f = c.flags; !f.empty();) {
    std::size_t sp = f.find(' ');
    flags.push_back(f.substr(0, sp));
    f = sp == std::string_view::npos ? std::string_view{} : f.substr(sp + 1);
  }
  resp::array(out, flags.size());
  for (auto f : flags) resp::simple(out, f);
  resp::integer(out, c.first_key);
  resp::integer(out, c.last_key);
  resp::integer(out, c.step);
  resp::array(out, 0);  // ACL categories
  resp::array(out, 0);  // tips
  resp::array(out, 0);  // key specs
  resp::array(out, 0);  // subcommands
}

void command_cmd(context&, session&, const args_t& a, std::string& out) {
  const table& t = commands();
  if (a.size() == 1) {
    resp::array(out, t.size());
    for (auto& [name, c] : t) command_entry(out, c);
  } else if (is(a[1], "count")) {
    resp::integer(out, static_cast<long long>(t.size()));
  } else if (is(a[1], "info") || is(a[1], "docs")) {
    bool docs = is(a[1], "docs");
    std::vector<const command*> picked;
    if (a.size() == 2) {
      for (auto& [name, c] : t) picked.push_back(&c);
    } else {
      for (std::size_t i = 2; i < a.size(); ++i) {
        std::string n(a[i]);
        for (auto& ch : n) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        auto it = t.find(n);
        picked.push_back(it == t.end() ? nullptr : &it->second);
      }
    }
    if (!docs) {
      resp::array(out, picked.size());
      for (auto* c : picked) c ? command_entry(out, *c) : resp::null_array(out);
      return;
    }
    // RESP2 has no map: name, then its doc as a flat key/value array
    // (what redis-cli reads for its help and hints).
    std::size_t known = 0;
    for (auto* c : picked) known += c != nullptr;
    resp::array(out, known * 2);
    for (auto* c : picked) {
      if (!c) continue;
      resp::bulk(out, c->name);
      resp::array(out, 8);
      resp::bulk(out, "summary");
      resp::bulk(out, c->summary);
      resp::bulk(out, "since");
      resp::bulk(out, "1.0.0");
      resp::bulk(out, "group");
      resp::bulk(out, c->group);
      resp::bulk(out, "complexity");
      resp::bulk(out, "O(1)");
    }
  } else {
    resp::error(out, "ERR unknown subcommand '" + std::string(a[1]) + "'. Try COMMAND HELP.");
  }
}

void client(context& c, session& s, const args_t& a, std::string& out) {
  if (is(a[1], "setname")) {
    if (a.size() != 3) return arity_error(out, "client|setname");
    for (char ch : a[2])
      if (ch <= ' ' || ch > '~')
        return resp::error(out, "ERR Client names cannot contain spaces, newlines or special characters.");
    s.name = a[2];
    resp::simple(out, "OK");
  } else if (is(a[1], "getname")) {
    s.name.empty() ? resp::null_bulk(out) : resp::bulk(out, s.name);
  } else if (is(a[1], "id")) {
    resp::integer(out, static_cast<long long>(reinterpret_cast<std::uintptr_t>(&s) >> 4));
  } else if (is(a[1], "setinfo")) {
    resp::simple(out, "OK");  // redis-py 5 sends it on connect; there is nothing to keep
  } else {
    (void)c;
    resp::error(out, "ERR unknown subcommand '" + std::string(a[1]) + "'. Try CLIENT HELP.");
  }
}

}  // namespace

void add_server_commands(table& t) {
  auto add = [&](command c) { t.emplace(c.name, c); };
  add({"ping", -1, ping, 0, 0, 0, "fast", "connection", "Ping the server"});
  add({"echo", 2, echo, 0, 0, 0, "fast", "connection", "Echo the given string"});
  add({"select", 2, select, 0, 0, 0, "loading stale fast", "connection", "Change the selected database"});
  add({"dbsize", 1, dbsize, 0, 0, 0, "readonly fast", "server", "Return the number of keys"});
  add({"flushdb", -1, flush, 0, 0, 0, "write", "server", "Remove all keys from the current database"});
  add({"flushall", -1, flush, 0, 0, 0, "write", "server", "Remove all keys from all databases"});
  add({"quit", -1, quit, 0, 0, 0, "allow_busy fast", "connection", "Close the connection"});
  add({"info", -1, info, 0, 0, 0, "loading stale", "server", "Get information and statistics about the server"});
  add({"config", -2, config, 0, 0, 0, "", "server", "A container for server configuration commands"});
  add({"command", -1, command_cmd, 0, 0, 0, "loading stale", "server", "Get array of Redis command details"});
  add({"client", -2, client, 0, 0, 0, "", "connection", "A container for client connection commands"});
}

const table& commands() {
  static const table t = [] {
    table all;
    add_server_commands(all);
    add_key_commands(all);
    add_string_commands(all);
    add_list_commands(all);
    add_set_commands(all);
    add_hash_commands(all);
    add_zset_commands(all);
    add_pubsub_commands(all);
    return all;
  }();
  return t;
}

}  // namespace cmd

void execute(context& ctx, session& s, const std::vector<std::string_view>& args, std::string& out) {
  using namespace cmd;
  ctx.info.commands_total.fetch_add(1, std::memory_order_relaxed);
  char lower[32];
  std::string_view name = args[0];
  const command* c = nullptr;
  if (name.size() <= sizeof lower) {
    for (std::size_t i = 0; i < name.size(); ++i)
      lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
    const table& t = commands();
    auto it = t.find(std::string_view(lower, name.size()));
    if (it != t.end()) c = &it->second;
  }
  if (!c) {
    // Redis 7's text: the name and the first args, each cut at 128 bytes.
    std::string rest;
    for (std::size_t i = 1; i < args.size() && rest.size() < 128; ++i)
      rest += "'" + std::string(args[i].substr(0, 128 - rest.size())) + "' ";
    return resp::error(out, "ERR unknown command '" + std::string(name.substr(0, 128)) + "', with args beginning with: " + rest);
  }
  int n = static_cast<int>(args.size());
  if ((c->arity > 0 && n != c->arity) || (c->arity < 0 && n < -c->arity)) return arity_error(out, c->name);
  if (s.subscriptions() > 0) {
    std::string_view cn = c->name;
    if (cn != "subscribe" && cn != "unsubscribe" && cn != "psubscribe" && cn != "punsubscribe" && cn != "ping" &&
        cn != "quit")
      return resp::error(out, "ERR Can't execute '" + std::string(cn) +
                                  "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
  }
  c->fn(ctx, s, args, out);
}

}  // namespace kv
