// Cancellation: spawn with a std::stop_token, thread::request_stop(), and
// every cancellable blocking call woken by a stop request -- before the
// call (returns at once, without parking), while parked, and racing the
// event it waits for (nothing is lost when the cancel loses). Tests wait
// for conditions (snapshot states, latches), never for guessed durations.
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"
#include "weft/io.hpp"

namespace {

using namespace weft_test;
using weft::errc;
using weft::op_status;
using weft::thread_state;
using weft::wait_reason;

class Cancel : public WorkerCount {};
WEFT_WORKER_COUNTS(Cancel);

// True once thread id is parked on `why` (polled through snapshots).
bool parked_on(weft::thread_id id, wait_reason why) {
  return eventually([&] {
    auto i = info_of(id);
    return i && i->state == thread_state::blocked && i->waiting_for == why;
  });
}

// One cancellable blocking call: it makes its own objects, calls something
// that nothing else will complete, and checks that it reports canceled
// (a weft::error or an op_status, per the API family).
struct blocking_call {
  const char* name;
  wait_reason reason;
  void (*call)();
};

void expect_canceled_error(void (*fn)()) {
  try {
    fn();
    ADD_FAILURE() << "did not throw";
  } catch (const weft::error& e) {
    EXPECT_EQ(e.code(), weft::make_error_code(errc::canceled)) << e.what();
  }
}

const blocking_call calls[] = {
    {"sleep_for", wait_reason::sleep,
     [] { expect_canceled_error([] { weft::this_thread::sleep_for(std::chrono::hours(1)); }); }},
    {"sleep_until", wait_reason::sleep,
     [] {
       expect_canceled_error([] { weft::this_thread::sleep_until(std::chrono::steady_clock::now() + std::chrono::hours(1)); });
     }},
    {"condition_variable_wait", wait_reason::condition,
     [] {
       weft::mutex m;
       weft::condition_variable cv;
       std::unique_lock lk(m);
       EXPECT_WEFT_ERROR(cv.wait(lk), errc::canceled);
       EXPECT_TRUE(lk.owns_lock());  // relocked before the throw, as after any wait
     }},
    {"condition_variable_wait_for", wait_reason::condition,
     [] {
       weft::mutex m;
       weft::condition_variable cv;
       std::unique_lock lk(m);
       EXPECT_WEFT_ERROR((void)cv.wait_for(lk, std::chrono::hours(1), [] { return false; }), errc::canceled);
       EXPECT_TRUE(lk.owns_lock());
     }},
    {"semaphore_acquire", wait_reason::semaphore,
     [] {
       weft::counting_semaphore s(0);
       EXPECT_WEFT_ERROR(s.acquire(), errc::canceled);
       EXPECT_EQ(s.available(), 0);
     }},
    {"semaphore_try_acquire_for", wait_reason::semaphore,
     [] {
       weft::counting_semaphore s(0);
       EXPECT_WEFT_ERROR((void)s.try_acquire_for(std::chrono::hours(1)), errc::canceled);
     }},
    {"latch_wait", wait_reason::latch,
     [] {
       weft::latch l(1);
       EXPECT_WEFT_ERROR(l.wait(), errc::canceled);
     }},
    {"wait_group_wait", wait_reason::wait_group,
     [] {
       weft::wait_group g;
       g.add(1);
       EXPECT_WEFT_ERROR(g.wait(), errc::canceled);
       g.done();
     }},
    {"event_wait", wait_reason::event,
     [] {
       weft::event e;
       EXPECT_WEFT_ERROR(e.wait(), errc::canceled);
     }},
    {"event_wait_for", wait_reason::event,
     [] {
       weft::event e;
       EXPECT_WEFT_ERROR((void)e.wait_for(std::chrono::hours(1)), errc::canceled);
     }},
    {"join", wait_reason::join,
     [] {
       // The child waits on a mutex (not interruptible) that the caller holds.
       weft::mutex m;
       m.lock();
       auto child = weft::spawn([&] { std::lock_guard lk(m); });
       EXPECT_WEFT_ERROR(child.join(), errc::canceled);
       EXPECT_TRUE(child.joinable());  // the handle is unchanged
       m.unlock();
       while (!child.try_join()) weft::this_thread::yield();  // try_join never parks
     }},
    {"channel_recv", wait_reason::channel_recv,
     [] {
       weft::channel<int> ch(0);
       auto r = ch.recv();
       EXPECT_EQ(r.status(), op_status::canceled);
       EXPECT_WEFT_ERROR((void)r.value(), errc::canceled);
     }},
    {"channel_send", wait_reason::channel_send,
     [] {
       weft::channel<std::string> ch(0);
       auto r = ch.send(std::string("kept"));
       EXPECT_EQ(r.status(), op_status::canceled);
       ASSERT_TRUE(r.has_message());
       EXPECT_EQ(r.message(), "kept");  // handed back, as on every failed send
     }},
    {"channel_recv_for", wait_reason::channel_recv,
     [] {
       weft::channel<int> ch(4);
       EXPECT_EQ(ch.recv_for(std::chrono::hours(1)).status(), op_status::canceled);
     }},
    {"select", wait_reason::select,
     [] {
       weft::channel<int> a(0), b(1);
       std::optional<int> x, y;
       auto r = weft::select({weft::on_recv(a, x), weft::on_recv(b, y)});
       EXPECT_EQ(r.status, op_status::canceled);
       EXPECT_EQ(r.index, -1);
     }},
    {"select_without_cases", wait_reason::select,
     [] {
       const weft::select_case* none = nullptr;
       EXPECT_EQ(weft::select_for(none, 0, std::chrono::hours(1)).status, op_status::canceled);
     }},
    {"mailbox_receive", wait_reason::mailbox,
     [] {
       weft::open_mailbox<int>();
       EXPECT_EQ(weft::receive<int>().status(), op_status::canceled);
     }},
    {"pipe_read", wait_reason::pipe,
     [] {
       weft::pipe p(16);
       char buf[8];
       auto r = p.read(buf, sizeof buf);
       EXPECT_EQ(r.status, op_status::canceled);
       EXPECT_EQ(r.bytes, 0u);
     }},
    {"pipe_write", wait_reason::pipe,
     [] {
       weft::pipe p(4);
       char buf[10] = "abcdefghi";
       auto r = p.write(buf, sizeof buf);  // 4 fit, then it waits for room
       EXPECT_EQ(r.status, op_status::canceled);
       EXPECT_EQ(r.bytes, 4u);  // what did go in is reported
       EXPECT_EQ(p.size(), 4u);
     }},
};

class CancelCall : public ::testing::TestWithParam<blocking_call> {};
INSTANTIATE_TEST_SUITE_P(Calls, CancelCall, ::testing::ValuesIn(calls),
                         [](const ::testing::TestParamInfo<blocking_call>& i) { return std::string(i.param.name); });

// Stop requested while the call is parked: it wakes with canceled.
TEST_P(CancelCall, WhileParked) {
  const blocking_call& c = GetParam();
  weft::run({.workers = 2}, [&] {
    auto t = weft::spawn([&](std::stop_token) { c.call(); });
    ASSERT_TRUE(parked_on(t.id(), c.reason));
    EXPECT_TRUE(t.request_stop());
    t.join();
  });
}

// Stop requested before the call: it returns canceled at once, never parking.
TEST_P(CancelCall, BeforeTheCall) {
  const blocking_call& c = GetParam();
  weft::run({.workers = 2}, [&] {
    auto t = weft::spawn([&](std::stop_token st) {
      while (!st.stop_requested()) weft::this_thread::yield();
      auto blocked_before = weft::this_thread::info().blocked_time;
      c.call();
      EXPECT_EQ(weft::this_thread::info().blocked_time, blocked_before) << "it parked";
    });
    EXPECT_TRUE(t.request_stop());
    t.join();
  });
}

// From a thread whose handle has not asked for a stop state: the call is
// made by a thread that got its token only through this_thread.
TEST(CancelBasics, ThreadWithoutStopStateParksAsBefore) {
  weft::run({.workers = 1}, [] {
    weft::event e;
    auto t = weft::spawn([&] {
      e.wait();
      return weft::this_thread::stop_requested();
    });
    ASSERT_TRUE(parked_on(t.id(), wait_reason::event));
    e.set();
    EXPECT_FALSE(t.join());
  });
}

// ---------------------------------------------------------------- threads

TEST_P(Cancel, SpawnPassesTheStopTokenAsJthreadDoes) {
  weft::run(opts(), [] {
    auto t = weft::spawn(
        [](std::stop_token st, int base) {
          int spins = 0;
          while (!st.stop_requested()) {
            weft::this_thread::yield();
            ++spins;
          }
          return base + (spins >= 0 ? 1 : 0);
        },
        41);
    EXPECT_TRUE(t.get_stop_token().stop_possible());
    EXPECT_TRUE(t.request_stop());
    EXPECT_FALSE(t.request_stop());  // made before
    EXPECT_EQ(t.join(), 42);
  });
}

TEST_P(Cancel, RequestStopOnAFinishedThreadReturnsFalse) {
  weft::run(opts(), [] {
    auto t = weft::spawn([](std::stop_token) { return 1; });
    auto plain = weft::spawn([] { return 2; });
    ASSERT_TRUE(eventually([&] { return state_of(t.id()) == thread_state::terminated; }));
    ASSERT_TRUE(eventually([&] { return state_of(plain.id()) == thread_state::terminated; }));
    EXPECT_FALSE(t.request_stop());
    EXPECT_FALSE(plain.request_stop());
    EXPECT_EQ(t.join(), 1);
    EXPECT_EQ(plain.join(), 2);
    EXPECT_FALSE(t.request_stop());  // empty handle
    EXPECT_FALSE(t.get_stop_token().stop_possible());
  });
}

TEST_P(Cancel, AThreadSeesItsHandlesRequestThroughItsOwnToken) {
  weft::run(opts(), [] {
    weft::latch got_token(1);
    auto t = weft::spawn([&] {
      std::stop_token st = weft::this_thread::get_stop_token();  // made lazily, by the thread
      got_token.count_down();
      while (!st.stop_requested()) weft::this_thread::yield();
      return weft::this_thread::stop_requested();
    });
    got_token.wait();
    EXPECT_TRUE(t.request_stop());  // the handle finds the same state
    EXPECT_TRUE(t.join());
  });
}

TEST_P(Cancel, StopSourceOutlivesTheThread) {
  weft::run(opts(), [] {
    std::stop_source src;
    {
      auto t = weft::spawn([](std::stop_token) { weft::this_thread::sleep_for(std::chrono::hours(1)); });
      src = t.get_stop_source();
      ASSERT_TRUE(parked_on(t.id(), wait_reason::sleep));
      EXPECT_TRUE(src.request_stop());
      EXPECT_WEFT_ERROR(t.join(), errc::canceled);  // the thread's exception, rethrown
    }
    EXPECT_TRUE(src.stop_requested());
  });
}

// As std::jthread: destroying the handle requests stop, then joins; a
// thread that ends with weft::error(canceled) is not an unobserved error.
TEST_P(Cancel, DestroyingTheHandleRequestsStop) {
  std::atomic<bool> woke{false};
  weft::run(opts(), [&] {
    auto t = weft::spawn([&](std::stop_token) {
      try {
        weft::this_thread::sleep_for(std::chrono::hours(1));
      } catch (const weft::error&) {
        woke = true;
        throw;
      }
    });
    ASSERT_TRUE(parked_on(t.id(), wait_reason::sleep));
  });
  EXPECT_TRUE(woke);
}

TEST_P(Cancel, DetachedThreadEndingCanceledIsQuiet) {
  weft::run(opts(), [] {
    weft::event done;
    auto t = weft::spawn([&](std::stop_token) {
      struct on_exit {
        weft::event& e;
        ~on_exit() { e.set(); }
      } guard{done};
      weft::this_thread::sleep_for(std::chrono::hours(1));
    });
    ASSERT_TRUE(parked_on(t.id(), wait_reason::sleep));
    std::stop_source src = t.get_stop_source();
    t.detach();
    src.request_stop();
    done.wait();
  });
}

TEST_P(Cancel, JoinAnyIsCancellable) {
  weft::run(opts(), [] {
    auto parent = weft::spawn([](std::stop_token) {
      weft::mutex m;
      m.lock();
      auto child = weft::spawn([&] { std::lock_guard lk(m); });
      EXPECT_WEFT_ERROR(weft::join_any(), errc::canceled);
      m.unlock();
      while (!child.try_join()) weft::this_thread::yield();
    });
    ASSERT_TRUE(parked_on(parent.id(), wait_reason::join_any));
    parent.request_stop();
    parent.join();
  });
}

// The stop state of a thread spawned without a std::stop_token is made when
// first asked for. A wait that began before that is not woken (it parked
// with no state to register with; registering every wait would cost every
// parked thread); the thread's later waits are.
TEST_P(Cancel, LateStopStateWakesOnlyLaterWaits) {
  weft::run(opts(), [] {
    weft::event e;
    auto t = weft::spawn([&] {
      e.wait();  // parks with no stop state
      EXPECT_TRUE(weft::this_thread::stop_requested());
      EXPECT_WEFT_ERROR(weft::this_thread::sleep_for(std::chrono::hours(1)), errc::canceled);
    });
    ASSERT_TRUE(parked_on(t.id(), wait_reason::event));
    EXPECT_TRUE(t.request_stop());  // makes the state and requests
    EXPECT_EQ(state_of(t.id()), thread_state::blocked);  // nothing woke it
    e.set();
    t.join();
  });
}

TEST(CancelBasics, ForeignThreadsHaveNoStopToken) {
  weft::runtime rt({.workers = 1});
  EXPECT_FALSE(weft::this_thread::get_stop_token().stop_possible());
  EXPECT_FALSE(weft::this_thread::stop_requested());
  // and their waits are not cancellable: they park as before
  weft::event e;
  auto t = weft::spawn_in(rt, [&] { e.set(); });
  e.wait();
  t.join();
}

TEST(CancelBasics, MutexLockIsNotInterruptible) {
  weft::run({.workers = 2}, [] {
    weft::mutex m;
    m.lock();
    auto t = weft::spawn([&](std::stop_token st) {
      std::lock_guard lk(m);  // waits for the unlock despite the request
      return st.stop_requested();
    });
    ASSERT_TRUE(parked_on(t.id(), wait_reason::mutex));
    t.request_stop();
    EXPECT_EQ(state_of(t.id()), thread_state::blocked);
    m.unlock();
    EXPECT_TRUE(t.join());
  });
}

// A request from a plain kernel thread wakes a parked green thread.
TEST_P(Cancel, RequestFromAForeignThread) {
  weft::runtime rt(opts());
  auto t = weft::spawn_in(rt, [](std::stop_token) {
    weft::event e;
    EXPECT_WEFT_ERROR(e.wait(), errc::canceled);
  });
  std::stop_source src = t.get_stop_source();
  auto parked = [&] {
    auto i = find_info(rt.snapshot(), t.id());
    return i && i->state == thread_state::blocked && i->waiting_for == wait_reason::event;
  };
  ASSERT_TRUE(eventually(parked));
  src.request_stop();
  t.join();
}

// weft::blocking: a call canceled before an offload thread took it (queued,
// or held back by a full queue) never runs and throws canceled; a call
// already running is waited for and returns normally.
TEST(CancelBasics, BlockingCallCanceledBeforeItStartsNeverRuns) {
  weft::blocking_limits saved = weft::get_blocking_limits();
  weft::set_blocking_limits({.max_threads = 1, .max_queued = 1});
  weft::run({.workers = 2}, [] {
    // Idle offload threads left by earlier tests take calls too.
    unsigned running = std::max(1u, weft::get_blocking_stats().threads);
    int total = static_cast<int>(running) + 4;
    std::atomic<bool> release{false};
    std::atomic<int> ran{0}, returned{0}, canceled{0};
    std::vector<weft::thread<void>> callers;
    for (int i = 0; i < total; ++i)
      callers.push_back(weft::spawn([&](std::stop_token) {
        try {
          weft::blocking([&] {
            ++ran;
            while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          });
          ++returned;
        } catch (const weft::error& e) {
          EXPECT_EQ(e.code(), weft::make_error_code(errc::canceled)) << e.what();
          ++canceled;
        }
      }));
    // Every caller parked: on a running call, a queued one, or held back.
    ASSERT_TRUE(eventually([&] {
      for (auto& t : callers)
        if (auto i = info_of(t.id()); !i || i->state != thread_state::blocked) return false;
      return true;
    }));
    for (auto& t : callers) t.request_stop();
    // Those whose call had not started come back now, while the others run on.
    ASSERT_TRUE(eventually([&] { return canceled.load() + ran.load() == total; }));
    EXPECT_GE(canceled.load(), total - static_cast<int>(running));
    EXPECT_EQ(returned.load(), 0);
    release = true;
    for (auto& t : callers) t.join();
    EXPECT_EQ(returned.load(), ran.load());
  });
  weft::set_blocking_limits(saved);
}

// The cancel tree: a request on a thread reaches its children and
// grandchildren spawned with stop_with_parent, not its other children.
TEST_P(Cancel, CancelTreeStopsDescendantsWithTheirParent) {
  weft::run(opts(), [] {
    weft::spawn_attrs tree;
    tree.stop_with_parent = true;
    std::atomic<int> canceled{0};
    std::atomic<weft::thread_id> child_id{0}, grandchild_id{0}, loner_id{0};
    weft::event loner_go;
    auto sleep_until_canceled = [&] {
      EXPECT_WEFT_ERROR(weft::this_thread::sleep_for(std::chrono::hours(1)), errc::canceled);
      ++canceled;
    };
    auto parent = weft::spawn([&](std::stop_token) {
      auto loner = weft::spawn([&] {
        loner_go.wait();
        EXPECT_FALSE(weft::this_thread::stop_requested());
      });
      loner_id = loner.id();
      auto child = weft::spawn(
          [&] {
            auto grandchild = weft::spawn(sleep_until_canceled, tree);
            grandchild_id = grandchild.id();
            sleep_until_canceled();
          },
          tree);
      child_id = child.id();
      sleep_until_canceled();
      // the handles' destructors join the loner (set free below) and the child
    });
    auto parked = [&](const std::atomic<weft::thread_id>& id, wait_reason why) {
      return eventually([&] { return id.load() != 0; }) && parked_on(id.load(), why);
    };
    std::atomic<weft::thread_id> parent_id{parent.id()};
    ASSERT_TRUE(parked(parent_id, wait_reason::sleep));
    ASSERT_TRUE(parked(child_id, wait_reason::sleep));
    ASSERT_TRUE(parked(grandchild_id, wait_reason::sleep));
    ASSERT_TRUE(parked(loner_id, wait_reason::event));
    EXPECT_TRUE(parent.request_stop());
    EXPECT_TRUE(eventually([&] { return canceled.load() == 3; }));
    EXPECT_EQ(state_of(loner_id), thread_state::blocked);  // not in the tree
    loner_go.set();
    parent.join();
  });
}

// A child spawned into the tree of a parent already asked to stop is born asked.
TEST_P(Cancel, CancelTreeChildOfAStoppedParentStartsStopped) {
  weft::run(opts(), [] {
    auto parent = weft::spawn([](std::stop_token st) {
      while (!st.stop_requested()) weft::this_thread::yield();
      weft::spawn_attrs tree;
      tree.stop_with_parent = true;
      auto child = weft::spawn([] { return weft::this_thread::stop_requested(); }, tree);
      for (;;) {  // join() would be canceled: this thread was asked to stop
        if (auto r = child.try_join()) return *r;
        weft::this_thread::yield();
      }
    });
    parent.request_stop();
    EXPECT_TRUE(parent.join());
  });
}

// ---------------------------------------------------------------- races
// Every thread canceled here takes a std::stop_token, so it has its stop
// state before it first waits (see LateStopStateWakesOnlyLaterWaits).

// A sender and a canceler race many times: every value is either received
// or handed back to the sender; none is lost or duplicated.
TEST_P(Cancel, ChannelSendRacingCancelLosesNothing) {
  const int rounds = 2000 / spawn_scale_down;
  weft::run(opts(), [&] {
    weft::channel<int> ch(0);
    std::atomic<long> received_sum{0}, returned_sum{0};
    std::atomic<int> received_n{0}, returned_n{0};
    auto receiver = weft::spawn([&] {
      for (;;) {
        auto r = ch.recv();
        if (!r) break;
        received_sum += *r;
        ++received_n;
      }
    });
    for (int i = 1; i <= rounds; ++i) {
      auto sender = weft::spawn([&, i](std::stop_token) {
        auto r = ch.send(int{i});
        if (r.ok()) return;
        EXPECT_EQ(r.status(), op_status::canceled);
        ASSERT_TRUE(r.has_message());
        returned_sum += r.message();
        ++returned_n;
      });
      if (i % 3) weft::this_thread::yield();  // vary where the request lands
      sender.request_stop();
      sender.join();
    }
    ch.close();
    receiver.join();
    EXPECT_EQ(received_n + returned_n, rounds);
    EXPECT_EQ(received_sum + returned_sum, static_cast<long>(rounds) * (rounds + 1) / 2);
  });
}

// Receivers canceled while values arrive: every sent value is received by
// someone or still in the channel afterwards.
TEST_P(Cancel, ChannelRecvRacingCancelLosesNothing) {
  const int rounds = 2000 / spawn_scale_down;
  weft::run(opts(), [&] {
    weft::channel<int> ch(8);
    std::atomic<long> got_sum{0};
    auto sender = weft::spawn([&] {
      for (int i = 1; i <= rounds; ++i) EXPECT_TRUE(ch.send(int{i}).ok());
    });
    int attempts = 0;
    while (state_of(sender.id()) != thread_state::terminated || ch.size() > 0) {
      auto r = weft::spawn([&](std::stop_token) {
        for (;;) {
          auto v = ch.recv();
          if (!v.ok()) {
            EXPECT_EQ(v.status(), op_status::canceled);
            return;
          }
          got_sum += *v;
        }
      });
      if (++attempts % 2) weft::this_thread::yield();
      r.request_stop();
      r.join();
    }
    sender.join();
    while (auto v = ch.try_recv()) got_sum += *v;
    EXPECT_EQ(got_sum.load(), static_cast<long>(rounds) * (rounds + 1) / 2);
  });
}

// Semaphore units released while waiters are canceled: no unit is lost.
TEST_P(Cancel, SemaphoreReleaseRacingCancelLosesNoUnit) {
  const int rounds = 1000 / spawn_scale_down;
  weft::run(opts(), [&] {
    weft::counting_semaphore s(0);
    std::atomic<int> acquired{0};
    for (int i = 0; i < rounds; ++i) {
      auto t = weft::spawn([&](std::stop_token) {
        try {
          s.acquire();
          ++acquired;
        } catch (const weft::error& e) {
          EXPECT_EQ(e.code(), weft::make_error_code(errc::canceled));
        }
      });
      if (i % 2) weft::this_thread::yield();
      s.release();
      t.request_stop();
      t.join();
    }
    EXPECT_EQ(acquired + s.available(), rounds);
  });
}

// Pipe bytes written while readers are canceled: every byte is read exactly once.
TEST_P(Cancel, PipeReadRacingCancelLosesNoByte) {
  const int rounds = 1000 / spawn_scale_down;
  weft::run(opts(), [&] {
    weft::pipe p(64);
    std::atomic<long> got{0};
    for (int i = 0; i < rounds; ++i) {
      auto reader = weft::spawn([&](std::stop_token) {
        unsigned char b[4];
        auto r = p.read(b, sizeof b);
        for (std::size_t k = 0; k < r.bytes; ++k) got += b[k];
        if (r.bytes == 0) {
          EXPECT_EQ(r.status, op_status::canceled);
        }
      });
      if (i % 2) weft::this_thread::yield();
      unsigned char one = 1;
      EXPECT_EQ(p.write(&one, 1).bytes, 1u);
      reader.request_stop();
      reader.join();
    }
    unsigned char rest[64];
    while (p.size() > 0) {
      auto r = p.try_read(rest, sizeof rest);
      for (std::size_t k = 0; k < r.bytes; ++k) got += rest[k];
    }
    EXPECT_EQ(got.load(), rounds);
  });
}

// Sleeps racing their own timer and a cancel: each ends one way, never both,
// never hangs.
TEST_P(Cancel, SleepTimeoutRacingCancel) {
  const int n = 500 / spawn_scale_down;
  weft::run(opts(), [&] {
    std::atomic<int> ended{0};
    std::vector<weft::thread<void>> ts;
    for (int i = 0; i < n; ++i)
      ts.push_back(weft::spawn([&, i](std::stop_token) {
        try {
          weft::this_thread::sleep_for(std::chrono::microseconds(i % 50));
        } catch (const weft::error& e) {
          EXPECT_EQ(e.code(), weft::make_error_code(errc::canceled));
        }
        ++ended;
      }));
    for (auto& t : ts) t.request_stop();
    for (auto& t : ts) t.join();
    EXPECT_EQ(ended.load(), n);
  });
}

// A select canceled right after a value may have been handed to it: the
// value is either received by the select or handed back to the sender.
TEST_P(Cancel, SelectRacingCancelLosesNothing) {
  const int rounds = 1000 / spawn_scale_down;
  weft::run(opts(), [&] {
    weft::channel<int> a(0), b(0);
    long sent = 0, got = 0, back = 0;
    std::atomic<long> got_a{0};
    for (int i = 1; i <= rounds; ++i) {
      auto t = weft::spawn([&](std::stop_token) {
        std::optional<int> x, y;
        auto r = weft::select({weft::on_recv(a, x), weft::on_recv(b, y)});
        if (r.ok()) {
          got_a += r.index == 0 ? *x : *y;
        } else {
          EXPECT_EQ(r.status, op_status::canceled);
        }
      });
      if (i % 2) weft::this_thread::yield();
      auto s = (i % 2 ? a : b).try_send(int{i});
      if (s.ok()) sent += i;
      else back += s.message();
      t.request_stop();
      t.join();
    }
    got = got_a.load();
    EXPECT_EQ(got, sent);
    EXPECT_EQ(sent + back, static_cast<long>(rounds) * (rounds + 1) / 2);
  });
}

}  // namespace
