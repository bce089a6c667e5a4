// "Forever" timeouts written in coarse units: seconds::max(), hours::max()
// or years::max() overflow int64 nanoseconds, and every timed call must treat
// them as no timeout (detail/duration.hpp saturates them) rather than as a
// negative one. Each call is shown blocked, then released by another thread,
// and must report success; try-variants with a ready resource return at once.
// Negative durations are still rejected and past time points still expire.
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include "test_support.hpp"
#include "weft/io.hpp"

namespace {

using namespace weft_test;
using clk = std::chrono::steady_clock;
using years = std::chrono::duration<long, std::ratio<86400 * 365>>;
using weft::op_status;
using weft::thread_state;
using weft::wait_reason;

// Calls f with each of the "forever" durations in turn.
template <class F>
void for_each_forever(F f) {
  f(std::chrono::seconds::max());
  f(std::chrono::hours::max());
  f(years::max());
  f(std::chrono::duration<double>(std::numeric_limits<double>::infinity()));
}

// Calls f with each far-future steady time point in turn.
template <class F>
void for_each_far_future(F f) {
  f(std::chrono::time_point<clk, std::chrono::seconds>::max());
  f(std::chrono::time_point<clk, std::chrono::hours>::max());
  f(std::chrono::time_point<clk, years>::max());
  f(clk::time_point::max());
}

// Calls f with each "minus forever" duration in turn.
template <class F>
void for_each_negative(F f) {
  f(std::chrono::seconds::min());
  f(std::chrono::hours::min());
  f(years::min());
  f(-1ns);
}

// True once thread `id` is blocked waiting for `r`.
bool blocked_on(weft::thread_id id, wait_reason r) {
  return eventually([&] {
    auto i = info_of(id);
    return i && i->state == thread_state::blocked && i->waiting_for == r;
  });
}

// Runs wait() (returning bool) on a new green thread, waits until that thread
// is blocked on `r`, runs release(), and expects wait() to have returned true.
template <class Wait, class Release>
void waits_until_released(Wait wait, wait_reason r, Release release) {
  auto t = weft::spawn(wait);
  EXPECT_TRUE(blocked_on(t.id(), r)) << "the timed call did not block (state "
                                     << weft::to_string(state_of(t.id())) << ")";
  release();
  EXPECT_TRUE(t.join());
}

weft::options two_workers() { return {.workers = 2}; }

TEST(ForeverTimeout, SaturatingConversion) {
  using weft::detail::saturating_ns;
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  constexpr auto min = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(saturating_ns(std::chrono::seconds::max(), "t"), max);
  EXPECT_EQ(saturating_ns(std::chrono::hours::max(), "t"), max);
  EXPECT_EQ(saturating_ns(years::max(), "t"), max);
  EXPECT_EQ(saturating_ns(std::chrono::seconds::min(), "t"), min);
  EXPECT_EQ(saturating_ns(years::min(), "t"), min);
  EXPECT_EQ(saturating_ns(std::chrono::nanoseconds::max(), "t"), max);
  EXPECT_EQ(saturating_ns(std::chrono::nanoseconds::min(), "t"), min);
  // Values that fit convert exactly, truncated toward zero like duration_cast.
  EXPECT_EQ(saturating_ns(5ms, "t"), 5'000'000);
  EXPECT_EQ(saturating_ns(-3s, "t"), -3'000'000'000);
  EXPECT_EQ(saturating_ns(std::chrono::seconds(9'223'372'036), "t"), 9'223'372'036'000'000'000);
  EXPECT_EQ(saturating_ns(std::chrono::seconds(9'223'372'037), "t"), max);
  EXPECT_EQ(saturating_ns(std::chrono::duration<long, std::pico>(-2500), "t"), -2);
  using thirds = std::chrono::duration<long, std::ratio<1, 3>>;
  EXPECT_EQ(saturating_ns(thirds(4), "t"), 1'333'333'333);
  EXPECT_EQ(saturating_ns(thirds(-4), "t"), -1'333'333'333);
  EXPECT_EQ(saturating_ns(thirds::max(), "t"), max);
  EXPECT_EQ(saturating_ns(thirds::min(), "t"), min);
  // Unsigned and floating reps.
  EXPECT_EQ(saturating_ns(std::chrono::duration<unsigned long long>(~0ull), "t"), max);
  EXPECT_EQ(saturating_ns(std::chrono::duration<unsigned, std::milli>(7), "t"), 7'000'000);
  EXPECT_NEAR(static_cast<double>(saturating_ns(std::chrono::duration<unsigned long long, std::pico>(~0ull), "t")),
              18'446'744'073'709'551.0, 2.0);
  EXPECT_EQ(saturating_ns(std::chrono::duration<double>(1.5), "t"), 1'500'000'000);
  EXPECT_EQ(saturating_ns(std::chrono::duration<double>(1e300), "t"), max);
  EXPECT_EQ(saturating_ns(std::chrono::duration<double>(-1e300), "t"), min);
  EXPECT_EQ(saturating_ns(std::chrono::duration<double>(std::numeric_limits<double>::infinity()), "t"), max);
  EXPECT_EQ(saturating_ns(std::chrono::duration<float, std::ratio<3600>>::max(), "t"), max);
  EXPECT_WEFT_ERROR(saturating_ns(std::chrono::duration<double>(std::nan("")), "t"), weft::errc::invalid_argument);
  // Time points: far future saturates, anything before the epoch has passed.
  using weft::detail::steady_deadline_ns;
  EXPECT_EQ(steady_deadline_ns(std::chrono::time_point<clk, std::chrono::hours>::max(), "t"), max);
  EXPECT_EQ(steady_deadline_ns(clk::time_point::max(), "t"), max);
  EXPECT_EQ(steady_deadline_ns(clk::time_point::min(), "t"), 0);
  EXPECT_EQ(steady_deadline_ns(std::chrono::time_point<clk, std::chrono::hours>::min(), "t"), 0);
  EXPECT_EQ(steady_deadline_ns(clk::time_point(5ns), "t"), 5);
}

TEST(ForeverTimeout, NanMessageNamesTheCall) {
  weft::event ev;
  try {
    (void)ev.wait_for(std::chrono::duration<double>(std::nan("")));
    ADD_FAILURE() << "a NaN timeout was accepted";
  } catch (const weft::error& e) {
    EXPECT_EQ(e.code(), weft::errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("event::wait_for"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
  }
}

TEST(ForeverTimeout, Event) {
  weft::run(two_workers(), [] {
    for_each_forever([](auto forever) {
      weft::event ev;
      waits_until_released([&] { return ev.wait_for(forever); }, wait_reason::event, [&] { ev.set(); });
      EXPECT_TRUE(ev.wait_for(forever));  // set: returns at once
    });
    for_each_negative([](auto d) {
      weft::event ev;
      ev.set();
      EXPECT_WEFT_ERROR((void)ev.wait_for(d), weft::errc::invalid_argument);
    });
  });
}

TEST(ForeverTimeout, LatchAndWaitGroup) {
  weft::run(two_workers(), [] {
    for_each_forever([](auto forever) {
      weft::latch l(1);
      waits_until_released([&] { return l.wait_for(forever); }, wait_reason::latch, [&] { l.count_down(); });
      EXPECT_TRUE(l.wait_for(forever));
      weft::wait_group wg;
      wg.add();
      waits_until_released([&] { return wg.wait_for(forever); }, wait_reason::wait_group, [&] { wg.done(); });
      EXPECT_TRUE(wg.wait_for(forever));
    });
    for_each_negative([](auto d) {
      weft::latch l(0);
      EXPECT_WEFT_ERROR((void)l.wait_for(d), weft::errc::invalid_argument);
      weft::wait_group wg;
      EXPECT_WEFT_ERROR((void)wg.wait_for(d), weft::errc::invalid_argument);
    });
  });
}

TEST(ForeverTimeout, Mutex) {
  weft::run(two_workers(), [] {
    for_each_forever([](auto forever) {
      weft::mutex m;
      EXPECT_TRUE(m.try_lock_for(forever));  // free: taken at once
      waits_until_released(
          [&] {
            bool got = m.try_lock_for(forever);
            if (got) m.unlock();
            return got;
          },
          wait_reason::mutex, [&] { m.unlock(); });
    });
    for_each_far_future([](auto far) {
      weft::mutex m;
      EXPECT_TRUE(m.try_lock_until(far));
      waits_until_released(
          [&] {
            bool got = m.try_lock_until(far);
            if (got) m.unlock();
            return got;
          },
          wait_reason::mutex, [&] { m.unlock(); });
    });
    for_each_negative([](auto d) {
      weft::mutex m;
      EXPECT_WEFT_ERROR((void)m.try_lock_for(d), weft::errc::invalid_argument);
    });
    // A time point before the clock's epoch has passed: held, it gives up at once.
    weft::mutex m;
    m.lock();
    auto t = weft::spawn([&] { return m.try_lock_until(clk::time_point::min()); });
    EXPECT_FALSE(t.join());
    m.unlock();
  });
}

TEST(ForeverTimeout, Semaphore) {
  weft::run(two_workers(), [] {
    for_each_forever([](auto forever) {
      weft::counting_semaphore s(1);
      EXPECT_TRUE(s.try_acquire_for(forever));
      waits_until_released([&] { return s.try_acquire_for(forever); }, wait_reason::semaphore, [&] { s.release(); });
    });
    for_each_far_future([](auto far) {
      weft::counting_semaphore s(0);
      waits_until_released([&] { return s.try_acquire_until(far); }, wait_reason::semaphore, [&] { s.release(); });
    });
    for_each_negative([](auto d) {
      weft::counting_semaphore s(1);
      EXPECT_WEFT_ERROR((void)s.try_acquire_for(d), weft::errc::invalid_argument);
    });
    weft::counting_semaphore empty(0);
    EXPECT_FALSE(empty.try_acquire_until(clk::time_point::min()));
  });
}

TEST(ForeverTimeout, ConditionVariable) {
  weft::run(two_workers(), [] {
    auto check = [](auto wait) {
      weft::mutex m;
      weft::condition_variable cv;
      bool ready = false;
      waits_until_released([&] { return wait(m, cv, ready); }, wait_reason::condition, [&] {
        {
          std::scoped_lock lk(m);
          ready = true;
        }
        cv.notify_all();
      });
    };
    for_each_forever([&](auto forever) {
      check([forever](weft::mutex& m, weft::condition_variable& cv, bool& ready) {
        std::unique_lock lk(m);
        while (!ready)
          if (cv.wait_for(lk, forever) == std::cv_status::timeout) return false;
        return true;
      });
      check([forever](weft::mutex& m, weft::condition_variable& cv, bool& ready) {
        std::unique_lock lk(m);
        return cv.wait_for(lk, forever, [&] { return ready; });
      });
    });
    for_each_far_future([&](auto far) {
      check([far](weft::mutex& m, weft::condition_variable& cv, bool& ready) {
        std::unique_lock lk(m);
        return cv.wait_until(lk, far, [&] { return ready; });
      });
    });
    for_each_negative([](auto d) {
      weft::mutex m;
      weft::condition_variable cv;
      std::unique_lock lk(m);
      EXPECT_WEFT_ERROR((void)cv.wait_for(lk, d), weft::errc::invalid_argument);
      EXPECT_WEFT_ERROR((void)cv.wait_for(lk, d, [] { return true; }), weft::errc::invalid_argument);
    });
    weft::mutex m;
    weft::condition_variable cv;
    std::unique_lock lk(m);
    EXPECT_EQ(cv.wait_until(lk, clk::time_point::min()), std::cv_status::timeout);
  });
}

TEST(ForeverTimeout, Channel) {
  weft::run(two_workers(), [] {
    for_each_forever([](auto forever) {
      weft::channel<int> ch;  // rendezvous: both sides wait for the other
      waits_until_released([&] { return ch.recv_for(forever).ok(); }, wait_reason::channel_recv,
                           [&] { EXPECT_TRUE(ch.send(1).ok()); });
      waits_until_released([&] { return ch.recv_if_for([](int v) { return v == 2; }, forever).ok(); },
                           wait_reason::channel_recv, [&] { EXPECT_TRUE(ch.send(2).ok()); });
      waits_until_released([&] { return ch.send_for(3, forever).ok(); }, wait_reason::channel_send,
                           [&] { EXPECT_EQ(*ch.recv(), 3); });
      weft::priority_channel<int> pc(1);
      EXPECT_TRUE(pc.send_for(4, 0, forever).ok());  // room: at once
      waits_until_released([&] { return pc.send_for(5, 1, forever).ok(); }, wait_reason::channel_send,
                           [&] { EXPECT_EQ(*pc.recv(), 4); });
      EXPECT_EQ(*pc.recv(), 5);
    });
    for_each_far_future([](auto far) {
      weft::channel<int> ch;
      waits_until_released([&] { return ch.recv_until(far).ok(); }, wait_reason::channel_recv,
                           [&] { EXPECT_TRUE(ch.send(1).ok()); });
      waits_until_released([&] { return ch.send_until(2, far).ok(); }, wait_reason::channel_send,
                           [&] { EXPECT_EQ(*ch.recv(), 2); });
    });
    for_each_negative([](auto d) {
      weft::channel<int> ch(1);
      EXPECT_WEFT_ERROR((void)ch.recv_for(d), weft::errc::invalid_argument);
      EXPECT_WEFT_ERROR((void)ch.send_for(1, d), weft::errc::invalid_argument);
      EXPECT_WEFT_ERROR((void)ch.recv_if_for([](int) { return true; }, d), weft::errc::invalid_argument);
      weft::priority_channel<int> pc(1);
      EXPECT_WEFT_ERROR((void)pc.send_for(1, 0, d), weft::errc::invalid_argument);
    });
    weft::channel<int> ch;
    EXPECT_EQ(ch.recv_until(clk::time_point::min()).status(), op_status::timeout);
    EXPECT_EQ(ch.send_until(1, clk::time_point::min()).status(), op_status::timeout);
  });
}

TEST(ForeverTimeout, Select) {
  weft::run(two_workers(), [] {
    for_each_forever([](auto forever) {
      weft::channel<int> a, b;
      std::optional<int> got_a, got_b;
      waits_until_released(
          [&] {
            auto r = weft::select_for({weft::on_recv(a, got_a), weft::on_recv(b, got_b)}, forever);
            return r.ok() && r.index == 1 && got_b == 7;
          },
          wait_reason::select, [&] { EXPECT_TRUE(b.send(7).ok()); });
      weft::select_case cases[] = {weft::on_recv(a, got_a)};
      waits_until_released(
          [&] {
            auto r = weft::select_for(cases, 1, forever);
            return r.ok() && got_a == 8;
          },
          wait_reason::select, [&] { EXPECT_TRUE(a.send(8).ok()); });
    });
    for_each_far_future([](auto far) {
      weft::channel<int> a;
      std::optional<int> got;
      waits_until_released([&] { return weft::select_until({weft::on_recv(a, got)}, far).ok(); }, wait_reason::select,
                           [&] { EXPECT_TRUE(a.send(1).ok()); });
    });
    for_each_negative([](auto d) {
      weft::channel<int> a;
      std::optional<int> got;
      EXPECT_WEFT_ERROR((void)weft::select_for({weft::on_recv(a, got)}, d), weft::errc::invalid_argument);
    });
    weft::channel<int> a;
    std::optional<int> got;
    EXPECT_EQ(weft::select_until({weft::on_recv(a, got)}, clk::time_point::min()).status, op_status::timeout);
  });
}

TEST(ForeverTimeout, Mailbox) {
  weft::run(two_workers(), [] {
    for_each_forever([](auto forever) {
      // The receiver waits with a forever timeout until we send.
      auto receiver = weft::spawn_with_mailbox<int>([forever] {
        return weft::receive_for<int>(forever).ok() && weft::receive_from_for<int>(0, forever).ok();
      });
      ASSERT_TRUE(blocked_on(receiver.id(), wait_reason::mailbox));
      EXPECT_TRUE(weft::send(receiver.id(), 1).ok());
      // receive_from_for(0) wants a foreign sender's message: ours (a green
      // thread's) does not match, a foreign thread's does.
      ASSERT_TRUE(blocked_on(receiver.id(), wait_reason::mailbox));
      std::thread([&] { EXPECT_TRUE(weft::send(receiver.id(), 2).ok()); }).join();
      EXPECT_TRUE(receiver.join());

      // A rendezvous mailbox: send_for waits for the receive.
      weft::event go;
      auto owner = weft::spawn_with_mailbox<int>([&] {
        go.wait();
        return weft::receive<int>()->body;
      }, {}, 0);
      weft::thread_id to = owner.id();
      waits_until_released([&] { return weft::send_for(to, 5, forever).ok(); }, wait_reason::mailbox,
                           [&] { go.set(); });
      EXPECT_EQ(owner.join(), 5);
    });
    for_each_far_future([](auto far) {
      auto receiver = weft::spawn_with_mailbox<int>([far] {
        return weft::receive_until<int>(far).ok() && weft::receive_from_until<int>(0, far).ok();
      });
      ASSERT_TRUE(blocked_on(receiver.id(), wait_reason::mailbox));
      EXPECT_TRUE(weft::send(receiver.id(), 1).ok());
      ASSERT_TRUE(blocked_on(receiver.id(), wait_reason::mailbox));
      std::thread([&] { EXPECT_TRUE(weft::send(receiver.id(), 2).ok()); }).join();
      EXPECT_TRUE(receiver.join());

      weft::event go;
      auto owner = weft::spawn_with_mailbox<int>([&] {
        go.wait();
        return weft::receive<int>()->body;
      }, {}, 0);
      weft::thread_id to = owner.id();
      waits_until_released([&] { return weft::send_until(to, 6, far).ok(); }, wait_reason::mailbox,
                           [&] { go.set(); });
      EXPECT_EQ(owner.join(), 6);
    });
    weft::open_mailbox<int>(0);
    for_each_negative([](auto d) {
      EXPECT_WEFT_ERROR((void)weft::receive_for<int>(d), weft::errc::invalid_argument);
      EXPECT_WEFT_ERROR((void)weft::receive_from_for<int>(0, d), weft::errc::invalid_argument);
      EXPECT_WEFT_ERROR((void)weft::send_for(weft::this_thread::id(), 1, d), weft::errc::invalid_argument);
    });
    EXPECT_EQ(weft::receive_until<int>(clk::time_point::min()).status(), op_status::timeout);
  });
}

TEST(ForeverTimeout, Pipe) {
  weft::run(two_workers(), [] {
    for_each_forever([](auto forever) {
      weft::pipe p(4);
      char buf[4];
      waits_until_released([&] { return p.read_for(buf, sizeof buf, forever).bytes == 2; }, wait_reason::pipe,
                           [&] { EXPECT_EQ(p.write("ab", 2).bytes, 2u); });
      EXPECT_EQ(p.write("abcd", 4).bytes, 4u);  // full now
      waits_until_released([&] { return p.write_for("e", 1, forever).bytes == 1; }, wait_reason::pipe,
                           [&] { EXPECT_EQ(p.read(buf, sizeof buf).bytes, 4u); });
    });
    for_each_negative([](auto d) {
      weft::pipe p;
      char c = 0;
      EXPECT_WEFT_ERROR((void)p.read_for(&c, 1, d), weft::errc::invalid_argument);
      EXPECT_WEFT_ERROR((void)p.write_for(&c, 1, d), weft::errc::invalid_argument);
    });
  });
}

TEST(ForeverTimeout, IoDeadline) {
  for_each_forever([](auto forever) {
    EXPECT_EQ(weft::io::deadline(forever).steady_ns(), std::numeric_limits<std::int64_t>::max());
  });
  for_each_far_future([](auto far) {
    EXPECT_EQ(weft::io::deadline(far).steady_ns(), std::numeric_limits<std::int64_t>::max());
  });
  EXPECT_EQ(weft::io::deadline(clk::time_point::min()).steady_ns(), 0);  // passed: try once
  for_each_negative([](auto d) { EXPECT_WEFT_ERROR((void)weft::io::deadline(d), weft::errc::invalid_argument); });
}

// A socket read with a forever deadline waits for the peer's bytes, on both engines.
TEST(ForeverTimeout, SocketRead) {
  for (weft::io_engine engine : {weft::io_engine::epoll, weft::io_engine::io_uring}) {
    std::optional<weft::runtime> rt;
    try {
      rt.emplace(weft::options{.workers = 2, .io = engine});
    } catch (const weft::error&) {
      continue;  // io_uring refused here
    }
    auto check = [&](weft::io::deadline d) {
      auto sockets = weft::io::socket::pair();
      weft::io::socket& a = sockets.first;
      weft::io::socket& b = sockets.second;
      auto t = weft::spawn_in(*rt, [&a, d] {
        char buf[8];
        return a.read(buf, sizeof buf, d);
      });
      EXPECT_TRUE(eventually([&] {
        auto i = find_info(rt->snapshot(), t.id());
        return i && i->state == thread_state::blocked && i->waiting_for == wait_reason::io;
      }));
      EXPECT_EQ(b.write("xyz", 3), 3u);
      EXPECT_EQ(t.join(), 3u);
    };
    for_each_forever([&](auto forever) { check(forever); });
    for_each_far_future([&](auto far) { check(far); });
  }
}

// Sleeping "forever" parks the thread for good: shown in a child process,
// which exits while the sleepers still sleep (no runtime could end with them).
TEST(ForeverTimeoutDeathTest, SleepParksForGood) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto* rt = new weft::runtime({.workers = 2});
        std::atomic<int> woke{0};
        std::vector<weft::thread_id> ids;
        auto sleep_for = [&](auto d) {
          auto t = weft::spawn_in(*rt, [&woke, d] {
            weft::this_thread::sleep_for(d);
            woke.fetch_add(1);
          });
          ids.push_back(t.id());
          t.detach();
        };
        auto sleep_until = [&](auto tp) {
          auto t = weft::spawn_in(*rt, [&woke, tp] {
            weft::this_thread::sleep_until(tp);
            woke.fetch_add(1);
          });
          ids.push_back(t.id());
          t.detach();
        };
        for_each_forever(sleep_for);
        for_each_far_future(sleep_until);
        for (weft::thread_id id : ids) {
          bool parked = eventually([&] {
            auto i = find_info(rt->snapshot(), id);
            return i && i->state == thread_state::blocked && i->waiting_for == wait_reason::sleep;
          });
          if (!parked) std::_Exit(1);
        }
        std::_Exit(woke.load() == 0 ? 0 : 2);
      },
      ::testing::ExitedWithCode(0), "");
}

// The foreign-thread side: a kernel thread's forever wait blocks in the kernel and returns when released.
TEST(ForeverTimeout, ForeignWaiters) {
  for_each_forever([](auto forever) {
    weft::event ev;
    std::atomic<bool> result{false};
    std::thread waiter([&] { result = ev.wait_for(forever); });
    ev.set();
    waiter.join();
    EXPECT_TRUE(result);
    weft::counting_semaphore s(0);
    std::thread taker([&] { result = s.try_acquire_for(forever); });
    s.release();
    taker.join();
    EXPECT_TRUE(result);
  });
}

}  // namespace
