// Two kernel threads running Boost.Fiber's work_stealing scheduler: the
// Boost.Fiber counterpart of a two-worker weft runtime.
//
// Why a process-wide singleton. Boost 1.74's algo::work_stealing keeps its
// scheduler table and a thread counter in static members and sizes them
// once: a second set of work_stealing threads in the same process indexes
// past the table. So the pool is built on first use and lives until exit.
//
// Why it parks between benchmarks. work_stealing with its default
// suspend=false never sleeps: an idle scheduler spins looking for fibers to
// steal (with suspend=true it sleeps, but then only a fiber handed to it
// from another thread wakes it, so it never wakes to steal, and the pool
// runs on one thread). Spinning threads would steal CPU from every other
// benchmark, so outside activate()/deactivate() each pool thread's main
// fiber blocks its whole kernel thread on a std::condition_variable.
//
// A pool thread's main fiber, in steps:
//   1. block the kernel thread until active_ (or quit_);
//   2. while active_: launch queued jobs as detached fibers, else wait on the
//      fiber condition variable (the scheduler now spins and steals);
//   3. when deactivated, back to 1.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/fiber/all.hpp>

#include "common.hpp"

namespace weft_bench {

class boost_ws_pool {
 public:
  static constexpr unsigned threads = 2;

  // The pool, started on first use.
  static boost_ws_pool& get() {
    static boost_ws_pool pool;
    return pool;
  }

  // Lets the pool's schedulers run (and spin when idle, as Boost does).
  void activate() {
    std::lock_guard lk(mu_);
    active_ = true;
    park_cv_.notify_all();
  }

  // Parks the pool's kernel threads again.
  void deactivate() {
    std::lock_guard lk(mu_);
    active_ = false;
    fiber_cv_.notify_all();
  }

  // Runs fn as a fiber on the active pool and waits until it returned;
  // fibers fn launches spread over both threads by stealing.
  void run(std::function<void()> fn) {
    std::promise<void> done;
    auto job = [&] {
      fn();
      done.set_value();
    };
    {
      std::lock_guard lk(mu_);
      jobs_.push_back(job);
      fiber_cv_.notify_one();
    }
    done.get_future().get();
  }

 private:
  boost_ws_pool() {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { main(); });
  }

  ~boost_ws_pool() {
    {
      std::lock_guard lk(mu_);
      quit_ = true;
      active_ = false;
      park_cv_.notify_all();
      fiber_cv_.notify_all();
    }
    for (auto& t : threads_) t.join();
  }

  void main() {
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(threads);
    std::unique_lock lk(mu_);
    for (;;) {
      park_cv_.wait(lk, [this] { return active_ || quit_; });
      if (quit_) return;
      while (active_) {
        if (jobs_.empty()) {
          fiber_cv_.wait(lk);
          continue;
        }
        std::function<void()> job = std::move(jobs_.front());
        jobs_.pop_front();
        lk.unlock();
        boost::fibers::fiber(std::allocator_arg, boost_stack(), std::move(job)).detach();
        lk.lock();
      }
    }
  }

  std::mutex mu_;
  std::condition_variable park_cv_;                    // kernel-level: parked pool threads
  boost::fibers::condition_variable_any fiber_cv_;     // fiber-level: active, idle main fibers
  bool active_ = false;
  bool quit_ = false;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
};

// Activates the pool for a scope.
class boost_pool_active {
 public:
  boost_pool_active() : pool_(boost_ws_pool::get()) { pool_.activate(); }
  ~boost_pool_active() { pool_.deactivate(); }
  boost_pool_active(const boost_pool_active&) = delete;
  boost_pool_active& operator=(const boost_pool_active&) = delete;
  boost_ws_pool& pool() { return pool_; }

 private:
  boost_ws_pool& pool_;
};

}  // namespace weft_bench
