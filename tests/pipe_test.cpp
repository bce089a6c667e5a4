// weft::pipe: POSIX pipe semantics between green and foreign threads.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "msg_test_support.hpp"
#include "weft/pipe.hpp"
#include "weft/weft.hpp"

namespace {

using namespace std::chrono_literals;
using msg_test::blocked_on;
using weft::op_status;

class Pipe : public msg_test::Workers {};
MSG_WORKER_COUNTS(Pipe);

TEST(PipeBasic, PartialReadsAndEof) {
  weft::run({.workers = 1}, [] {
    weft::pipe p(16);
    EXPECT_EQ(p.capacity(), 16u);
    auto w = p.write("hello", 5);
    EXPECT_TRUE(w);
    EXPECT_EQ(w.bytes, 5u);
    char buf[8] = {};
    auto r = p.read(buf, 3);  // asks for less than is there
    EXPECT_EQ(r.bytes, 3u);
    EXPECT_EQ(std::string(buf, 3), "hel");
    r = p.read(buf, 8);  // asks for more than is there: gets what is there
    EXPECT_EQ(r.bytes, 2u);
    EXPECT_EQ(std::string(buf, 2), "lo");
    EXPECT_EQ(p.try_read(buf, 8).status, op_status::would_block);
    EXPECT_EQ(p.read(buf, 0).status, op_status::ok);
    EXPECT_TRUE(p.write("xy", 2));
    p.close_write();
    r = p.read(buf, 8);
    EXPECT_EQ(r.bytes, 2u);  // bytes written before the close still arrive
    r = p.read(buf, 8);
    EXPECT_EQ(r.bytes, 0u);
    EXPECT_EQ(r.status, op_status::closed);  // EOF
    EXPECT_EQ(p.write("z", 1).status, op_status::closed);
  });
}

TEST_P(Pipe, ReaderBlocksWhileEmpty) {
  weft::run(opts(), [] {
    weft::pipe p;
    auto reader = weft::spawn([&] {
      char c = 0;
      auto r = p.read(&c, 1);
      EXPECT_TRUE(r);
      return c;
    });
    ASSERT_TRUE(blocked_on(reader.id(), weft::wait_reason::pipe));
    EXPECT_TRUE(p.write("!", 1));
    EXPECT_EQ(reader.join(), '!');
  });
}

TEST_P(Pipe, WriterBlocksWhileFullAndEverythingArrivesInOrder) {
  weft::run(opts(), [] {
    weft::pipe p(64);
    std::vector<unsigned char> data(10000);
    std::iota(data.begin(), data.end(), 0);
    auto writer = weft::spawn([&] {
      auto w = p.write(data.data(), data.size());  // 10000 bytes through a 64-byte pipe
      EXPECT_TRUE(w);
      EXPECT_EQ(w.bytes, data.size());
      p.close_write();
    });
    ASSERT_TRUE(blocked_on(writer.id(), weft::wait_reason::pipe));
    EXPECT_EQ(p.size(), 64u);
    std::vector<unsigned char> got;
    unsigned char buf[50];
    for (;;) {
      auto r = p.read(buf, sizeof buf);
      if (r.status == op_status::closed) break;
      ASSERT_TRUE(r);
      got.insert(got.end(), buf, buf + r.bytes);
    }
    writer.join();
    EXPECT_EQ(got, data);
  });
}

TEST_P(Pipe, WriteAfterTheReadEndClosesFailsLikeEpipe) {
  weft::run(opts(), [] {
    weft::pipe p(8);
    std::string big(20, 'x');
    auto writer = weft::spawn([&] { return p.write(big.data(), big.size()); });
    ASSERT_TRUE(blocked_on(writer.id(), weft::wait_reason::pipe));
    p.close_read();
    auto w = writer.join();
    EXPECT_EQ(w.status, op_status::closed);
    EXPECT_EQ(w.bytes, 8u);  // what went in before the pipe filled
    EXPECT_EQ(p.write("a", 1).status, op_status::closed);
    char c;
    EXPECT_EQ(p.read(&c, 1).status, op_status::closed);
  });
}

TEST_P(Pipe, SmallWritesAreAtomic) {
  weft::run(opts(), [] {
    // Two writers of 100-byte records through a 150-byte pipe: a record never
    // splits, although only one fits at a time.
    weft::pipe p(150);
    constexpr int records = 200;
    auto writer = [&](char tag) {
      return weft::spawn([&p, tag] {
        std::string rec(100, tag);
        for (int i = 0; i < records; ++i) EXPECT_EQ(p.write(rec.data(), rec.size()).bytes, 100u);
      });
    };
    auto a = writer('a');
    auto b = writer('b');
    std::string all;
    char buf[64];
    while (all.size() < 2 * records * 100) {
      auto r = p.read(buf, sizeof buf);
      ASSERT_TRUE(r);
      all.append(buf, r.bytes);
    }
    a.join();
    b.join();
    for (std::size_t i = 0; i < all.size(); i += 100)
      ASSERT_EQ(all.compare(i, 100, std::string(100, all[i])), 0) << "record at " << i << " was split";
  });
}

TEST(PipeBasic, TimeoutsAndTryWrite) {
  weft::run({.workers = 1}, [] {
    weft::pipe p(4);
    char buf[8];
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(p.read_for(buf, 8, 3ms).status, op_status::timeout);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 3ms);
    EXPECT_EQ(p.try_write("abc", 3).bytes, 3u);
    EXPECT_EQ(p.try_write("de", 2).status, op_status::would_block);  // atomic: 2 bytes do not fit in 1
    auto w = p.write_for("de", 2, 2ms);
    EXPECT_EQ(w.status, op_status::timeout);
    EXPECT_EQ(w.bytes, 0u);
    EXPECT_EQ(p.size(), 3u);
    MSG_EXPECT_ERROR((void)p.read_for(buf, 1, -1ms), weft::errc::invalid_argument);
    MSG_EXPECT_ERROR(weft::pipe(0), weft::errc::invalid_argument);
  });
}

TEST_P(Pipe, BetweenAGreenAndAForeignThread) {
  weft::runtime rt(opts());
  weft::pipe p(32);
  std::thread foreign([&] {
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(p.write(&i, sizeof i));
    p.close_write();
  });
  auto sum = weft::spawn_in(rt, [&] {
    long s = 0;
    int v;
    std::size_t have = 0;
    char* dst = reinterpret_cast<char*>(&v);
    for (;;) {
      auto r = p.read(dst + have, sizeof v - have);
      if (r.status == op_status::closed) break;
      have += r.bytes;
      if (have == sizeof v) {
        s += v;
        have = 0;
      }
    }
    return s;
  });
  EXPECT_EQ(sum.join(), 999L * 1000 / 2);
  foreign.join();
}

}  // namespace
