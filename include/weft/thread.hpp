// Green threads: spawn, the joinable handle, join-any, suspend/resume.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <new>
#include <optional>
#include <stop_token>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "detail/duration.hpp"
#include "detail/task.hpp"
#include "error.hpp"
#include "thread_info.hpp"

namespace weft {

class runtime;

// How to create a thread.
struct spawn_attrs {
  std::string name;              // shown in snapshots and in overflow reports
  int priority = 0;              // -64..64; higher runs first under policy_kind::priority and aging
  std::size_t stack_size = 0;    // 0: the runtime's default
  bool pinned = false;           // runs only on the worker that spawned it (from outside: each worker in turn)
  bool start_suspended = false;  // created in suspended_ready: first runs after resume()
  // Its expected first CPU burst, tau(0) for this thread (0: options.initial_burst);
  // policy_kind::sjf and hrrn order by it until the thread has run. Must not be negative.
  std::chrono::microseconds expected_burst{0};
  // Cancel tree: stop is requested on the new thread when it is on the
  // spawning green thread (at once if it was already); no effect when
  // spawned from a foreign thread. Gives the thread a stop state at spawn.
  bool stop_with_parent = false;
};

template <class R>
class thread;

namespace detail {
struct tcb;
// A runtime's lifetime as its thread handles see it (runtime/api.cpp): it
// outlives the runtime while handles of that runtime are left.
struct rt_anchor;

// Creates a TCB with room for a task; rt null = the caller's runtime. Throws weft::error.
tcb* tcb_create(runtime* rt, const spawn_attrs& attrs, std::size_t task_size, std::size_t task_align);
void* tcb_task_storage(tcb* t) noexcept;
// Admits a TCB whose task is constructed to the run queues.
void tcb_start(tcb* t, task_base* task) noexcept;
// Frees a TCB whose task construction threw.
void tcb_abandon(tcb* t) noexcept;
// The anchor of t's runtime (t alive).
rt_anchor* tcb_anchor(tcb* t) noexcept;
// Waits until t has terminated; throws weft::error (deadlock) when t is the caller.
void tcb_wait(tcb* t);
// Waits until t has terminated or the steady clock reaches deadline_ns;
// true if it terminated. Throws weft::error (deadlock) when t is the caller,
// and, if `cancellable`, weft::error(canceled) when stop is requested on the
// calling green thread first.
bool tcb_wait_until(tcb* t, long long deadline_ns, const char* what, bool cancellable = true);
// t's stop source, made now if t has none; throws std::bad_alloc only.
std::stop_source tcb_stop_source(tcb* t);
// Requests stop on t unless it has terminated; true if this call made the request.
bool tcb_request_stop(tcb* t);
// The deadline timeout_ns from now; throws weft::error(invalid_argument) naming `what` if negative.
long long tcb_deadline_in(long long timeout_ns, const char* what);
// Reaps t from its parent's child list and drops the handle's reference.
void tcb_release(tcb* t) noexcept;
// As release, but the thread may still be running; its exception, if any, is
// reported. Forgets t quietly if a's runtime has been destroyed.
void tcb_detach(tcb* t, rt_anchor* a) noexcept;
// Handle destroyed while joinable: join and report an exception nobody will
// see; forgets t quietly if a's runtime has been destroyed.
void tcb_join_on_destroy(tcb* t, rt_anchor* a) noexcept;
task_base* tcb_task(tcb* t) noexcept;
thread_id tcb_id(const tcb* t) noexcept;

// How an operation through a handle entered its runtime (handle_enter).
enum class handle_entry : unsigned char {
  gone,          // the runtime has been destroyed: its TCBs are freed, touch nothing
  counted,       // from outside the runtime: the runtime's end waits for handle_leave
  same_runtime,  // from one of its own green threads: the runtime cannot end meanwhile
};
// Starts an operation of a handle of a's runtime.
handle_entry handle_enter(rt_anchor* a) noexcept;
// Ends a `counted` operation.
void handle_leave(rt_anchor* a) noexcept;
// Drops a handle whose runtime has been destroyed (after handle_enter said gone).
void handle_forget(rt_anchor* a) noexcept;
// Throws weft::error(shut_down): `what` on green thread id, whose runtime has been destroyed.
[[noreturn]] void throw_runtime_gone(const char* what, thread_id id);

// handle_enter/handle_leave as a scope.
class handle_scope {
 public:
  explicit handle_scope(rt_anchor* a) noexcept : a_(a), e_(handle_enter(a)) {}
  ~handle_scope() {
    if (e_ == handle_entry::counted) handle_leave(a_);
  }
  handle_scope(const handle_scope&) = delete;
  handle_scope& operator=(const handle_scope&) = delete;
  bool gone() const noexcept { return e_ == handle_entry::gone; }

