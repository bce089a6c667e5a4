// select over channel operations: which case fires, default branch,
// timeouts, closed channels, fairness, foreign threads.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "msg_test_support.hpp"
#include "weft/channel.hpp"
#include "weft/select.hpp"
#include "weft/weft.hpp"

namespace {

using namespace std::chrono_literals;
using msg_test::blocked_on;
using weft::on_recv;
using weft::on_send;
using weft::op_status;

class Select : public msg_test::Workers {};
MSG_WORKER_COUNTS(Select);

TEST(SelectBasic, AReadyReceiveFiresAtOnce) {
  weft::run({.workers = 1}, [] {
    weft::channel<int> a(1), b(1);
    EXPECT_TRUE(b.send(5).ok());
    std::optional<int> va, vb;
    auto r = weft::select({on_recv(a, va), on_recv(b, vb)});
    EXPECT_EQ(r.index, 1);
    EXPECT_TRUE(r.ok());
    EXPECT_FALSE(va);
    ASSERT_TRUE(vb);
    EXPECT_EQ(*vb, 5);
  });
}

TEST(SelectBasic, TrySelectIsTheDefaultBranch) {
  weft::run({.workers = 1}, [] {
    weft::channel<int> a(0), b(1);
    std::optional<int> va;
    int out = 3;
    EXPECT_TRUE(b.send(1).ok());  // b is full: the send case cannot fire
    auto r = weft::try_select({on_recv(a, va), on_send(b, out)});
    EXPECT_EQ(r.index, -1);
    EXPECT_EQ(r.status, op_status::would_block);
    EXPECT_EQ(out, 3);  // not moved: its case did not fire
    EXPECT_EQ(b.size(), 1u);
    EXPECT_EQ(weft::try_select({}).status, op_status::would_block);
  });
}

TEST_P(Select, ABlockedSelectIsWokenByTheFirstSender) {
  weft::run(opts(), [] {
    weft::channel<int> a(0), b(0), c(0);
    std::optional<int> va, vb, vc;
    auto t = weft::spawn([&] { return weft::select({on_recv(a, va), on_recv(b, vb), on_recv(c, vc)}); });
    ASSERT_TRUE(blocked_on(t.id(), weft::wait_reason::select));
    EXPECT_TRUE(b.send(42).ok());  // rendezvous: returns once the select took it
    auto r = t.join();
    EXPECT_EQ(r.index, 1);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(vb, 42);
    EXPECT_FALSE(va);
    EXPECT_FALSE(vc);
    // The select left no node behind: nobody waits on a or c any more.
    EXPECT_EQ(a.try_send(1).status(), op_status::would_block);
    EXPECT_EQ(c.try_send(1).status(), op_status::would_block);
  });
}

TEST_P(Select, ASendCaseFiresWhenAReceiverComes) {
  weft::run(opts(), [] {
    weft::channel<std::string> out(0);
    weft::channel<int> in(0);
    std::string msg = "payload";
    std::optional<int> got;
    auto t = weft::spawn([&] { return weft::select({on_recv(in, got), on_send(out, msg)}); });
    ASSERT_TRUE(blocked_on(t.id(), weft::wait_reason::select));
    auto r = out.recv();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "payload");
    auto sr = t.join();
    EXPECT_EQ(sr.index, 1);
    EXPECT_TRUE(sr.ok());
    EXPECT_FALSE(got);
  });
}

TEST_P(Select, TimeoutFiresAndLeavesNoNodeBehind) {
  weft::run(opts(), [] {
    weft::channel<int> a(0), b(0);
    std::optional<int> va, vb;
    auto t0 = std::chrono::steady_clock::now();
    auto r = weft::select_for({on_recv(a, va), on_recv(b, vb)}, 5ms);
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.index, -1);
    EXPECT_EQ(r.status, op_status::timeout);
    EXPECT_GE(waited, 5ms);
    EXPECT_LT(waited, weft_test::absurdly_late);
    EXPECT_EQ(a.try_send(1).status(), op_status::would_block);
    EXPECT_EQ(b.try_send(1).status(), op_status::would_block);
    auto u = weft::select_until({on_recv(a, va)}, std::chrono::steady_clock::now() + 1ms);
    EXPECT_EQ(u.status, op_status::timeout);
    EXPECT_EQ(weft::select_for({}, 1ms).status, op_status::timeout);
    MSG_EXPECT_ERROR((void)weft::select_for({on_recv(a, va)}, -1ms), weft::errc::invalid_argument);
    MSG_EXPECT_ERROR((void)weft::select({}), weft::errc::invalid_argument);
    MSG_EXPECT_ERROR((void)weft::select({weft::select_case{}}), weft::errc::invalid_argument);
  });
}

