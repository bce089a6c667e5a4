// channel<T> and priority_channel<T>: the three kinds of buffering, the four
// forms of every operation, close, filters, priorities, foreign threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "msg_test_support.hpp"
#include "weft/channel.hpp"
#include "weft/weft.hpp"

namespace {

using namespace std::chrono_literals;
using msg_test::blocked_on;
using weft::op_status;

class Channel : public msg_test::Workers {};
MSG_WORKER_COUNTS(Channel);

TEST_P(Channel, RendezvousSendWaitsForTheReceiver) {
  weft::run(opts(), [] {
    weft::channel<int> ch(0);
    std::atomic<bool> sent{false};
    auto sender = weft::spawn([&] {
      EXPECT_TRUE(ch.send(7).ok());
      sent = true;
    });
    ASSERT_TRUE(blocked_on(sender.id(), weft::wait_reason::channel_send));
    EXPECT_FALSE(sent.load());
    EXPECT_EQ(ch.size(), 0u);  // nothing is buffered at capacity 0
    auto r = ch.recv();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 7);
    sender.join();
    EXPECT_TRUE(sent.load());
  });
}

TEST_P(Channel, RendezvousReceiverWaitsForTheSender) {
  weft::run(opts(), [] {
    weft::channel<std::string> ch(0);
    auto receiver = weft::spawn([&] { return ch.recv().value(); });
    ASSERT_TRUE(blocked_on(receiver.id(), weft::wait_reason::channel_recv));
    EXPECT_TRUE(ch.send("hello").ok());
    EXPECT_EQ(receiver.join(), "hello");
  });
}

TEST(ChannelBasic, TrySendAndTryRecvNeverBlock) {
  weft::run({.workers = 1}, [] {
    weft::channel<int> rv(0);
    auto s = rv.try_send(1);
    EXPECT_EQ(s.status(), op_status::would_block);
    ASSERT_TRUE(s.has_message());
    EXPECT_EQ(s.message(), 1);
    EXPECT_EQ(rv.try_recv().status(), op_status::would_block);

    weft::channel<int> b(1);
    EXPECT_TRUE(b.try_send(1).ok());
    auto full = b.try_send(2);
    EXPECT_EQ(full.status(), op_status::would_block);
    EXPECT_EQ(full.take_message(), 2);
    auto r = b.try_recv();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 1);
  });
}

TEST(ChannelBasic, TrySendHandsOffToAParkedReceiver) {
  weft::run({.workers = 1}, [] {
    weft::channel<int> ch(0);
    auto receiver = weft::spawn([&] { return *ch.recv(); });
    ASSERT_TRUE(blocked_on(receiver.id(), weft::wait_reason::channel_recv));
    EXPECT_TRUE(ch.try_send(42).ok());
    EXPECT_EQ(receiver.join(), 42);
  });
}

TEST_P(Channel, BoundedSendBlocksAtCapacityAndResumesInFifoOrder) {
  weft::run(opts(), [] {
    weft::channel<int> ch(2);
    EXPECT_TRUE(ch.send(0).ok());
    EXPECT_TRUE(ch.send(1).ok());
    EXPECT_EQ(ch.size(), 2u);
    std::vector<weft::thread<void>> senders;
    for (int v = 2; v < 6; ++v) {
      senders.push_back(weft::spawn([&ch, v] { EXPECT_TRUE(ch.send(v).ok()); }));
      // Each blocks before the next starts, so the queue order is 2, 3, 4, 5.
      ASSERT_TRUE(blocked_on(senders.back().id(), weft::wait_reason::channel_send));
    }
    EXPECT_EQ(ch.size(), 2u);
    for (int want = 0; want < 6; ++want) {
      auto r = ch.recv();
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(*r, want);
    }
    for (auto& s : senders) s.join();
    EXPECT_EQ(ch.size(), 0u);
  });
}

TEST(ChannelBasic, UnboundedNeverBlocksAndKeepsOrder) {
  weft::run({.workers = 1}, [] {
    weft::channel<int> ch(weft::unbounded);
    EXPECT_EQ(ch.capacity(), weft::unbounded);
    for (int i = 0; i < 10000; ++i) ASSERT_TRUE(ch.try_send(i).ok());
    EXPECT_EQ(ch.size(), 10000u);
    for (int i = 0; i < 10000; ++i) ASSERT_EQ(*ch.try_recv(), i);
    EXPECT_EQ(ch.try_recv().status(), op_status::would_block);
  });
}

TEST(ChannelBasic, MoveOnlyValues) {
  weft::run({.workers = 2}, [] {
    weft::channel<std::unique_ptr<int>> ch(1);
    auto t = weft::spawn([&] {
      for (int i = 0; i < 100; ++i) EXPECT_TRUE(ch.send(std::make_unique<int>(i)).ok());
      ch.close();
    });
    int n = 0;
    while (auto r = ch.recv()) {
      ASSERT_TRUE(*r);
      EXPECT_EQ(**r, n++);
    }
    EXPECT_EQ(n, 100);
    t.join();
    auto back = ch.send(std::make_unique<int>(5));
    EXPECT_EQ(back.status(), op_status::closed);
    EXPECT_EQ(*back.take_message(), 5);
  });
}