 private:
  rt_anchor* a_;
  handle_entry e_;
};

// What spawn(fn, args...) runs: fn and decayed copies of the arguments,
// made by the spawner and handed to fn as rvalues (as std::thread does).
template <class F, class... Args>
class bound_call {
 public:
  template <class G, class... A>
  explicit bound_call(std::in_place_t, G&& g, A&&... a) : fn_(std::forward<G>(g)), args_(std::forward<A>(a)...) {}
  decltype(auto) operator()() {
    return std::apply([this](Args&... a) -> decltype(auto) { return std::invoke(std::move(fn_), std::move(a)...); },
                      args_);
  }

 private:
  F fn_;
  std::tuple<Args...> args_;
};

// What spawn(fn, args...) runs when fn takes a std::stop_token first (as
// std::jthread does): fn(token of the new thread, args...).
template <class F, class... Args>
class bound_stop_call {
 public:
  template <class G, class... A>
  explicit bound_stop_call(std::in_place_t, std::stop_token tok, G&& g, A&&... a)
      : tok_(std::move(tok)), fn_(std::forward<G>(g)), args_(std::forward<A>(a)...) {}
  decltype(auto) operator()() {
    return std::apply(
        [this](Args&... a) -> decltype(auto) { return std::invoke(std::move(fn_), std::move(tok_), std::move(a)...); },
        args_);
  }

