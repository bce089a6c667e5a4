// Publish/subscribe: which connections listen to which channels and
// patterns, and the delivery of a PUBLISH to them.
//
// Each subscribed connection is a `subscriber`: a bounded weft::channel of
// encoded replies and a writer green thread that sends them to the socket.
// PUBLISH only try_sends into those queues, so a publisher never waits for
// a slow subscriber's socket. When a subscriber's queue is full its client
// is not keeping up: it is disconnected (marked overflowed and its socket
// shut down), as Redis's client-output-buffer-limit for pubsub does,
// instead of holding messages without bound or blocking the publisher.
// Messages to a subscriber arrive in publish order; its own command replies
// go through the same queue so they are ordered with the messages.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store.hpp"
#include "weft/channel.hpp"
#include "weft/io/socket.hpp"
#include "weft/mutex.hpp"
#include "weft/thread.hpp"

namespace kv {

class subscriber {
 public:
  // A subscriber writing to `sock` (which must outlive it) with a queue of
  // `capacity` replies; starts its writer thread. Throws what weft::spawn throws.
  subscriber(weft::io::socket& sock, std::size_t capacity);
  subscriber(const subscriber&) = delete;
  subscriber& operator=(const subscriber&) = delete;
  // Closes the queue and waits for the writer to send what is queued. Throws nothing.
  ~subscriber();

  // Queues a reply of the connection itself, waiting while the queue is
  // full (the connection's own backpressure). False if the subscriber was
  // disconnected. Throws nothing.
  bool send_own(std::string reply) noexcept;
  // Queues a published message without waiting; a full queue disconnects
  // the subscriber. False if it was not queued. Throws nothing.
  bool offer(std::string message) noexcept;
  // True once the subscriber was dropped for a full queue. Throws nothing.
  bool overflowed() const noexcept { return overflowed_.load(std::memory_order_relaxed); }

  // The channels and patterns it listens to; only its connection's thread
  // touches them (the registry has its own index).
  std::vector<std::string> channels, patterns;

 private:
  void writer();
  weft::io::socket& sock_;
  weft::channel<std::string> queue_;
  std::atomic<bool> overflowed_{false};
  weft::thread<> writer_;
};

class pubsub {
 public:
  // Subscribes s to `channel`; false if it already was. Throws std::bad_alloc only.
  bool subscribe(const std::shared_ptr<subscriber>& s, std::string_view channel);
  // Unsubscribes s from `channel`; false if it was not subscribed. Throws nothing.
  bool unsubscribe(const std::shared_ptr<subscriber>& s, std::string_view channel) noexcept;
  // The same for a glob pattern. Throw as above.
  bool psubscribe(const std::shared_ptr<subscriber>& s, std::string_view pattern);
  bool punsubscribe(const std::shared_ptr<subscriber>& s, std::string_view pattern) noexcept;
  // Delivers `message` to the subscribers of `channel` and of every
  // matching pattern; returns how many received it. Throws std::bad_alloc only.
  std::size_t publish(std::string_view channel, std::string_view message);
  // Channels with at least one subscriber, for INFO. Throws nothing.
  std::size_t channel_count() noexcept;

 private:
  using list = std::vector<std::shared_ptr<subscriber>>;
  static bool add(list& l, const std::shared_ptr<subscriber>& s);
  static bool remove(std::unordered_map<std::string, list, key_hash, key_eq>& m, std::string_view name,
                     const std::shared_ptr<subscriber>& s) noexcept;

  weft::mutex mu_;
  std::unordered_map<std::string, list, key_hash, key_eq> channels_;
  std::unordered_map<std::string, list, key_hash, key_eq> patterns_;
};

}  // namespace kv
