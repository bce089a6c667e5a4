// The command table: what each Redis command does to the store, the
// connection and the pub/sub registry, and the arity and unknown-command
// checks Redis 7 makes before that (with its exact error texts, so clients
// and tests written against Redis see the same answers).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pubsub.hpp"
#include "store.hpp"

namespace kv {

// What INFO and CONFIG GET report about the server.
struct server_info {
  int port = 0;
  unsigned workers = 0;
  std::string engine;
  std::int64_t started_ms = 0;
  std::uint64_t max_bulk = 0;
  std::size_t max_request = 0;
  std::size_t pubsub_queue = 0;
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> commands_total{0};
  std::atomic<std::int64_t> connected{0};
};

// What commands work on: the shared state of the server.
struct context {
  store& db;
  pubsub& ps;
  server_info& info;
};

// One connection's state.
struct session {
  explicit session(weft::io::socket& s) : sock(&s) {}
  // Ends the subscriber: unsubscribes from everything (so no publisher
  // reaches a dead connection), then waits for its writer to send what is
  // queued. Throws nothing.
  ~session() { end_subscriber(); }
  // The same, before the session ends; from then on replies are written
  // directly again. Throws nothing.
  void end_subscriber() noexcept;
  weft::io::socket* sock;
  std::string name;                 // CLIENT SETNAME
  std::shared_ptr<subscriber> sub;  // from the first (P)SUBSCRIBE on: every reply goes through it
  pubsub* ps = nullptr;             // the registry sub is in
  bool quit = false;                // QUIT: answer, then close
  // Channels plus patterns subscribed to. Throws nothing.
  std::size_t subscriptions() const noexcept { return sub ? sub->channels.size() + sub->patterns.size() : 0; }
};

// Runs the command in `args` (args[0] is its name, any case) and appends
// its reply to `out`. Bad commands get Redis's error replies; throws only
// std::bad_alloc (and what a socket write throws for a subscribed connection).
void execute(context& ctx, session& s, const std::vector<std::string_view>& args, std::string& out);

}  // namespace kv
