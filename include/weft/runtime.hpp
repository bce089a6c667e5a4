// The runtime: a set of kernel worker threads running green threads.
#pragma once

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "options.hpp"
#include "runtime_stats.hpp"
#include "thread.hpp"
#include "thread_info.hpp"

namespace weft {

namespace detail {
class runtime_impl;
}

// An embeddable runtime. Construction starts the workers; destruction waits
// until every green thread has ended, then stops them. Several runtimes may
// live in one process; all their state is in this object.
class runtime {
 public:
  // Starts the workers; throws weft::error (invalid_argument for bad options,
  // resource_exhausted when threads cannot be created).
  explicit runtime(const options& opts = {});
  // Waits for every green thread to end, then stops the workers and frees
  // the results no handle joined (handles left over then throw
  // weft::error(shut_down) from join). Aborts with a message if called from
  // one of its own green threads, or if an unjoined thread ended with an exception.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // Waits for every green thread to end, then stops the workers; later
  // spawns throw weft::error(shut_down). Call it from a foreign thread only.
  void shutdown();

  // Number of workers.
  unsigned workers() const noexcept;
  // A consistent copy of every TCB (live and terminated-but-unjoined);
  // throws std::bad_alloc only.
  std::vector<thread_info> snapshot() const;
  // Per-worker and total scheduling metrics since start (busy time and
  // utilisation, switches, threads completed per second); throws std::bad_alloc only.
  runtime_stats stats() const;
  // Name of the compiled-in context-switch backend.
  static const char* context_backend() noexcept;

  detail::runtime_impl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<detail::runtime_impl> impl_;
};

// Runs main_fn as the root green thread of a fresh runtime built from opts,
// waits until it and every other green thread ended, and returns main_fn's
// exit code (an int result, or 0 for void). Exceptions from main_fn propagate.
int run(const options& opts, std::function<int()> main_fn);
// run() with a main that returns nothing; exit code 0.
int run(const options& opts, std::function<void()> main_fn);
// run() for any callable: picks the int or void overload by its result type
// (a lambda returning int converts to both std::function types, so a plain
// call would be ambiguous). Throws as run().
template <class F>
  requires(!std::is_same_v<std::decay_t<F>, std::function<int()>> &&
           !std::is_same_v<std::decay_t<F>, std::function<void()>> && std::is_invocable_v<std::decay_t<F>&>)
int run(const options& opts, F&& main_fn) {
  if constexpr (std::is_void_v<std::invoke_result_t<std::decay_t<F>&>>)
    return run(opts, std::function<void()>(std::forward<F>(main_fn)));
  else
    return run(opts, std::function<int()>(std::forward<F>(main_fn)));
}
// run() with default options (a worker per online CPU). Throws as run().
template <class F>
  requires std::is_invocable_v<std::decay_t<F>&>
int run(F&& main_fn) {
  return run(options{}, std::forward<F>(main_fn));
}

// A snapshot of the caller's runtime (or the only live one); throws weft::error(no_runtime).
std::vector<thread_info> snapshot();
// runtime::stats() of the caller's runtime (or the only live one); throws weft::error(no_runtime).
runtime_stats stats();

}  // namespace weft