 private:
  std::stop_token tok_;
  F fn_;
  std::tuple<Args...> args_;
};

// True if spawn passes the new thread's std::stop_token as fn's first argument.
template <class F, class... Args>
inline constexpr bool takes_stop_token = std::is_invocable_v<std::decay_t<F>, std::stop_token, std::decay_t<Args>...>;

// True if spawn can run fn with these arguments (with or without the token).
template <class F, class... Args>
inline constexpr bool spawnable =
    takes_stop_token<F, Args...> || std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>;

template <bool StopToken, class F, class... Args>
struct spawn_result {
  using type = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
};
template <class F, class... Args>
struct spawn_result<true, F, Args...> {
  using type = std::invoke_result_t<std::decay_t<F>, std::stop_token, std::decay_t<Args>...>;
};

// The result type of a thread running fn(args...) (or fn(token, args...)).
template <class F, class... Args>
using spawn_result_t = typename spawn_result<takes_stop_token<F, Args...>, F, Args...>::type;

// True if the first of Args is a spawn_attrs: then it gives the attributes, never an argument.
template <class... Args>
inline constexpr bool starts_with_attrs = false;
template <class A0, class... Rest>
inline constexpr bool starts_with_attrs<A0, Rest...> = std::is_base_of_v<spawn_attrs, std::remove_cvref_t<A0>>;

// What try_join and join_for return: the result if the thread was joined.
template <class R>
struct timed_join {
  using type = std::optional<R>;
};
template <class R>
struct timed_join<R&> {
  using type = std::optional<std::reference_wrapper<R>>;
};
template <>
struct timed_join<void> {
  using type = bool;
};

struct thread_access;

// Builds a task Fn (from ctor_args; with StopToken, from std::in_place, the
// new thread's stop token and ctor_args) in a new TCB of rt (null: the
// caller's runtime) and starts it; throws as spawn().
template <class Fn, class R, bool StopToken, class... X>
thread<R> spawn_task(runtime* rt, const spawn_attrs& attrs, X&&... ctor_args);
}  // namespace detail

// Starts fn(args...) on a new green thread of the caller's runtime (or of the
// only runtime alive, from a foreign thread). As with std::thread, fn and the
// arguments are decay-copied by the caller and passed as rvalues (std::ref
// passes a reference). Throws weft::error (no_runtime, shut_down,
// resource_exhausted, invalid_argument), or what copying an argument throws.
template <class F, class... Args>
  requires(!detail::starts_with_attrs<Args...> && detail::spawnable<F, Args...>)
thread<detail::spawn_result_t<F, Args...>> spawn(F&& fn, Args&&... args);
// As spawn(fn, args...), with attributes; a spawn_attrs right after fn is
// always the attributes. Throws as spawn().
template <class F, class... Args>
  requires detail::spawnable<F, Args...>
thread<detail::spawn_result_t<F, Args...>> spawn(F&& fn, const spawn_attrs& attrs, Args&&... args);
// Starts fn(args...) on a new green thread of rt; throws as spawn().
template <class F, class... Args>
  requires(!detail::starts_with_attrs<Args...> && detail::spawnable<F, Args...>)
thread<detail::spawn_result_t<F, Args...>> spawn_in(runtime& rt, F&& fn, Args&&... args);
// As spawn_in(rt, fn, args...), with attributes; throws as spawn().
template <class F, class... Args>
  requires detail::spawnable<F, Args...>
thread<detail::spawn_result_t<F, Args...>> spawn_in(runtime& rt, F&& fn, const spawn_attrs& attrs, Args&&... args);

// A handle to a green thread, like std::thread but typed by the result.
// Destroying a joinable handle joins it (as std::jthread does: first
// requesting stop if the thread has a stop state, see request_stop()); if the
// thread ended with an exception that no one will now see, weft prints it
// and terminates rather than losing it silently. A handle may outlive its
// runtime: joining it then throws weft::error(shut_down), and detaching or
// destroying it just lets go (the runtime's end freed the thread).
template <class R = void>
class thread {
 public:
  // What try_join() and join_for() return: std::optional<R> holding the
  // result if the thread was joined (std::optional<std::reference_wrapper<U>>
  // for R = U&; for R = void, true if it was joined).
  using timed_result = typename detail::timed_join<R>::type;

  // An empty handle.
  thread() noexcept = default;
  // Takes over o's thread; o becomes empty.
  thread(thread&& o) noexcept
      : t_(std::exchange(o.t_, nullptr)), a_(std::exchange(o.a_, nullptr)), id_(std::exchange(o.id_, 0)) {}
  // Joins the thread this handle holds (as the destructor does), then takes over o's.
  thread& operator=(thread&& o) noexcept {
    if (this != &o) {
      if (t_) detail::tcb_join_on_destroy(t_, a_);
      t_ = std::exchange(o.t_, nullptr);
      a_ = std::exchange(o.a_, nullptr);
      id_ = std::exchange(o.id_, 0);
    }
    return *this;
  }
  // Joins a joinable thread; terminates if it ended with an exception nobody saw.
  ~thread() {
    if (t_) detail::tcb_join_on_destroy(t_, a_);
  }

  // True until joined or detached.
  bool joinable() const noexcept { return t_ != nullptr; }
  // The thread's id; 0 for an empty handle.
  thread_id id() const noexcept { return t_ ? id_ : 0; }
  // The runtime's TCB handle (for weft's own use and diagnostics; valid while the runtime lives).
  detail::tcb* native_handle() const noexcept { return t_; }

