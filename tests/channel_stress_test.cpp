// Stress with exact accounting: many producers and consumers on every
// worker (and foreign kernel threads mixed in), through every kind of
// buffering, with timeouts and selects racing the wake-ups. Every message
// must be received exactly once, and each consumer must see each producer's
// messages in the order they were sent (FIFO per channel).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "msg_test_support.hpp"
#include "weft/channel.hpp"
#include "weft/mailbox.hpp"
#include "weft/select.hpp"
#include "weft/weft.hpp"

namespace {

using namespace std::chrono_literals;
using weft::op_status;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int per_producer = 300;  // sanitizers run 5-20x slower
#else
constexpr int per_producer = 5000;
#endif

std::uint64_t encode(int producer, int seq) {
  return (static_cast<std::uint64_t>(producer) << 32) | static_cast<std::uint32_t>(seq);
}
int producer_of(std::uint64_t m) { return static_cast<int>(m >> 32); }
int seq_of(std::uint64_t m) { return static_cast<int>(m & 0xffffffffu); }

// What the consumers saw; checked once everyone is done.
class ledger {
 public:
  explicit ledger(int producers) : producers_(producers) {}

  // One consumer's log, in the order it received.
  void add(std::vector<std::uint64_t> log) {
    std::lock_guard lk(mu_);
    logs_.push_back(std::move(log));
  }

  void check(int per) const {
    std::vector<int> count(static_cast<std::size_t>(producers_) * per, 0);
    for (const auto& log : logs_) {
      std::vector<int> last(static_cast<std::size_t>(producers_), -1);
      for (std::uint64_t m : log) {
        int p = producer_of(m), s = seq_of(m);
        ASSERT_GE(p, 0);
        ASSERT_LT(p, producers_);
        ASSERT_LT(s, per);
        ASSERT_GT(s, last[p]) << "producer " << p << " out of order at one consumer";
        last[p] = s;
        ++count[static_cast<std::size_t>(p) * per + s];
      }
    }
    for (std::size_t i = 0; i < count.size(); ++i)
      ASSERT_EQ(count[i], 1) << "message " << i / per << ":" << i % per << " received " << count[i] << " times";
  }

 private:
  int producers_;
  std::mutex mu_;
  std::vector<std::vector<std::uint64_t>> logs_;
};

struct Case {
  unsigned workers;
  std::size_t capacity;
};

class ChannelStress : public ::testing::TestWithParam<Case> {};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string cap = info.param.capacity == weft::unbounded ? "unbounded" : std::to_string(info.param.capacity);
  return "w" + std::to_string(info.param.workers) + "_cap" + cap;
}

INSTANTIATE_TEST_SUITE_P(All, ChannelStress,
                         ::testing::Values(Case{2, 0}, Case{2, 1}, Case{2, 64}, Case{2, weft::unbounded}, Case{4, 0},
                                           Case{4, 16}),
                         case_name);

// Green producers and consumers; half of each use timed operations and retry.
TEST_P(ChannelStress, GreenProducersAndConsumersExactlyOnceInOrder) {
  constexpr int producers = 8, consumers = 6;
  weft::channel<std::uint64_t> ch(GetParam().capacity);
  ledger seen(producers);
  weft::run({.workers = GetParam().workers}, [&] {
    std::vector<weft::thread<void>> ps, cs;
    for (int c = 0; c < consumers; ++c)
      cs.push_back(weft::spawn([&, c] {
        std::vector<std::uint64_t> log;
        for (;;) {
          auto r = c % 2 ? ch.recv_for(50us) : ch.recv();
          if (r.status() == op_status::timeout) continue;
          if (!r) break;
          log.push_back(*r);
        }
        seen.add(std::move(log));
      }));
    for (int p = 0; p < producers; ++p)
      ps.push_back(weft::spawn([&, p] {
        for (int i = 0; i < per_producer; ++i) {
          std::uint64_t m = encode(p, i);
          if (p % 2) {
            // A timed-out send hands the value back: send it again, in order.
            for (;;) {
              auto s = ch.send_for(m, 30us);
              if (s.ok()) break;
              ASSERT_EQ(s.status(), op_status::timeout);
              m = s.take_message();
            }
          } else {
            ASSERT_TRUE(ch.send(m).ok());
          }
          if (i % 97 == 0) weft::this_thread::yield();
        }
      }));
    for (auto& t : ps) t.join();
    ch.close();
    for (auto& t : cs) t.join();
  });
  seen.check(per_producer);
}

