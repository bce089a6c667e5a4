// kv_server's keyspace (examples/kv/store.hpp) and command table
// (commands.hpp) in-process: types, lazy and active expiry, shard locking
// in order, and the error replies Redis 7 gives. The network is left to
// process_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kv/commands.hpp"
#include "kv/store.hpp"
#include "weft/weft.hpp"

namespace {

// Runs fn inside a weft runtime: the store's locks are weft::mutex.
template <class Fn>
void in_runtime(Fn fn) {
  weft::options o;
  o.workers = 2;
  o.io = weft::io_engine::epoll;
  weft::run(o, [&] { fn(); });
}

// Runs commands against one store and session, each reply as RESP text.
struct harness {
  kv::store db{4};
  kv::pubsub ps;
  kv::server_info info;
  kv::context ctx{db, ps, info};

  std::string run(std::vector<std::string> words) {
    std::vector<std::string_view> args(words.begin(), words.end());
    std::string out;
    weft::io::socket none;
    kv::session s(none);
    kv::execute(ctx, s, args, out);
    return out;
  }
};

TEST(KvStore, ExpiredKeysAreGoneOnLookup) {
  in_runtime([] {
    kv::store st(4);
    kv::shard& sh = st.shard_of("k");
    std::lock_guard lk(sh.mu);
    std::int64_t now = kv::now_ms();
    kv::value& v = sh.create("k");
    sh.set_expire("k", v, now + 1000);
    EXPECT_NE(sh.find("k", now), nullptr);
    EXPECT_EQ(sh.volatile_count(), 1u);
    EXPECT_EQ(sh.find("k", now + 1000), nullptr);  // its deadline has come
    EXPECT_EQ(sh.size(), 0u);
    EXPECT_EQ(sh.volatile_count(), 0u);
  });
}

TEST(KvStore, ActiveExpiryRemovesUnreadKeysAndIsBounded) {
  in_runtime([] {
    kv::store st(4);
    std::int64_t past = kv::now_ms() - 1;
    for (int i = 0; i < 2000; ++i) {
      std::string k = "k" + std::to_string(i);
      kv::shard& sh = st.shard_of(k);
      std::lock_guard lk(sh.mu);
      kv::value& v = sh.create(k);
      // Half expire (deadline set in the past), half live long.
      sh.set_expire(k, v, i % 2 ? past : past + 3600'000);
    }
    // One cycle is bounded: 4 shards x 16 rounds x 20 samples.
    std::size_t first = st.expire_cycle();
    EXPECT_GT(first, 0u);
    EXPECT_LE(first, 4u * 16 * 20);
    // Repeated cycles get them all, and only them.
    std::size_t total = first;
    for (int i = 0; i < 200 && total < 1000; ++i) total += st.expire_cycle();
    EXPECT_EQ(total, 1000u);
    std::size_t left = 0;
    for (std::size_t i = 0; i < st.shard_count(); ++i) left += st.at(i).size();
    EXPECT_EQ(left, 1000u);
  });
}

TEST(KvStore, ShardsLockedInIndexOrderOnce) {
  in_runtime([] {
    kv::store st(8);
    std::vector<std::string_view> keys{"a", "b", "a", "c", "d", "e", "f", "g", "h"};
    std::vector<std::size_t> want;
    for (auto k : keys) want.push_back(st.index_of(k));
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    auto locks = st.lock_keys(keys);
    ASSERT_EQ(locks.size(), want.size());
    for (std::size_t i = 0; i < locks.size(); ++i) {
      EXPECT_EQ(locks[i].mutex(), &st.at(want[i]).mu) << i;
      EXPECT_TRUE(locks[i].owns_lock()) << i;
    }
  });
}

TEST(KvCommands, ErrorsAreRedis7s) {
  in_runtime([] {
    harness h;
    EXPECT_EQ(h.run({"foo", "a"}), "-ERR unknown command 'foo', with args beginning with: 'a' \r\n");
    EXPECT_EQ(h.run({"foo"}), "-ERR unknown command 'foo', with args beginning with: \r\n");
    EXPECT_EQ(h.run({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n");
    EXPECT_EQ(h.run({"mset", "a", "1", "b"}), "-ERR wrong number of arguments for 'mset' command\r\n");
    EXPECT_EQ(h.run({"lpush", "l", "x"}), ":1\r\n");
    EXPECT_EQ(h.run({"get", "l"}), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    EXPECT_EQ(h.run({"set", "n", "x"}), "+OK\r\n");
    EXPECT_EQ(h.run({"incr", "n"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(h.run({"set", "n", "9223372036854775807"}), "+OK\r\n");
    EXPECT_EQ(h.run({"incr", "n"}), "-ERR increment or decrement would overflow\r\n");
    EXPECT_EQ(h.run({"set", "k", "v", "nx", "xx"}), "-ERR syntax error\r\n");
    EXPECT_EQ(h.run({"set", "k", "v", "ex", "0"}), "-ERR invalid expire time in 'set' command\r\n");
    EXPECT_EQ(h.run({"select", "1"}), "-ERR DB index is out of range\r\n");
  });
}

TEST(KvCommands, TypesAndCollectionsBehaveAsRedis) {
  in_runtime([] {
    harness h;
    EXPECT_EQ(h.run({"rpush", "l", "a", "b", "c"}), ":3\r\n");
    EXPECT_EQ(h.run({"lrange", "l", "-2", "-1"}), "*2\r\n$1\r\nb\r\n$1\r\nc\r\n");
    EXPECT_EQ(h.run({"lpop", "l", "5"}), "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    EXPECT_EQ(h.run({"exists", "l"}), ":0\r\n");  // an emptied list is deleted
    EXPECT_EQ(h.run({"zadd", "z", "2", "b", "1", "a", "1", "c"}), ":3\r\n");
    EXPECT_EQ(h.run({"zrange", "z", "0", "-1"}), "*3\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n");
    EXPECT_EQ(h.run({"zadd", "z", "incr", "0.5", "a"}), "$3\r\n1.5\r\n");
    EXPECT_EQ(h.run({"zpopmin", "z"}), "*2\r\n$1\r\nc\r\n$1\r\n1\r\n");
    EXPECT_EQ(h.run({"hset", "h", "f", "1", "g", "2"}), ":2\r\n");
    EXPECT_EQ(h.run({"hincrby", "h", "f", "41"}), ":42\r\n");
    EXPECT_EQ(h.run({"type", "h"}), "+hash\r\n");
    EXPECT_EQ(h.run({"sadd", "s", "x", "x", "y"}), ":2\r\n");
    EXPECT_EQ(h.run({"scard", "s"}), ":2\r\n");
    EXPECT_EQ(h.run({"dbsize"}), ":3\r\n");
    EXPECT_EQ(h.run({"flushall"}), "+OK\r\n");
    EXPECT_EQ(h.run({"dbsize"}), ":0\r\n");
  });
}

}  // namespace
