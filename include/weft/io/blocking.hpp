// weft::blocking(fn): run a call that would block its kernel thread (a C
// library, a DNS lookup, a database client) on a bounded pool of offload
// threads, while the calling green thread parks and its worker runs others.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "weft/detail/wait_queue.hpp"

namespace weft {
namespace detail {

// One call handed to the offload pool; lives on the caller's stack.
struct blocking_job {
  void (*run)(blocking_job*) noexcept = nullptr;
  wait_queue q;  // the caller parks here; the pool thread completes it
  blocking_job* next = nullptr;
  // Withdrawable jobs (runtime/io/offload.hpp) park on *home instead of q,
  // a queue a canceller can wake; null for weft::blocking().
  wait_queue* home = nullptr;
  bool started = false;   // a pool thread took it (under the pool's lock)
  bool finished = false;  // run() returned (under home's lock; q's for weft::blocking())
};

// Runs job.run on an offload thread and parks the caller until it returned.
// Throws weft::error(resource_exhausted) if no offload thread exists and
// none can be started.
void offload(blocking_job& job);
// True when the caller is not a green thread (blocking() then calls fn inline).
bool offload_inline() noexcept;

}  // namespace detail

// Runs fn() on the offload pool and returns its value (or rethrows its
// exception) in the calling green thread, which waits parked meanwhile. On a
// foreign kernel thread fn() simply runs inline. When every offload thread
// is busy and the queue is full, the caller waits for room (back-pressure),
// still parked. Throws weft::error(resource_exhausted) if no offload thread
// can be started at all, and weft::error(canceled) when stop is requested on
// the calling green thread before an offload thread started fn (fn then never
// runs); once fn has started, the caller waits for it and gets its result.
template <class F>
std::invoke_result_t<F&> blocking(F&& fn) {
  using R = std::invoke_result_t<F&>;
  if (detail::offload_inline()) return fn();
  struct job : detail::blocking_job {
    std::remove_reference_t<F>* f = nullptr;
    std::exception_ptr error;
    // References come back as pointers; void as nothing.
    using slot = std::conditional_t<std::is_void_v<R>, char,
                                    std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*,
                                                       std::optional<R>>>;
    slot result{};
  } j;
  j.f = std::addressof(fn);
  j.run = [](detail::blocking_job* b) noexcept {
    auto* self = static_cast<job*>(b);
    try {
      if constexpr (std::is_void_v<R>) std::invoke(*self->f);
      else if constexpr (std::is_reference_v<R>) self->result = std::addressof(std::invoke(*self->f));
      else self->result.emplace(std::invoke(*self->f));
    } catch (...) {
      self->error = std::current_exception();
    }
  };
  detail::offload(j);
  if (j.error) std::rethrow_exception(j.error);
  if constexpr (std::is_void_v<R>) return;
  else if constexpr (std::is_reference_v<R>) return static_cast<R>(*j.result);
  else return std::move(*j.result);
}

// Offload pool limits, shared by every runtime of the process.
struct blocking_limits {
  unsigned max_threads = 64;   // offload threads at most (started on demand, stopped after 10 s idle)
  std::size_t max_queued = 1024;  // calls waiting for a thread before callers are held back
};

// Sets the offload pool limits; throws weft::error(invalid_argument) for zero values.
void set_blocking_limits(const blocking_limits& limits);
// The current limits.
blocking_limits get_blocking_limits();

// What the offload pool is doing right now.
struct blocking_stats {
  unsigned threads = 0;      // offload threads alive
  unsigned busy = 0;         // running a call
  std::size_t queued = 0;    // calls waiting for a thread
  std::size_t held_back = 0; // callers waiting for room in the queue
};
// A snapshot of the offload pool.
blocking_stats get_blocking_stats();

}  // namespace weft