  // Waits for the thread, returns its value or rethrows its exception; throws
  // weft::error (not_joinable on an empty handle, deadlock when joining self,
  // shut_down when the thread's runtime has been destroyed: the handle is
  // empty then; canceled when stop is requested on the calling green thread
  // while it waits: the handle is unchanged).
  R join() {
    check("join");
    detail::handle_scope scope(a_);
    if (scope.gone()) lost("join");
    detail::tcb_wait(t_);
    return take();
  }

  // Joins the thread if it has ended, without waiting: its value (or true
  // for void) and the handle is empty, or an empty optional (false) and
  // nothing changed. Rethrows the thread's exception if it ended with one;
  // throws weft::error as join().
  timed_result try_join() {
    check("try_join");
    detail::handle_scope scope(a_);
    if (scope.gone()) lost("try_join");
    if (!detail::tcb_wait_until(t_, 0, "try_join")) return timed_result{};
    return take_timed();
  }

  // As try_join(), but waits at most d for the thread to end (a d too long
  // for int64 nanoseconds waits for good). Throws as join(), and
  // weft::error(invalid_argument) on a negative or NaN d.
  template <class Rep, class Period>
  timed_result join_for(std::chrono::duration<Rep, Period> d) {
    check("join_for");
    long long deadline = detail::tcb_deadline_in(detail::saturating_ns(d, "join_for"), "join_for");
    detail::handle_scope scope(a_);
    if (scope.gone()) lost("join_for");
    if (!detail::tcb_wait_until(t_, deadline, "join_for")) return timed_result{};
    return take_timed();
  }

  // Asks the thread to stop (cancellation, as std::jthread::request_stop):
  // its stop token reports it, and its cancellable blocking calls wake with
  // errc::canceled / op_status::canceled (docs/api.md). Makes the stop state
  // if the thread has none; a wait the thread began before its state existed
  // is not woken, only its later ones (spawn with a std::stop_token callable
  // to have the state from the start). True if this call made the request; false if it
  // was made before, the thread has ended, the handle is empty or its
  // runtime is gone. Throws std::bad_alloc only.
  bool request_stop() {
    if (!t_) return false;
    detail::handle_scope scope(a_);
    if (scope.gone()) return false;
    return detail::tcb_request_stop(t_);
  }
  // The thread's std::stop_source (made now if it has none): a copy that
  // may outlive the handle and the thread. Empty (std::nostopstate) for an
  // empty handle or a destroyed runtime. Throws std::bad_alloc only.
  std::stop_source get_stop_source() {
    if (!t_) return std::stop_source(std::nostopstate);
    detail::handle_scope scope(a_);
    if (scope.gone()) return std::stop_source(std::nostopstate);
    return detail::tcb_stop_source(t_);
  }
  // The thread's std::stop_token (made as get_stop_source()); an empty
  // token (stop_possible() false) where that is empty. Throws std::bad_alloc only.
  std::stop_token get_stop_token() { return get_stop_source().get_token(); }

  // Lets the thread run on unowned; throws weft::error (not_joinable) on an empty handle.
  void detach() {
    check("detach");
    id_ = 0;
    detail::tcb_detach(std::exchange(t_, nullptr), std::exchange(a_, nullptr));
  }

 private:
  friend struct detail::thread_access;
  thread(detail::tcb* t, detail::rt_anchor* a, thread_id id) noexcept : t_(t), a_(a), id_(id) {}