TEST_P(Channel, TimeoutsFireAndLeaveTheChannelConsistent) {
  weft::run(opts(), [] {
    weft::channel<int> ch(1);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(ch.recv_for(5ms).status(), op_status::timeout);
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, 5ms);
    EXPECT_LT(waited, weft_test::absurdly_late);

    EXPECT_TRUE(ch.send(1).ok());
    auto full = ch.send_for(2, 2ms);
    EXPECT_EQ(full.status(), op_status::timeout);
    EXPECT_EQ(full.take_message(), 2);
    auto until = ch.send_until(3, std::chrono::steady_clock::now() + 1ms);
    EXPECT_EQ(until.status(), op_status::timeout);

    // Still consistent: the one buffered value, then empty again.
    EXPECT_EQ(ch.size(), 1u);
    EXPECT_EQ(*ch.recv_until(std::chrono::steady_clock::now() + 1s), 1);
    EXPECT_EQ(ch.try_recv().status(), op_status::would_block);

    // A timed-out rendezvous sender left nothing behind for the next receiver.
    weft::channel<int> rv(0);
    EXPECT_EQ(rv.send_for(9, 1ms).status(), op_status::timeout);
    auto late = weft::spawn([&] { EXPECT_TRUE(rv.send(10).ok()); });
    EXPECT_EQ(*rv.recv(), 10);
    late.join();
  });
}

TEST(ChannelBasic, NegativeTimeoutIsAnError) {
  weft::run({.workers = 1}, [] {
    weft::channel<int> ch(1);
    MSG_EXPECT_ERROR((void)ch.recv_for(-1ms), weft::errc::invalid_argument);
    MSG_EXPECT_ERROR((void)ch.send_for(1, -1ms), weft::errc::invalid_argument);
    EXPECT_EQ(ch.size(), 0u);
  });
}

TEST(ChannelBasic, ValueOfAFailedReceiveThrows) {
  weft::run({.workers = 1}, [] {
    weft::channel<int> ch(1);
    MSG_EXPECT_ERROR((void)ch.recv_for(0ms).value(), weft::errc::timed_out);
    ch.close();
    MSG_EXPECT_ERROR((void)ch.recv().value(), weft::errc::closed);
    auto s = ch.send(1);
    EXPECT_FALSE(s);
    auto ok = weft::channel<int>(1).try_send(1);
    MSG_EXPECT_ERROR((void)ok.message(), weft::errc::invalid_state);
  });
}

TEST_P(Channel, CloseDrainsBufferedValuesThenReportsClosed) {
  weft::run(opts(), [] {
    weft::channel<int> ch(4);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(ch.send(i).ok());
    EXPECT_TRUE(ch.close());
    EXPECT_FALSE(ch.close());
    EXPECT_TRUE(ch.closed());
    auto s = ch.try_send(9);
    EXPECT_EQ(s.status(), op_status::closed);
    EXPECT_EQ(s.message(), 9);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(*ch.recv(), i);
    EXPECT_EQ(ch.recv().status(), op_status::closed);
    EXPECT_EQ(ch.try_recv().status(), op_status::closed);
    EXPECT_EQ(ch.recv_for(1s).status(), op_status::closed);
  });
}

TEST_P(Channel, CloseWakesBlockedReceiversAndSenders) {
  weft::run(opts(), [] {
    weft::channel<int> empty(0);
    std::vector<weft::thread<op_status>> receivers;
    for (int i = 0; i < 3; ++i) {
      receivers.push_back(weft::spawn([&] { return empty.recv().status(); }));
      ASSERT_TRUE(blocked_on(receivers.back().id(), weft::wait_reason::channel_recv));
    }
    empty.close();
    for (auto& r : receivers) EXPECT_EQ(r.join(), op_status::closed);

    for (std::size_t cap : {std::size_t{0}, std::size_t{1}}) {
      weft::channel<std::string> full(cap);
      if (cap) {
        EXPECT_TRUE(full.send("buffered").ok());
      }
      std::vector<weft::thread<std::string>> senders;
      for (int i = 0; i < 3; ++i) {
        senders.push_back(weft::spawn([&full, i] {
          auto r = full.send("msg" + std::to_string(i));
          EXPECT_EQ(r.status(), op_status::closed);
          return r.take_message();  // nothing is dropped: the value comes back
        }));
        ASSERT_TRUE(blocked_on(senders.back().id(), weft::wait_reason::channel_send));
      }
      full.close();
      for (int i = 0; i < 3; ++i) EXPECT_EQ(senders[i].join(), "msg" + std::to_string(i));
      if (cap) {
        EXPECT_EQ(*full.recv(), "buffered");
      }
      EXPECT_EQ(full.recv().status(), op_status::closed);
    }
  });
}

