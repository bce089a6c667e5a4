// Mailboxes: send to a thread id, receive from any / from one sender, the
// blocking, non-blocking and timed forms, type checks, and threads that end.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "msg_test_support.hpp"
#include "weft/mailbox.hpp"
#include "weft/weft.hpp"

namespace {

using namespace std::chrono_literals;
using msg_test::blocked_on;
using weft::op_status;

class Mailbox : public msg_test::Workers {};
MSG_WORKER_COUNTS(Mailbox);

TEST_P(Mailbox, SendRightAfterSpawnIsReceivedWithTheSenderId) {
  weft::run(opts(), [] {
    auto t = weft::spawn_with_mailbox<std::string>([] {
      auto m = weft::receive<std::string>();
      EXPECT_TRUE(m.ok());
      return std::make_pair(m->from, m->body);
    });
    EXPECT_TRUE(weft::send(t.id(), std::string("hi")).ok());
    auto [from, body] = t.join();
    EXPECT_EQ(from, weft::this_thread::id());
    EXPECT_EQ(body, "hi");
  });
}

TEST_P(Mailbox, PingPongBetweenTwoThreads) {
  weft::run(opts(), [] {
    weft::open_mailbox<int>();
    EXPECT_TRUE(weft::has_mailbox());
    weft::thread_id me = weft::this_thread::id();
    auto echo = weft::spawn_with_mailbox<int>([me] {
      for (;;) {
        auto m = weft::receive<int>();
        if (m->body < 0) return;
        EXPECT_TRUE(weft::send(me, m->body + 1).ok());
      }
    });
    for (int i = 0; i < 1000; i += 2) {
      EXPECT_TRUE(weft::send(echo.id(), i).ok());
      auto r = weft::receive<int>();
      EXPECT_EQ(r->from, echo.id());
      EXPECT_EQ(r->body, i + 1);
    }
    EXPECT_TRUE(weft::send(echo.id(), -1).ok());
    echo.join();
  });
}

TEST_P(Mailbox, SendToAnEndedThreadFailsAndGivesTheMessageBack) {
  weft::run(opts(), [] {
    auto t = weft::spawn_with_mailbox<std::unique_ptr<int>>([] {});
    weft::thread_id id = t.id();
    t.join();
    auto r = weft::send(id, std::make_unique<int>(5));
    EXPECT_EQ(r.status(), op_status::closed);
    ASSERT_TRUE(r.has_message());
    EXPECT_EQ(*r.take_message(), 5);
    // An id that never had a mailbox is refused the same way.
    EXPECT_EQ(weft::try_send(987654321, std::make_unique<int>(1)).status(), op_status::closed);
  });
}

TEST_P(Mailbox, BlockedSendersGetTheirMessageBackWhenTheReceiverEnds) {
  weft::run(opts(), [] {
    weft::event stop;
    auto owner = weft::spawn_with_mailbox<std::string>([&] { stop.wait(); }, {}, 1);  // bounded: 1
    EXPECT_TRUE(weft::send(owner.id(), std::string("fills it")).ok());
    auto sender = weft::spawn([&] { return weft::send(owner.id(), std::string("blocked")); });
    ASSERT_TRUE(blocked_on(sender.id(), weft::wait_reason::mailbox));
    EXPECT_EQ(weft::try_send(owner.id(), std::string("full")).status(), op_status::would_block);
    stop.set();
    owner.join();
    auto r = sender.join();
    EXPECT_EQ(r.status(), op_status::closed);
    EXPECT_EQ(r.take_message(), "blocked");
  });
}

TEST_P(Mailbox, ReceiveFromOneSenderLeavesTheOthersQueued) {
  weft::run(opts(), [] {
    weft::open_mailbox<int>();
    weft::thread_id me = weft::this_thread::id();
    auto a = weft::spawn([me] { EXPECT_TRUE(weft::send(me, 1).ok()); });
    weft::thread_id aid = a.id();
    a.join();
    auto b = weft::spawn([me] {
      EXPECT_TRUE(weft::send(me, 2).ok());
      EXPECT_TRUE(weft::send(me, 3).ok());
    });
    weft::thread_id bid = b.id();
    b.join();
    auto r = weft::receive_from<int>(bid);
    EXPECT_EQ(r->body, 2);
    EXPECT_EQ(r->from, bid);
    EXPECT_EQ(weft::try_receive_from<int>(bid)->body, 3);
    EXPECT_EQ(weft::try_receive_from<int>(bid).status(), op_status::would_block);
    auto any = weft::try_receive<int>();
    ASSERT_TRUE(any.ok());
    EXPECT_EQ(any->body, 1);
    EXPECT_EQ(any->from, aid);

    // A blocked receive_from ignores other senders.
    auto c = weft::spawn([me] {
      weft::this_thread::sleep_for(1ms);
      EXPECT_TRUE(weft::send(me, 30).ok());
    });
    auto d = weft::spawn([me] {
      weft::this_thread::sleep_for(3ms);
      EXPECT_TRUE(weft::send(me, 40).ok());
    });
    EXPECT_EQ(weft::receive_from<int>(d.id())->body, 40);
    EXPECT_EQ(weft::receive<int>()->body, 30);
    c.join();
    d.join();
  });
}

TEST_P(Mailbox, TimedAndNonBlockingReceives) {
  weft::run(opts(), [] {
    weft::open_mailbox<int>();
    EXPECT_EQ(weft::try_receive<int>().status(), op_status::would_block);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(weft::receive_for<int>(3ms).status(), op_status::timeout);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 3ms);
    EXPECT_EQ(weft::receive_until<int>(std::chrono::steady_clock::now() + 1ms).status(), op_status::timeout);
    EXPECT_EQ(weft::receive_from_for<int>(1, 1ms).status(), op_status::timeout);
    EXPECT_EQ(weft::receive_from_until<int>(1, std::chrono::steady_clock::now() + 1ms).status(), op_status::timeout);
    auto waiter = weft::spawn_with_mailbox<int>([] { return weft::receive<int>()->body; });
    ASSERT_TRUE(blocked_on(waiter.id(), weft::wait_reason::mailbox));  // shown as such in snapshots
    EXPECT_TRUE(weft::send(waiter.id(), 8).ok());
    EXPECT_EQ(waiter.join(), 8);
    MSG_EXPECT_ERROR((void)weft::receive_for<int>(-1ms), weft::errc::invalid_argument);
    // Sending to oneself works and is then received at once.
    EXPECT_TRUE(weft::send_for(weft::this_thread::id(), 5, 1ms).ok());
    EXPECT_TRUE(weft::send_until(weft::this_thread::id(), 6, std::chrono::steady_clock::now() + 1ms).ok());
    EXPECT_EQ(weft::receive_for<int>(1s)->body, 5);
    EXPECT_EQ(weft::receive<int>()->body, 6);
  });
}

