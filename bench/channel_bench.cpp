// Message passing: channels, mailboxes and select, against Boost.Fiber's
// channels and a mutex+condvar queue between kernel threads.
//
//   BM_Channel_PingPong/<cap>             two green threads on one worker bounce a value over two
//                                         channels of capacity cap (0: rendezvous); ns_per_round_trip
//   BM_Channel_PingPong_BoostFiber/<cap>  the same with boost::fibers::unbuffered_channel (cap 0) or
//                                         buffered_channel(2), which holds one value (cap 1)
//   BM_Channel_PingPong_Pthread/<cap>     two kernel threads, a mutex+condvar queue of that capacity
//   BM_Channel_Throughput/<p>             capacity 1024; p=1: 1 producer 1 consumer on one worker;
//                                         p=4: 4 producers 4 consumers over 2 workers; items = messages
//   BM_Channel_Throughput_BoostFiber/<p>  buffered_channel(1024); p=1 on one thread, p=4 on a
//                                         2-thread work_stealing pool (bench/boost_pool.hpp)
//   BM_Channel_Throughput_Pthread/<p>     p producer and p consumer kernel threads, mutex+condvar queue
//   BM_Mailbox_PingPong                   two green threads on one worker, weft::send/receive by id
//   BM_Select_4                           a select over 4 channels that always have a value (poll path)
//   BM_Select_4_Blocking                  a select over 4 empty rendezvous channels woken by a sender
//                                         on one worker (registration, park, wake); ns_per_select
//
// Each iteration starts fresh threads and joins them; a ping-pong makes
// 100k round trips (kernel threads: 10k), so setup is noise.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/fiber/all.hpp>

#include "boost_pool.hpp"
#include "common.hpp"
#include "weft/channel.hpp"
#include "weft/mailbox.hpp"
#include "weft/select.hpp"
#include "weft/weft.hpp"

namespace {

using weft_bench::timed;

constexpr int green_rounds = 100'000;
constexpr int kernel_rounds = 10'000;  // a kernel round trip is ~100x dearer
constexpr int throughput_messages = 400'000;

void report(benchmark::State& state, const timed& t, std::int64_t per_iteration, const char* what) {
  std::int64_t n = state.iterations() * per_iteration;
  state.SetItemsProcessed(n);
  state.counters[std::string("ns_per_") + what] = static_cast<double>(t.wall) / static_cast<double>(n);
  state.counters[std::string("cpu_ns_per_") + what] = t.cpu * 1e9 / static_cast<double>(n);
}

weft::options one_worker() {
  weft::options o;
  o.workers = 1;
  return o;
}

// A bounded queue between kernel threads: the textbook mutex + two condvars.
// Capacity 0 is a rendezvous: put() returns once a get() took the value.
class kqueue {
 public:
  explicit kqueue(std::size_t cap) : cap_(cap) {}
  void put(int v) {
    std::unique_lock lk(mu_);
    not_full_.wait(lk, [&] { return q_.size() < std::max<std::size_t>(cap_, 1); });
    q_.push_back(v);
    std::uint64_t mine = ++put_;
    not_empty_.notify_one();
    if (cap_ == 0) taken_cv_.wait(lk, [&] { return taken_ >= mine; });
  }
  int get() {
    std::unique_lock lk(mu_);
    not_empty_.wait(lk, [&] { return !q_.empty(); });
    int v = q_.front();
    q_.pop_front();
    ++taken_;
    not_full_.notify_one();
    if (cap_ == 0) taken_cv_.notify_all();
    return v;
  }