TEST_P(Channel, ReceiveIfTakesTheFirstMatchingValue) {
  weft::run(opts(), [] {
    weft::channel<int> ch(8);
    for (int v : {1, 2, 3, 4, 5}) EXPECT_TRUE(ch.send(v).ok());
    auto even = [](int v) { return v % 2 == 0; };
    EXPECT_EQ(*ch.recv_if(even), 2);
    EXPECT_EQ(*ch.recv_if(even), 4);
    EXPECT_EQ(ch.try_recv_if(even).status(), op_status::would_block);
    EXPECT_EQ(ch.size(), 3u);
    for (int v : {1, 3, 5}) EXPECT_EQ(*ch.recv(), v);  // the others kept their order

    // A blocked filtered receiver is woken only by a value it accepts.
    auto t = weft::spawn([&] { return *ch.recv_if([](int v) { return v > 100; }); });
    ASSERT_TRUE(blocked_on(t.id(), weft::wait_reason::channel_recv));
    EXPECT_TRUE(ch.send(7).ok());
    EXPECT_TRUE(ch.send(700).ok());
    EXPECT_EQ(t.join(), 700);
    EXPECT_EQ(*ch.recv(), 7);
    EXPECT_EQ(ch.recv_if_for(even, 1ms).status(), op_status::timeout);

    // At capacity 0 a filter looks at blocked senders' values.
    weft::channel<int> rv(0);
    auto s1 = weft::spawn([&] { EXPECT_TRUE(rv.send(1).ok()); });
    ASSERT_TRUE(blocked_on(s1.id(), weft::wait_reason::channel_send));
    auto s2 = weft::spawn([&] { EXPECT_TRUE(rv.send(2).ok()); });
    ASSERT_TRUE(blocked_on(s2.id(), weft::wait_reason::channel_send));
    EXPECT_EQ(*rv.recv_if(even), 2);
    s2.join();
    EXPECT_EQ(*rv.recv(), 1);
    s1.join();
  });
}

TEST(PriorityChannel, HighestFirstFifoWithinAPriority) {
  weft::run({.workers = 1}, [] {
    weft::priority_channel<std::string> ch;
    EXPECT_TRUE(ch.send("low-a", 1).ok());
    EXPECT_TRUE(ch.send("high-a", 5).ok());
    EXPECT_TRUE(ch.send("low-b", 1).ok());
    EXPECT_TRUE(ch.send("high-b", 5).ok());
    EXPECT_TRUE(ch.send("mid", 3).ok());
    for (const char* want : {"high-a", "high-b", "mid", "low-a", "low-b"}) EXPECT_EQ(*ch.recv(), want);
    EXPECT_TRUE(ch.send("x", -2).ok());
    EXPECT_TRUE(ch.send("yy", -1).ok());
    EXPECT_EQ(*ch.recv_if([](const std::string& s) { return s.size() == 1; }), "x");
    EXPECT_EQ(*ch.recv(), "yy");
  });
}

TEST(PriorityChannel, BlockedSendersEnterHighestPriorityFirst) {
  weft::run({.workers = 2}, [] {
    weft::priority_channel<int> ch(1);
    EXPECT_TRUE(ch.send(0, 0).ok());
    std::vector<weft::thread<void>> senders;
    for (int p : {1, 9, 5}) {
      senders.push_back(weft::spawn([&ch, p] { EXPECT_TRUE(ch.send(p, p).ok()); }));
      ASSERT_TRUE(blocked_on(senders.back().id(), weft::wait_reason::channel_send));
    }
    for (int want : {0, 9, 5, 1}) EXPECT_EQ(*ch.recv(), want);
    for (auto& s : senders) s.join();
  });
}

TEST(PriorityChannel, CapacityZeroIsRejected) {
  MSG_EXPECT_ERROR(weft::priority_channel<int>(0), weft::errc::invalid_argument);
}

TEST_P(Channel, ForeignKernelThreadsSendAndReceive) {
  weft::runtime rt(opts());
  weft::channel<int> to_green(0);
  weft::channel<int> to_foreign(2);
  auto doubler = weft::spawn_in(rt, [&] {
    while (auto r = to_green.recv()) EXPECT_TRUE(to_foreign.send(*r * 2).ok());
    to_foreign.close();
  });
  std::thread feeder([&] {
    for (int i = 0; i < 200; ++i) EXPECT_TRUE(to_green.send(i).ok());
    to_green.close();
  });
  long sum = 0;
  int n = 0;
  while (auto r = to_foreign.recv()) {  // this test's own kernel thread is foreign too
    sum += *r;
    ++n;
  }
  feeder.join();
  doubler.join();
  EXPECT_EQ(n, 200);
  EXPECT_EQ(sum, 2 * (199 * 200 / 2));
  // A foreign thread's timed wait works too.
  EXPECT_EQ(to_green.recv_for(1ms).status(), op_status::closed);
  weft::channel<int> idle(0);
  EXPECT_EQ(idle.recv_for(2ms).status(), op_status::timeout);
}

}  // namespace
