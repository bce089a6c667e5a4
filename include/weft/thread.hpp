// Green threads: spawn, the joinable handle, join-any, suspend/resume.
#pragma once

#include <cstddef>
#include <functional>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "detail/task.hpp"
#include "error.hpp"
#include "thread_info.hpp"

namespace weft {

class runtime;

// How to create a thread.
struct spawn_attrs {
  std::string name;              // shown in snapshots and in overflow reports
  int priority = 0;              // -64..64; higher runs first under policy_kind::priority
  std::size_t stack_size = 0;    // 0: the runtime's default
  bool pinned = false;           // runs only on the worker that spawned it (from outside: each worker in turn)
  bool start_suspended = false;  // created in suspended_ready: first runs after resume()
};

namespace detail {
struct tcb;
// Creates a TCB with room for a task; rt null = the caller's runtime. Throws weft::error.
tcb* tcb_create(runtime* rt, const spawn_attrs& attrs, std::size_t task_size, std::size_t task_align);
void* tcb_task_storage(tcb* t) noexcept;
// Admits a TCB whose task is constructed to the run queues.
void tcb_start(tcb* t, task_base* task) noexcept;
// Frees a TCB whose task construction threw.
void tcb_abandon(tcb* t) noexcept;
// Waits until t has terminated; throws weft::error (deadlock) when t is the caller.
void tcb_wait(tcb* t);
// Reaps t from its parent's child list and drops the handle's reference.
void tcb_release(tcb* t) noexcept;
// As release, but the thread may still be running; its exception, if any, is reported.
void tcb_detach(tcb* t) noexcept;
// Handle destroyed while joinable: join and report an exception nobody will see.
void tcb_join_on_destroy(tcb* t) noexcept;
task_base* tcb_task(tcb* t) noexcept;
thread_id tcb_id(const tcb* t) noexcept;

template <class F>
using spawn_result_t = std::invoke_result_t<std::decay_t<F>>;
}  // namespace detail

template <class R>
class thread;

// Starts fn on a new green thread of the caller's runtime (or of the only
// runtime alive, from a foreign thread); throws weft::error (no_runtime,
// shut_down, resource_exhausted, invalid_argument).
template <class F>
thread<detail::spawn_result_t<F>> spawn(F&& fn, const spawn_attrs& attrs = {});
// Starts fn on a new green thread of rt; throws as spawn().
template <class F>
thread<detail::spawn_result_t<F>> spawn_in(runtime& rt, F&& fn, const spawn_attrs& attrs = {});

// A handle to a green thread, like std::thread but typed by the result.
// Destroying a joinable handle joins it (as std::jthread does); if the
// thread ended with an exception that no one will now see, weft prints it
// and terminates rather than losing it silently.
template <class R = void>
class thread {
 public:
  thread() noexcept = default;
  thread(thread&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  thread& operator=(thread&& o) noexcept {
    if (this != &o) {
      if (t_) detail::tcb_join_on_destroy(t_);
      t_ = std::exchange(o.t_, nullptr);
    }
    return *this;
  }
  ~thread() {
    if (t_) detail::tcb_join_on_destroy(t_);
  }

  // True until joined or detached.
  bool joinable() const noexcept { return t_ != nullptr; }
  // The thread's id; 0 for an empty handle.
  thread_id id() const noexcept { return t_ ? detail::tcb_id(t_) : 0; }
  // The runtime's TCB handle (for weft's own use and diagnostics).
  detail::tcb* native_handle() const noexcept { return t_; }

  // Waits for the thread, returns its value or rethrows its exception; throws
  // weft::error (not_joinable on an empty handle, deadlock when joining self).
  R join() {
    if (!t_) throw error(errc::not_joinable, "join: the handle holds no thread (already joined or detached)");
    detail::tcb_wait(t_);
    detail::tcb* t = std::exchange(t_, nullptr);
    auto* task = static_cast<detail::result_task<R>*>(detail::tcb_task(t));
    struct release_guard {
      detail::tcb* t;
      ~release_guard() { detail::tcb_release(t); }
    } guard{t};
    // Take the exception out of the task: the task may be freed on a worker,
    // and the exception object must die on this thread, where the caller's
    // catch block reads it (libstdc++'s uninstrumented refcount gives
    // ThreadSanitizer no ordering between the two otherwise).
    if (task->error) std::rethrow_exception(std::exchange(task->error, nullptr));
    return task->take();
  }

  // Lets the thread run on unowned; throws weft::error (not_joinable) on an empty handle.
  void detach() {
    if (!t_) throw error(errc::not_joinable, "detach: the handle holds no thread (already joined or detached)");
    detail::tcb_detach(std::exchange(t_, nullptr));
  }

 private:
  template <class F>
  friend thread<detail::spawn_result_t<F>> spawn_in_impl(runtime* rt, F&& fn, const spawn_attrs& attrs);
  explicit thread(detail::tcb* t) noexcept : t_(t) {}
  detail::tcb* t_ = nullptr;
};

template <class F>
thread<detail::spawn_result_t<F>> spawn_in_impl(runtime* rt, F&& fn, const spawn_attrs& attrs) {
  using R = detail::spawn_result_t<F>;
  using T = detail::task<std::decay_t<F>, R>;
  detail::tcb* t = detail::tcb_create(rt, attrs, sizeof(T), alignof(T));
  T* task;
  try {
    task = ::new (detail::tcb_task_storage(t)) T(std::forward<F>(fn));
  } catch (...) {
    detail::tcb_abandon(t);
    throw;
  }
  detail::tcb_start(t, task);
  return thread<R>(t);
}

template <class F>
thread<detail::spawn_result_t<F>> spawn(F&& fn, const spawn_attrs& attrs) {
  return spawn_in_impl(nullptr, std::forward<F>(fn), attrs);
}

template <class F>
thread<detail::spawn_result_t<F>> spawn_in(runtime& rt, F&& fn, const spawn_attrs& attrs) {
  return spawn_in_impl(&rt, std::forward<F>(fn), attrs);
}

// Waits until any child of the calling green thread ends and reaps it (the
// wait()/waitpid(-1) analogue); returns the child's id. Its handle, if one
// still exists, can still join it for the value. Throws weft::error
// (no_child when the caller has no child left to wait for, no_runtime).
thread_id join_any();

// Moves a thread into the suspended half of the state model: ready ->
// suspended_ready, blocked -> suspended_blocked; a running thread suspends
// at its next switch. Throws weft::error (no_such_thread, invalid_state).
void suspend(thread_id id);
// Moves a suspended thread back: suspended_ready -> ready, suspended_blocked
// -> blocked. Throws weft::error (no_such_thread, invalid_state when it is not suspended).
void resume(thread_id id);

}  // namespace weft