 private:
  std::size_t cap_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_, taken_cv_;
  std::deque<int> q_;
  std::uint64_t put_ = 0, taken_ = 0;
};

// ---------------------------------------------------------------- ping-pong

void BM_Channel_PingPong(benchmark::State& state) {
  auto cap = static_cast<std::size_t>(state.range(0));
  weft::runtime rt(one_worker());
  timed t;
  for (auto _ : state) {
    t.run([&] {
      weft::spawn_in(rt, [&] {
        weft::channel<int> ping(cap), pong(cap);
        auto echo = weft::spawn([&] {
          while (auto r = ping.recv()) (void)pong.send(*r);
        });
        for (int i = 0; i < green_rounds; ++i) {
          (void)ping.send(i);
          benchmark::DoNotOptimize(*pong.recv());
        }
        ping.close();
        echo.join();
      }).join();
    });
  }
  report(state, t, green_rounds, "round_trip");
}
BENCHMARK(BM_Channel_PingPong)->Arg(0)->Arg(1)->UseRealTime();

template <class Chan>
void boost_ping_pong(Chan& ping, Chan& pong) {
  boost::fibers::fiber echo(std::allocator_arg, weft_bench::boost_stack(), [&] {
    int v = 0;
    while (ping.pop(v) == boost::fibers::channel_op_status::success) pong.push(v);
  });
  for (int i = 0; i < green_rounds; ++i) {
    ping.push(i);
    int v = 0;
    pong.pop(v);
    benchmark::DoNotOptimize(v);
  }
  ping.close();
  echo.join();
}

void BM_Channel_PingPong_BoostFiber(benchmark::State& state) {
  timed t;
  for (auto _ : state) {
    t.run([&] {
      if (state.range(0) == 0) {
        boost::fibers::unbuffered_channel<int> ping, pong;
        boost_ping_pong(ping, pong);
      } else {
        boost::fibers::buffered_channel<int> ping(2), pong(2);  // capacity 2 holds one value
        boost_ping_pong(ping, pong);
      }
    });
  }
  report(state, t, green_rounds, "round_trip");
}
BENCHMARK(BM_Channel_PingPong_BoostFiber)->Arg(0)->Arg(1)->UseRealTime();

void BM_Channel_PingPong_Pthread(benchmark::State& state) {
  auto cap = static_cast<std::size_t>(state.range(0));
  timed t;
  for (auto _ : state) {
    kqueue ping(cap), pong(cap);
    t.run([&] {
      std::thread echo([&] {
        for (int i = 0; i < kernel_rounds; ++i) pong.put(ping.get());
      });
      for (int i = 0; i < kernel_rounds; ++i) {
        ping.put(i);
        benchmark::DoNotOptimize(pong.get());
      }
      echo.join();
    });
  }
  report(state, t, kernel_rounds, "round_trip");
}
BENCHMARK(BM_Channel_PingPong_Pthread)->Arg(0)->Arg(1)->UseRealTime();

// ---------------------------------------------------------------- throughput

void BM_Channel_Throughput(benchmark::State& state) {
  int pairs = static_cast<int>(state.range(0));
  weft::options o;
  o.workers = pairs == 1 ? 1 : 2;
  weft::runtime rt(o);
  int per = throughput_messages / pairs;
  timed t;
  for (auto _ : state) {
    t.run([&] {
      weft::spawn_in(rt, [&] {
        weft::channel<int> ch(1024);
        std::vector<weft::thread<void>> ts;
        for (int p = 0; p < pairs; ++p) {
          ts.push_back(weft::spawn([&] {
            for (int i = 0; i < per; ++i) (void)ch.send(i);
          }));
          ts.push_back(weft::spawn([&] {
            for (int i = 0; i < per; ++i) benchmark::DoNotOptimize(*ch.recv());
          }));
        }
        for (auto& th : ts) th.join();
      }).join();
    });
  }
  report(state, t, static_cast<std::int64_t>(per) * pairs, "message");
}
BENCHMARK(BM_Channel_Throughput)->Arg(1)->Arg(4)->UseRealTime();

void boost_throughput(int pairs, int per) {
  boost::fibers::buffered_channel<int> ch(1024);
  std::vector<boost::fibers::fiber> fs;
  for (int p = 0; p < pairs; ++p) {
    fs.emplace_back(std::allocator_arg, weft_bench::boost_stack(), [&] {
      for (int i = 0; i < per; ++i) ch.push(i);
    });
    fs.emplace_back(std::allocator_arg, weft_bench::boost_stack(), [&] {
      for (int i = 0; i < per; ++i) {
        int v = 0;
        ch.pop(v);
        benchmark::DoNotOptimize(v);
      }
    });
  }
  for (auto& f : fs) f.join();
}

void BM_Channel_Throughput_BoostFiber(benchmark::State& state) {
  int pairs = static_cast<int>(state.range(0));
  int per = throughput_messages / pairs;
  timed t;
  if (pairs == 1) {
    for (auto _ : state) t.run([&] { boost_throughput(1, per); });
  } else {
    weft_bench::boost_pool_active pool;
    for (auto _ : state) t.run([&] { pool.pool().run([&] { boost_throughput(pairs, per); }); });
  }
  report(state, t, static_cast<std::int64_t>(per) * pairs, "message");
}
BENCHMARK(BM_Channel_Throughput_BoostFiber)->Arg(1)->Arg(4)->UseRealTime();

void BM_Channel_Throughput_Pthread(benchmark::State& state) {
  int pairs = static_cast<int>(state.range(0));
  int per = throughput_messages / 10 / pairs;  // kernel threads: a tenth of the messages
  timed t;
  for (auto _ : state) {
    kqueue q(1024);
    t.run([&] {
      std::vector<std::thread> ts;
      for (int p = 0; p < pairs; ++p) {
        ts.emplace_back([&] {
          for (int i = 0; i < per; ++i) q.put(i);
        });
        ts.emplace_back([&] {
          for (int i = 0; i < per; ++i) benchmark::DoNotOptimize(q.get());
        });
      }
      for (auto& th : ts) th.join();
    });
  }
  report(state, t, static_cast<std::int64_t>(per) * pairs, "message");
}
BENCHMARK(BM_Channel_Throughput_Pthread)->Arg(1)->Arg(4)->UseRealTime();

// ---------------------------------------------------------------- mailbox, select

void BM_Mailbox_PingPong(benchmark::State& state) {
  weft::runtime rt(one_worker());
  timed t;
  for (auto _ : state) {
    t.run([&] {
      weft::spawn_in(rt, [&] {
        weft::open_mailbox<int>();
        weft::thread_id me = weft::this_thread::id();
        auto echo = weft::spawn_with_mailbox<int>([me] {
          for (;;) {
            auto m = weft::receive<int>();
            if (m->body < 0) return;
            (void)weft::send(me, m->body);
          }
        });
        for (int i = 0; i < green_rounds; ++i) {
          (void)weft::send(echo.id(), i);
          benchmark::DoNotOptimize(weft::receive<int>()->body);
        }
        (void)weft::send(echo.id(), -1);
        echo.join();
      }).join();
    });
  }
  report(state, t, green_rounds, "round_trip");
}
BENCHMARK(BM_Mailbox_PingPong)->UseRealTime();

void BM_Select_4(benchmark::State& state) {
  weft::runtime rt(one_worker());
  constexpr int selects = 100'000;
  timed t;
  for (auto _ : state) {
    t.run([&] {
      weft::spawn_in(rt, [&] {
        weft::channel<int> a(weft::unbounded), b(weft::unbounded), c(weft::unbounded), d(weft::unbounded);
        for (int i = 0; i < selects; ++i)
          for (auto* ch : {&a, &b, &c, &d}) (void)ch->try_send(i);
        std::optional<int> v;
        for (int i = 0; i < selects; ++i) {
          auto r = weft::select({weft::on_recv(a, v), weft::on_recv(b, v), weft::on_recv(c, v), weft::on_recv(d, v)});
          benchmark::DoNotOptimize(r);
        }
      }).join();
    });
  }
  report(state, t, selects, "select");
}
BENCHMARK(BM_Select_4)->UseRealTime();

void BM_Select_4_Blocking(benchmark::State& state) {
  weft::runtime rt(one_worker());
  timed t;
  for (auto _ : state) {
    t.run([&] {
      weft::spawn_in(rt, [&] {
        weft::channel<int> in[4] = {weft::channel<int>(0), weft::channel<int>(0), weft::channel<int>(0),
                                    weft::channel<int>(0)};
        weft::channel<int> back(0);
        auto server = weft::spawn([&] {
          std::optional<int> v;
          for (;;) {
            auto r = weft::select({weft::on_recv(in[0], v), weft::on_recv(in[1], v), weft::on_recv(in[2], v),
                                   weft::on_recv(in[3], v)});
            if (!r.ok()) return;
            (void)back.send(*v);
          }
        });
        for (int i = 0; i < green_rounds; ++i) {
          (void)in[i & 3].send(i);
          benchmark::DoNotOptimize(*back.recv());
        }
        for (auto& ch : in) ch.close();
        server.join();
      }).join();
    });
  }
  report(state, t, green_rounds, "select");
}
BENCHMARK(BM_Select_4_Blocking)->UseRealTime();

}  // namespace
