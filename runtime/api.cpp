// The public thread API on top of the scheduler: handles, this_thread,
// suspend/resume, the runtime object and run().
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "base/clock.hpp"
#include "core/dump.hpp"
#include "core/park.hpp"
#include "base/fatal.hpp"
#include "core/runtime_impl.hpp"
#include "core/stop.hpp"
#include "core/tcb.hpp"
#include "core/thread_label.hpp"
#include "weft/dump.hpp"
#include "weft/runtime.hpp"
#include "weft/this_thread.hpp"
#include "weft/thread.hpp"
#include "core/worker.hpp"
#include "io/engine.hpp"
#include "policy/registry.hpp"

namespace weft {
namespace detail {

// A runtime's lifetime as its handles see it. A weft::thread holds its TCB
// and its runtime's anchor; the TCB lives in the runtime's pools and dies
// with it, the anchor lives on while handles of that runtime are left, so a
// handle asks the anchor before it touches its TCB. The runtime's end
// (~runtime): after the last green thread ended it clears `alive`, waits
// until no handle operation from outside is still inside (those count in
// `word`), frees the TCBs that only a handle still holds, and leaves the
// anchor to those handles, which find it dead and let go (handle_forget).
struct rt_anchor {
  static constexpr std::uint64_t alive = std::uint64_t{1} << 63;
  // A bias on `left` until the runtime's end has counted the handles left:
  // handles that let go earlier cannot bring it to zero meanwhile.
  static constexpr std::int64_t uncounted = std::int64_t{1} << 62;
  std::atomic<std::uint64_t> word{alive};     // alive | operations from outside in progress
  std::atomic<std::int64_t> left{uncounted};  // handles that outlived the runtime, still to let go
};

namespace {

void anchor_unref(rt_anchor* a, std::int64_t n) noexcept {
  if (a->left.fetch_sub(n, std::memory_order_acq_rel) == n) delete a;
}

runtime_impl& caller_runtime(const char* what) {
  runtime_impl* s = runtime_for_caller();
  if (!s)
    throw error(errc::no_runtime, std::string(what) +
                                      ": no runtime for this thread (call from a green thread, or have exactly one "
                                      "weft::runtime alive, or use spawn_in)");
  return *s;
}

struct ref_guard {
  tcb* t;
  ~ref_guard() { t->rt().release(t); }
};

[[noreturn]] void bad_state(const char* op, const tcb* t, thread_state s, const char* why) {
  throw error(errc::invalid_state, std::string(op) + ": " + thread_label(t) + " " + why + " (state " + to_string(s) + ")");
}

}  // namespace

handle_entry handle_enter(rt_anchor* a) noexcept {
  if (tcb* self = current_tcb(); self && self->rt().anchor == a) return handle_entry::same_runtime;
  // One RMW on the word the runtime's end clears `alive` in: either this
  // comes first and the end waits for handle_leave, or it sees the end.
  if (a->word.fetch_add(1, std::memory_order_acq_rel) & rt_anchor::alive) return handle_entry::counted;
  a->word.fetch_sub(1, std::memory_order_release);
  return handle_entry::gone;
}

void handle_leave(rt_anchor* a) noexcept { a->word.fetch_sub(1, std::memory_order_release); }

void handle_forget(rt_anchor* a) noexcept { anchor_unref(a, 1); }

void throw_runtime_gone(const char* what, thread_id id) {
  throw error(errc::shut_down, std::string(what) + ": the runtime of green thread " + std::to_string(id) +
                                   " has been destroyed (join or detach a thread before destroying its runtime)");
}

rt_anchor* tcb_anchor(tcb* t) noexcept { return t->rt().anchor; }

tcb* tcb_create(runtime* rt, const spawn_attrs& attrs, std::size_t task_size, std::size_t task_align) {
  runtime_impl& s = rt ? rt->impl() : caller_runtime("spawn");
  tcb* t = s.create(attrs, task_size, task_align);
  if (tcb* parent = current_tcb(); parent && attrs.stop_with_parent) {
    try {
      link_stop_to_parent(parent, t);
    } catch (...) {
      s.abandon(t);
      throw;
    }
  }
  return t;
}

void* tcb_task_storage(tcb* t) noexcept {
  return reinterpret_cast<char*>(t) + tcb_task_offset(t->alloc_align());
}

void tcb_start(tcb* t, task_base* task) noexcept {
  // task() finds the task at a fixed offset; a task type whose task_base
  // were not at its start would break that, so check once per spawn.
  WEFT_CHECK(static_cast<void*>(task) == tcb_task_storage(t), "green thread %llu: its task_base is not at the start of its task",
             static_cast<unsigned long long>(t->id));
  t->rt().admit(t);
}

void tcb_abandon(tcb* t) noexcept { t->rt().abandon(t); }

void tcb_wait(tcb* t) { tcb_wait_until(t, -1, "join"); }

bool tcb_wait_until(tcb* t, long long deadline, const char* what, bool cancellable) {
  if (t == current_tcb()) throw error(errc::deadlock, std::string(what) + ": " + thread_label(t) + " cannot join itself");
  if (t->load_state() == thread_state::terminated) return true;
  if (deadline >= 0 && now_ns() >= deadline) return false;  // try_join, or a deadline already past: no parking
  waiter w = make_waiter();
  w.data = t;
  wait_queue& q = t->rt().join_queue(t);
  wq_lock(q);
  if (t->load_state() == thread_state::terminated) {
    wq_unlock(q);
    return true;
  }
  wq_push(q, w);
  // Only t's end wakes this waiter (wake_all_matching on t); a timeout or
  // a cancellation that raced with it still finds t terminated.
  wake_status s = cancellable ? park_cancellable(q, w, deadline, wait_reason::join)
                              : park(q, w, deadline, wait_reason::join);
  if (s == wake_status::notified || t->load_state() == thread_state::terminated) return true;
  if (s == wake_status::canceled)
    throw error(errc::canceled, std::string(what) + ": stop was requested on the calling thread while it waited for " +
                                    thread_label(t));
  return false;
}

std::stop_source tcb_stop_source(tcb* t) { return *stop_source_of(t, true); }

bool tcb_request_stop(tcb* t) {
  // A thread that has ended has nothing left to stop (its handle may still
  // hold it, unjoined).
  if (t->load_state() == thread_state::terminated) return false;
  return stop_source_of(t, true)->request_stop();
}

long long tcb_deadline_in(long long timeout_ns, const char* what) { return deadline_after(timeout_ns, what); }

void tcb_release(tcb* t) noexcept {
  t->rt().reap(t);
  t->rt().release(t);
}

void tcb_detach(tcb* t, rt_anchor* a) noexcept {
  handle_entry e = handle_enter(a);
  if (e == handle_entry::gone) {
    handle_forget(a);
    return;
  }
  wait_queue& q = t->rt().join_queue(t);
  wq_lock(q);
  t->detached = true;
  bool ended = t->load_state() == thread_state::terminated;
  wq_unlock(q);
  if (ended && ended_with_error(t)) report_unobserved(t);
  tcb_release(t);
  if (e == handle_entry::counted) handle_leave(a);
}

void tcb_join_on_destroy(tcb* t, rt_anchor* a) noexcept {
  handle_entry e = handle_enter(a);
  if (e == handle_entry::gone) {
    handle_forget(a);
    return;
  }
  if (t == current_tcb()) {
    char label[128];
    thread_label(label, sizeof label, t);
    WEFT_FATAL("the handle of %s was destroyed inside that thread while joinable", label);
  }
  // As std::jthread: a thread with a stop state is asked to stop first.
  // The wait itself is not cancellable (a destructor cannot fail).
  if (std::stop_source* src = stop_source_of(t, false)) src->request_stop();
  tcb_wait_until(t, -1, "join", false);
  if (ended_with_error(t)) report_unobserved(t);
  tcb_release(t);
  if (e == handle_entry::counted) handle_leave(a);
}

task_base* tcb_task(tcb* t) noexcept { return t->task(); }
thread_id tcb_id(const tcb* t) noexcept { return t->id; }

}  // namespace detail

using namespace detail;

thread_id join_any() {
  tcb* self = current_tcb();
  runtime_impl& s = self ? self->rt() : caller_runtime("join_any");
  return s.join_any(self);
}

void suspend(thread_id id) {
  runtime_impl& s = caller_runtime("suspend");
  tcb* t = s.find_and_ref(id);
  ref_guard g{t};
  thread_state ts = t->load_state();
  // suspended_ready with no request pending is a thread a worker is taking
  // out (take_out_suspended) for a suspension a resume() has just cancelled:
  // it is about to run again, so it may be suspended.
  bool cancelled = ts == thread_state::suspended_ready && !t->suspend_req.load(std::memory_order_seq_cst);
  if (!cancelled && (ts == thread_state::suspended_ready || ts == thread_state::suspended_blocked))
    bad_state("suspend", t, ts, "is already suspended");
  if (!cancelled && ts != thread_state::ready && ts != thread_state::running && ts != thread_state::blocked)
    bad_state("suspend", t, ts, "cannot be suspended");
  if (t->suspend_req.exchange(true, std::memory_order_seq_cst)) bad_state("suspend", t, ts, "is already suspended");
  // A thread suspending itself leaves now; others are taken out when a
  // worker next handles them (tcb.hpp), and do not run meanwhile.
  if (t == current_tcb()) this_thread::yield();
}

void resume(thread_id id) {
  runtime_impl& s = caller_runtime("resume");
  tcb* t = s.find_and_ref(id);
  ref_guard g{t};
  if (!t->suspend_req.exchange(false, std::memory_order_seq_cst))
    bad_state("resume", t, t->load_state(), "is not suspended");
  // Taken out of circulation already: queue it again. Otherwise it is still
  // queued, blocked or running, and clearing the request was all it took.
  std::uint32_t parked = st(thread_state::suspended_ready) | off_queue;
  if (t->state.compare_exchange_strong(parked, st(thread_state::ready), std::memory_order_acq_rel))
    s.enqueue(t, enqueue_kind::woken);
}

std::vector<thread_info> snapshot() { return caller_runtime("snapshot").snapshot(); }

runtime_stats stats() { return caller_runtime("stats").stats(); }

void dump(std::FILE* out) {
  if (!out) throw error(errc::invalid_argument, "dump: the output stream is null");
  dump_threads(caller_runtime("dump"), out);
}

// ---------------------------------------------------------------- this_thread

namespace this_thread {

// yield() is defined in core/worker.cpp; its path is core/worker_loop.hpp.

void detail::sleep_until_ns(long long deadline) {
  worker* w = current_worker();
  if (!w || !w->current) {
    std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline)));
    return;
  }
  waiter wt = make_waiter();
  for (;;) {
    wake_status s = park_until_cancellable(wt, deadline, wait_reason::sleep);
    if (s == wake_status::timed_out) return;
    if (s == wake_status::canceled) throw error(errc::canceled, "sleep: stop was requested on the calling thread");
    wt.status.store(static_cast<std::uint32_t>(wake_status::pending));
    wt.arrivals.store(0, std::memory_order_relaxed);
  }
}