TEST_P(Select, ClosedChannelsAreReadyWithClosed) {
  weft::run(opts(), [] {
    weft::channel<int> a(0), b(0);
    std::optional<int> va;
    int v = 9;
    a.close();
    auto r = weft::select({on_recv(a, va), on_recv(b, va)});
    EXPECT_EQ(r.index, 0);
    EXPECT_EQ(r.status, op_status::closed);
    b.close();
    auto s = weft::select({on_send(b, v)});
    EXPECT_EQ(s.index, 0);
    EXPECT_EQ(s.status, op_status::closed);
    EXPECT_EQ(v, 9);  // a failed send keeps its value

    // Closing a channel wakes a select blocked on it.
    weft::channel<int> c(0), d(0);
    auto t = weft::spawn([&] {
      std::optional<int> vc, vd;
      return weft::select({on_recv(c, vc), on_recv(d, vd)});
    });
    ASSERT_TRUE(blocked_on(t.id(), weft::wait_reason::select));
    d.close();
    auto tr = t.join();
    EXPECT_EQ(tr.index, 1);
    EXPECT_EQ(tr.status, op_status::closed);
  });
}

TEST(SelectBasic, FairBetweenReadyCases) {
  weft::run({.workers = 1}, [] {
    constexpr int rounds = 4000;
    std::array<weft::channel<int>, 4> chans{weft::channel<int>(weft::unbounded), weft::channel<int>(weft::unbounded),
                                            weft::channel<int>(weft::unbounded), weft::channel<int>(weft::unbounded)};
    for (auto& c : chans)
      for (int i = 0; i < rounds; ++i) ASSERT_TRUE(c.try_send(i).ok());
    std::array<int, 4> hits{};
    std::optional<int> v;
    for (int i = 0; i < rounds; ++i) {
      auto r = weft::select({on_recv(chans[0], v), on_recv(chans[1], v), on_recv(chans[2], v), on_recv(chans[3], v)});
      ASSERT_TRUE(r.ok());
      ++hits[static_cast<std::size_t>(r.index)];
    }
    // Uniform would be 1000 each; 700 is more than 10 standard deviations away.
    for (int h : hits) EXPECT_GT(h, 700) << hits[0] << " " << hits[1] << " " << hits[2] << " " << hits[3];
    // Per-channel FIFO still holds: each channel's values came out in order.
    for (std::size_t k = 0; k < 4; ++k) EXPECT_EQ(*chans[k].try_recv(), hits[k]);
  });
}

TEST(SelectBasic, FairWithNonReadyCasesInBetween) {
  weft::run({.workers = 1}, [] {
    weft::channel<int> ready1(weft::unbounded), ready2(weft::unbounded), idle1(0), idle2(0);
    for (int i = 0; i < 2000; ++i) {
      ASSERT_TRUE(ready1.try_send(i).ok());
      ASSERT_TRUE(ready2.try_send(i).ok());
    }
    int first = 0;
    std::optional<int> v;
    for (int i = 0; i < 2000; ++i) {
      auto r = weft::select({on_recv(ready1, v), on_recv(idle1, v), on_recv(idle2, v), on_recv(ready2, v)});
      ASSERT_TRUE(r.index == 0 || r.index == 3);
      first += r.index == 0;
    }
    EXPECT_GT(first, 800);
    EXPECT_LT(first, 1200);
  });
}

TEST_P(Select, SendAndReceiveOnTheSameChannel) {
  weft::run(opts(), [] {
    weft::channel<int> ch(0);
    int out = 1;
    std::optional<int> in;
    auto t = weft::spawn([&] { return weft::select({on_send(ch, out), on_recv(ch, in)}); });
    ASSERT_TRUE(blocked_on(t.id(), weft::wait_reason::select));
    // The select cannot pair with itself; a partner decides which case fires.
    EXPECT_TRUE(ch.send(2).ok());
    auto r = t.join();
    EXPECT_EQ(r.index, 1);
    EXPECT_EQ(in, 2);
    EXPECT_EQ(out, 1);
  });
}

TEST_P(Select, FromAForeignKernelThread) {
  weft::runtime rt(opts());
  weft::channel<int> a(0), b(0);
  auto t = weft::spawn_in(rt, [&] {
    weft::this_thread::sleep_for(1ms);
    EXPECT_TRUE(b.send(11).ok());
  });
  std::optional<int> va, vb;
  auto r = weft::select({on_recv(a, va), on_recv(b, vb)});  // this test's kernel thread blocks
  EXPECT_EQ(r.index, 1);
  EXPECT_EQ(vb, 11);
  t.join();
  EXPECT_EQ(weft::select_for({on_recv(a, va)}, 2ms).status, op_status::timeout);
}

TEST_P(Select, ManyCasesGoToTheHeap) {
  weft::run(opts(), [] {
    std::vector<std::unique_ptr<weft::channel<int>>> chans;
    std::vector<std::optional<int>> vals(20);
    std::vector<weft::select_case> cases;
    for (int i = 0; i < 20; ++i) chans.push_back(std::make_unique<weft::channel<int>>(0));
    for (int i = 0; i < 20; ++i) cases.push_back(on_recv(*chans[i], vals[i]));
    auto t = weft::spawn([&] { return weft::select(cases.data(), cases.size()); });
    ASSERT_TRUE(blocked_on(t.id(), weft::wait_reason::select));
    EXPECT_TRUE(chans[17]->send(17).ok());
    auto r = t.join();
    EXPECT_EQ(r.index, 17);
    EXPECT_EQ(vals[17], 17);
  });
}

}  // namespace