  void check(const char* what) const {
    if (!t_)
      throw error(errc::not_joinable,
                  std::string(what) + ": the handle holds no thread (already joined or detached)");
  }
  // The runtime is gone: empty the handle and say so.
  [[noreturn]] void lost(const char* what) {
    t_ = nullptr;
    thread_id id = std::exchange(id_, 0);
    detail::handle_forget(std::exchange(a_, nullptr));
    detail::throw_runtime_gone(what, id);
  }
  // The ended thread's value (or exception); empties the handle.
  R take() {
    detail::tcb* t = std::exchange(t_, nullptr);
    a_ = nullptr;
    id_ = 0;
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
  timed_result take_timed() {
    if constexpr (std::is_void_v<R>) {
      take();
      return true;
    } else if constexpr (std::is_reference_v<R>) {
      return timed_result(std::ref(take()));
    } else {
      return timed_result(take());
    }
  }

  detail::tcb* t_ = nullptr;
  detail::rt_anchor* a_ = nullptr;  // t_'s runtime, for telling whether it still lives
  thread_id id_ = 0;
};

namespace detail {
struct thread_access {
  template <class R>
  static thread<R> make(tcb* t) noexcept {
    return thread<R>(t, tcb_anchor(t), tcb_id(t));
  }
};

template <class Fn, class R, bool StopToken, class... X>
thread<R> spawn_task(runtime* rt, const spawn_attrs& attrs, X&&... ctor_args) {
  using T = task<Fn, R>;
  tcb* t = tcb_create(rt, attrs, sizeof(T), alignof(T));
  T* tk;
  try {
    if constexpr (StopToken)
      tk = ::new (tcb_task_storage(t))
          T(std::in_place, std::in_place, tcb_stop_source(t).get_token(), std::forward<X>(ctor_args)...);
    else
      tk = ::new (tcb_task_storage(t)) T(std::in_place, std::forward<X>(ctor_args)...);
  } catch (...) {
    tcb_abandon(t);
    throw;
  }
  tcb_start(t, tk);
  return thread_access::make<R>(t);
}

template <class F, class... Args>
thread<spawn_result_t<F, Args...>> spawn_any(runtime* rt, F&& fn, const spawn_attrs& attrs, Args&&... args) {
  using R = spawn_result_t<F, Args...>;
  if constexpr (takes_stop_token<F, Args...>)
    return spawn_task<bound_stop_call<std::decay_t<F>, std::decay_t<Args>...>, R, true>(
        rt, attrs, std::forward<F>(fn), std::forward<Args>(args)...);
  else if constexpr (sizeof...(Args) == 0)
    return spawn_task<std::decay_t<F>, R, false>(rt, attrs, std::forward<F>(fn));
  else
    return spawn_task<bound_call<std::decay_t<F>, std::decay_t<Args>...>, R, false>(
        rt, attrs, std::in_place, std::forward<F>(fn), std::forward<Args>(args)...);
}
}  // namespace detail

template <class F, class... Args>
  requires(!detail::starts_with_attrs<Args...> && detail::spawnable<F, Args...>)
thread<detail::spawn_result_t<F, Args...>> spawn(F&& fn, Args&&... args) {
  return detail::spawn_any(nullptr, std::forward<F>(fn), spawn_attrs{}, std::forward<Args>(args)...);
}

template <class F, class... Args>
  requires detail::spawnable<F, Args...>
thread<detail::spawn_result_t<F, Args...>> spawn(F&& fn, const spawn_attrs& attrs, Args&&... args) {
  return detail::spawn_any(nullptr, std::forward<F>(fn), attrs, std::forward<Args>(args)...);
}

template <class F, class... Args>
  requires(!detail::starts_with_attrs<Args...> && detail::spawnable<F, Args...>)
thread<detail::spawn_result_t<F, Args...>> spawn_in(runtime& rt, F&& fn, Args&&... args) {
  return detail::spawn_any(&rt, std::forward<F>(fn), spawn_attrs{}, std::forward<Args>(args)...);
}

template <class F, class... Args>
  requires detail::spawnable<F, Args...>
thread<detail::spawn_result_t<F, Args...>> spawn_in(runtime& rt, F&& fn, const spawn_attrs& attrs, Args&&... args) {
  return detail::spawn_any(&rt, std::forward<F>(fn), attrs, std::forward<Args>(args)...);
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