void detail::sleep_ns(long long ns) {
  std::int64_t deadline = deadline_after(ns, "sleep_for");
  if (ns == 0) {
    yield();
    return;
  }
  sleep_until_ns(deadline);
}

thread_id id() noexcept {
  tcb* t = current_tcb();
  return t ? t->id : 0;
}

std::string name() {
  tcb* t = current_tcb();
  return t ? std::string(t->name_or_empty()) : std::string();
}

bool is_green() noexcept { return current_tcb() != nullptr; }

int worker_index() noexcept {
  worker* w = current_worker();
  return w ? static_cast<int>(w->index) : -1;
}

void suspend() {
  tcb* t = current_tcb();
  if (!t) throw error(errc::no_runtime, "this_thread::suspend: the caller is not a green thread");
  weft::suspend(t->id);
}

thread_info info() {
  tcb* t = current_tcb();
  if (!t) throw error(errc::no_runtime, "this_thread::info: the caller is not a green thread");
  return t->rt().info_of(t);
}

std::stop_token get_stop_token() {
  tcb* t = current_tcb();
  return t ? stop_source_of(t, true)->get_token() : std::stop_token();
}

bool stop_requested() noexcept {
  tcb* t = current_tcb();
  return t && stop_requested_on(t);
}

}  // namespace this_thread