TEST(MailboxErrors, WrongTypeMissingMailboxAndForeignThreads) {
  weft::runtime rt({.workers = 2});
  auto t = weft::spawn_in(rt, [] {
    MSG_EXPECT_ERROR((void)weft::receive<int>(), weft::errc::invalid_state);  // no mailbox yet
    EXPECT_FALSE(weft::has_mailbox());
    weft::open_mailbox<int>();
    MSG_EXPECT_ERROR(weft::open_mailbox<int>(), weft::errc::invalid_state);  // one per thread
    MSG_EXPECT_ERROR((void)weft::send(weft::this_thread::id(), std::string("x")), weft::errc::invalid_argument);
    MSG_EXPECT_ERROR((void)weft::receive<long>(), weft::errc::invalid_argument);
    try {
      (void)weft::send(weft::this_thread::id(), 1.5);
    } catch (const weft::error& e) {
      EXPECT_NE(std::string(e.what()).find("holds int, not double"), std::string::npos) << e.what();
    }
    weft::close_mailbox();
    EXPECT_EQ(weft::send(weft::this_thread::id(), 1).status(), op_status::closed);
    EXPECT_EQ(weft::receive<int>().status(), op_status::closed);
  });
  t.join();
  // A foreign thread can send (from id 0) but has no mailbox of its own.
  MSG_EXPECT_ERROR(weft::open_mailbox<int>(), weft::errc::invalid_state);
  MSG_EXPECT_ERROR((void)weft::receive<int>(), weft::errc::invalid_state);
  EXPECT_FALSE(weft::has_mailbox());
  auto r = weft::spawn_with_mailbox<int>([] { return weft::receive<int>()->from; });
  EXPECT_TRUE(weft::send(r.id(), 1).ok());
  EXPECT_EQ(r.join(), 0u);
}

TEST(MailboxErrors, ForeignSenderNeedsExactlyOneRuntime) {
  MSG_EXPECT_ERROR((void)weft::send(1, 1), weft::errc::no_runtime);
  weft::runtime a({.workers = 1});
  weft::runtime b({.workers = 1});
  MSG_EXPECT_ERROR((void)weft::send(1, 1), weft::errc::no_runtime);
}

TEST_P(Mailbox, ManySendersOneReceiverPerSenderOrder) {
  weft::run(opts(), [] {
    constexpr int senders = 8, per = 500;
    weft::open_mailbox<int>();
    weft::thread_id me = weft::this_thread::id();
    std::vector<weft::thread<void>> ts;
    for (int s = 0; s < senders; ++s)
      ts.push_back(weft::spawn([me] {
        for (int i = 0; i < per; ++i) {
          EXPECT_TRUE(weft::send(me, i).ok());
          if (i % 64 == 0) weft::this_thread::yield();
        }
      }));
    std::map<weft::thread_id, int> next;
    for (int n = 0; n < senders * per; ++n) {
      auto m = weft::receive<int>();
      ASSERT_TRUE(m.ok());
      EXPECT_EQ(m->body, next[m->from]++);
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(next.size(), static_cast<std::size_t>(senders));
    EXPECT_EQ(weft::try_receive<int>().status(), op_status::would_block);
  });
}

}  // namespace
