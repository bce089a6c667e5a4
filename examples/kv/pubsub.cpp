#include "pubsub.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <system_error>

#include "glob.hpp"
#include "resp.hpp"
#include "weft/thread.hpp"

namespace kv {

using namespace std::chrono_literals;

subscriber::subscriber(weft::io::socket& sock, std::size_t capacity)
    : sock_(sock), queue_(capacity), writer_(weft::spawn([this] { writer(); })) {}

subscriber::~subscriber() {
  queue_.close();
  writer_.join();
}

void subscriber::writer() {
  bool broken = false;
  std::string batch;
  for (;;) {
    auto r = queue_.recv();
    if (!r) return;  // closed and drained
    if (broken) continue;  // keep draining so send_own never waits on a dead socket
    batch = std::move(*r);
    // Whatever else is queued goes in the same write.
    while (batch.size() < 64 * 1024) {
      auto more = queue_.try_recv();
      if (!more) break;
      batch += *more;
    }
    try {
      sock_.write_all(batch.data(), batch.size(), 30s);
    } catch (const std::system_error&) {
      broken = true;
    }
    if (broken) {
      // The client is gone or stuck: end the connection's reads too, so its
      // thread notices and cleans up.
      try {
        sock_.shutdown(SHUT_RDWR);
      } catch (const std::system_error&) {
      }
    }
  }
}

bool subscriber::send_own(std::string reply) noexcept {
  if (overflowed()) return false;
  return static_cast<bool>(queue_.send(std::move(reply)));
}

bool subscriber::offer(std::string message) noexcept {
  if (overflowed()) return false;
  if (queue_.try_send(std::move(message))) return true;
  // Full: the client-output-buffer-limit policy (pubsub.hpp).
  if (!overflowed_.exchange(true)) {
    try {
      sock_.shutdown(SHUT_RDWR);
    } catch (const std::system_error&) {
    }
  }
  return false;
}

bool pubsub::add(list& l, const std::shared_ptr<subscriber>& s) {
  if (std::find(l.begin(), l.end(), s) != l.end()) return false;
  l.push_back(s);
  return true;
}

bool pubsub::remove(std::unordered_map<std::string, list, key_hash, key_eq>& m, std::string_view name,
                    const std::shared_ptr<subscriber>& s) noexcept {
  auto it = m.find(name);
  if (it == m.end()) return false;
  auto pos = std::find(it->second.begin(), it->second.end(), s);
  if (pos == it->second.end()) return false;
  it->second.erase(pos);
  if (it->second.empty()) m.erase(it);
  return true;
}

bool pubsub::subscribe(const std::shared_ptr<subscriber>& s, std::string_view channel) {
  std::lock_guard lk(mu_);
  return add(channels_[std::string(channel)], s);
}

bool pubsub::unsubscribe(const std::shared_ptr<subscriber>& s, std::string_view channel) noexcept {
  std::lock_guard lk(mu_);
  return remove(channels_, channel, s);
}

bool pubsub::psubscribe(const std::shared_ptr<subscriber>& s, std::string_view pattern) {
  std::lock_guard lk(mu_);
  return add(patterns_[std::string(pattern)], s);
}

bool pubsub::punsubscribe(const std::shared_ptr<subscriber>& s, std::string_view pattern) noexcept {
  std::lock_guard lk(mu_);
  return remove(patterns_, pattern, s);
}

std::size_t pubsub::publish(std::string_view channel, std::string_view message) {
  std::string direct;
  resp::array(direct, 3);
  resp::bulk(direct, "message");
  resp::bulk(direct, channel);
  resp::bulk(direct, message);
  std::size_t n = 0;
  std::lock_guard lk(mu_);
  if (auto it = channels_.find(channel); it != channels_.end())
    for (auto& s : it->second) n += s->offer(direct);
  for (auto& [pattern, subs] : patterns_) {
    if (!glob_match(pattern, channel)) continue;
    std::string m;
    resp::array(m, 4);
    resp::bulk(m, "pmessage");
    resp::bulk(m, pattern);
    resp::bulk(m, channel);
    resp::bulk(m, message);
    for (auto& s : subs) n += s->offer(m);
  }
  return n;
}

std::size_t pubsub::channel_count() noexcept {
  std::lock_guard lk(mu_);
  return channels_.size();
}

}  // namespace kv