// ---------------------------------------------------------------- runtime

runtime::runtime(const options& opts)
    : impl_(std::make_unique<runtime_impl>(opts, runtime_parts{&make_policy, &io::make_poller})) {
  impl_->anchor = new rt_anchor;
  try {
    impl_->start();
  } catch (...) {
    delete std::exchange(impl_->anchor, nullptr);  // no thread, so no handle, could be made
    throw;
  }
}

runtime::~runtime() {
  if (!impl_) return;
  try {
    impl_->shutdown();
  } catch (const std::exception& e) {
    WEFT_FATAL("runtime destroyed from its own green thread: %s", e.what());
  }
  // Every green thread has ended. Handles from outside may still be inside
  // a join (woken by those ends) or a detach: let them finish, and turn
  // every later handle operation away (rt_anchor above).
  rt_anchor* a = impl_->anchor;
  a->word.fetch_and(~rt_anchor::alive, std::memory_order_acq_rel);
  while ((a->word.load(std::memory_order_acquire) & ~rt_anchor::alive) != 0) std::this_thread::yield();
  // What is left is held by handles only; their results die here.
  std::size_t left = impl_->free_unjoined();
  impl_.reset();
  anchor_unref(a, rt_anchor::uncounted - static_cast<std::int64_t>(left));
}

void runtime::shutdown() { impl_->shutdown(); }
unsigned runtime::workers() const noexcept { return impl_->active_target(); }
std::vector<thread_info> runtime::snapshot() const { return impl_->snapshot(); }
runtime_stats runtime::stats() const { return impl_->stats(); }
const char* runtime::context_backend() noexcept { return context_backend_name(); }

int run(const options& opts, std::function<int()> main_fn) {
  if (!main_fn) throw error(errc::invalid_argument, "run: main function is empty");
  runtime rt(opts);
  spawn_attrs attrs;
  attrs.name = "main";
  // Main is the root: threads orphaned by their parent pass to it.
  rt.impl().root_next_spawn();
  auto main_thread = spawn_in(rt, std::move(main_fn), attrs);
  int code = main_thread.join();
  rt.shutdown();
  return code;
}

int run(const options& opts, std::function<void()> main_fn) {
  if (!main_fn) throw error(errc::invalid_argument, "run: main function is empty");
  return run(opts, std::function<int()>([fn = std::move(main_fn)] {
               fn();
               return 0;
             }));
}

}  // namespace weft