// The same with foreign kernel threads among the producers and consumers.
TEST_P(ChannelStress, ForeignThreadsMixedIn) {
  constexpr int green_producers = 4, foreign_producers = 2, green_consumers = 3, foreign_consumers = 2;
  constexpr int producers = green_producers + foreign_producers;
  weft::channel<std::uint64_t> ch(GetParam().capacity);
  ledger seen(producers);
  weft::runtime rt({.workers = GetParam().workers});
  auto consume = [&] {
    std::vector<std::uint64_t> log;
    while (auto r = ch.recv()) log.push_back(*r);
    seen.add(std::move(log));
  };
  auto produce = [&](int p) {
    for (int i = 0; i < per_producer; ++i) ASSERT_TRUE(ch.send(encode(p, i)).ok());
  };
  std::vector<weft::thread<void>> gp, gc;
  std::vector<std::thread> fp, fc;
  for (int c = 0; c < green_consumers; ++c) gc.push_back(weft::spawn_in(rt, consume));
  for (int c = 0; c < foreign_consumers; ++c) fc.emplace_back(consume);
  for (int p = 0; p < green_producers; ++p) gp.push_back(weft::spawn_in(rt, [&, p] { produce(p); }));
  for (int p = green_producers; p < producers; ++p) fp.emplace_back(produce, p);
  for (auto& t : gp) t.join();
  for (auto& t : fp) t.join();
  ch.close();
  for (auto& t : gc) t.join();
  for (auto& t : fc) t.join();
  seen.check(per_producer);
}

// Consumers select over three channels with a timeout, some producers send
// through select too; exactly one case may fire per select, however the
// wakes race.
TEST_P(ChannelStress, SelectConsumersExactlyOnce) {
  constexpr int producers = 6, consumers = 4, nchan = 3;
  std::vector<std::unique_ptr<weft::channel<std::uint64_t>>> chans;
  for (int i = 0; i < nchan; ++i) chans.push_back(std::make_unique<weft::channel<std::uint64_t>>(GetParam().capacity));
  ledger seen(producers);
  weft::run({.workers = GetParam().workers}, [&] {
    std::vector<weft::thread<void>> ps, cs;
    for (int c = 0; c < consumers; ++c)
      cs.push_back(weft::spawn([&] {
        std::vector<std::uint64_t> log;
        std::optional<std::uint64_t> v[nchan];
        bool closed[nchan] = {};
        while (true) {
          std::vector<weft::select_case> cases;
          std::vector<int> which;
          for (int k = 0; k < nchan; ++k)
            if (!closed[k]) {
              cases.push_back(weft::on_recv(*chans[k], v[k]));
              which.push_back(k);
            }
          if (cases.empty()) break;
          auto r = weft::select_for(cases.data(), cases.size(), 200us);
          if (r.status == op_status::timeout) continue;
          int k = which[static_cast<std::size_t>(r.index)];
          if (r.status == op_status::closed) {
            closed[k] = true;
            continue;
          }
          ASSERT_TRUE(r.ok());
          log.push_back(*v[k]);
          v[k].reset();
        }
        seen.add(std::move(log));
      }));
    for (int p = 0; p < producers; ++p)
      ps.push_back(weft::spawn([&, p] {
        auto& ch = *chans[static_cast<std::size_t>(p % nchan)];  // one channel per producer keeps its order
        for (int i = 0; i < per_producer; ++i) {
          std::uint64_t m = encode(p, i);
          if (p < nchan) {
            ASSERT_TRUE(ch.send(m).ok());
          } else {
            auto r = weft::select({weft::on_send(ch, m)});
            ASSERT_TRUE(r.ok());
          }
        }
      }));
    for (auto& t : ps) t.join();
    for (auto& c : chans) c->close();
    for (auto& t : cs) t.join();
  });
  seen.check(per_producer);
}

// Mailboxes: green and foreign senders to one receiver; per-sender order
// and exact counts.
TEST(MailboxStress, GreenAndForeignSendersToOneReceiver) {
  constexpr int green = 6, foreign = 2;
  weft::runtime rt({.workers = 2});
  auto receiver = weft::spawn_with_mailbox<int>(
      [&] {
        std::vector<int> next_green(green, 0);
        int next_foreign[foreign] = {};
        std::map<weft::thread_id, int> green_index;
        int total = 0;
        while (total < (green + foreign) * per_producer) {
          auto m = weft::receive<int>();
          EXPECT_TRUE(m.ok());
          int who = m->body / per_producer, seq = m->body % per_producer;
          if (m->from == 0) {
            // Foreign senders are all id 0: the body says which one.
            EXPECT_GE(who, green);
            EXPECT_EQ(seq, next_foreign[who - green]++);
          } else {
            auto [it, fresh] = green_index.try_emplace(m->from, static_cast<int>(green_index.size()));
            (void)fresh;
            EXPECT_EQ(seq, next_green[static_cast<std::size_t>(it->second)]++);
          }
          ++total;
        }
        return total;
      },
      {}, 64);
  weft::thread_id to = receiver.id();
  std::vector<weft::thread<void>> gs;
  for (int s = 0; s < green; ++s)
    gs.push_back(weft::spawn_in(rt, [to, s] {
      for (int i = 0; i < per_producer; ++i) ASSERT_TRUE(weft::send(to, s * per_producer + i).ok());
    }));
  std::vector<std::thread> fs;
  for (int s = green; s < green + foreign; ++s)
    fs.emplace_back([to, s] {
      for (int i = 0; i < per_producer; ++i) ASSERT_TRUE(weft::send(to, s * per_producer + i).ok());
    });
  for (auto& t : gs) t.join();
  for (auto& t : fs) t.join();
  EXPECT_EQ(receiver.join(), (green + foreign) * per_producer);
}

}  // namespace
