// A worker's kernel thread and the parts of its work that do not depend on
// the policy: start-up, the pinned inbox, timers, first-run preparation.
// The scheduling paths are in worker_loop.hpp; the idle steps in idle.hpp.
#include "core/worker.hpp"

#include <cstdio>

#include <pthread.h>
#include <unistd.h>

#include "base/clock.hpp"
#include "base/fatal.hpp"
#include "core/runtime_impl.hpp"
#include "core/thread_label.hpp"
#include "core/tcb.hpp"
#include "weft/this_thread.hpp"

namespace weft::detail {
namespace {

thread_local worker* tl_worker = nullptr;

}  // namespace

__attribute__((noinline)) worker* current_worker() noexcept {
  asm volatile("" ::: "memory");
  return tl_worker;
}

__attribute__((noinline)) tcb* current_tcb() noexcept {
  asm volatile("" ::: "memory");
  worker* w = tl_worker;
  return w ? w->current : nullptr;
}

overflow_subject overflow_subject_of(const tcb* t) noexcept {
  return {t->stk_lo, t->stk_size, t->stk_guarded(), t->id, t->name_or_empty()};
}

bool describe_running_thread(overflow_subject& s) noexcept {
  worker* w = tl_worker;
  if (!w || !w->current) return false;
  s = overflow_subject_of(w->current);
  return true;
}

bool describe_for_fatal(char* buf, std::size_t size) noexcept {
  worker* w = tl_worker;
  if (!w) return false;
  if (tcb* t = w->current) {
    std::size_t n = thread_label(buf, size, t);
    std::snprintf(buf + n, size - n, " on worker %u", w->index);
  } else {
    std::snprintf(buf, size, "the scheduler context of worker %u", w->index);
  }
  return true;
}

worker::worker(runtime_impl& r, unsigned i)
    : rt(r), index(i), runq(r.parts.make_policy(r.opts)), ops_(&runq->loop()), stacks_(r.stacks), tcbs_(r.tcbs) {
  fired_.reserve(64);
  driver = r.parts.make_poller(*this);
  // Validated by runtime_impl: 0..1.
  alpha_q16_ = static_cast<std::uint32_t>(r.opts.burst_alpha * 65536.0 + 0.5);
}

worker::~worker() = default;

void worker::start() {
  thread_ = std::thread([this] { main(); });
}

void worker::join_thread() {
  if (thread_.joinable()) thread_.join();
}

void worker::main() {
  tl_worker = this;
  eh_ = current_eh_state();
  kernel_tid_.store(static_cast<int>(gettid()), std::memory_order_release);
  driver->start();
  overflow_guard_thread_init();
  char name[16];
  std::snprintf(name, sizeof name, "weft-w%u", index);
  pthread_setname_np(pthread_self(), name);
  san_adopt_thread(sched_san_);
  mark_burst_start(ticks(), false);
  ops_->run(*this);
  overflow_guard_thread_fini();
  tl_worker = nullptr;
}

void worker::push_inbox(tcb* t) noexcept {
  t->next = nullptr;
  inbox_lock_.lock();
  if (inbox_tail_) inbox_tail_->next = t;
  else inbox_head_ = t;
  inbox_tail_ = t;
  inbox_nonempty_.store(true, std::memory_order_seq_cst);
  inbox_lock_.unlock();
  if (current_worker() != this) notify();
}

tcb* worker::pop_inbox() noexcept {
  inbox_lock_.lock();
  tcb* t = inbox_head_;
  if (t) {
    inbox_head_ = t->next;
    if (!inbox_head_) {
      inbox_tail_ = nullptr;
      inbox_nonempty_.store(false, std::memory_order_relaxed);
    }
  }
  inbox_lock_.unlock();
  return t;
}

void worker::run_timers() noexcept {
  std::int64_t next = timers.next_deadline();
  if (next < 0) return;
  std::int64_t now = now_ns();
  if (next > now) return;
  fired_.clear();
  timers.fire(now, fired_);
  for (tcb* t : fired_) rt.make_ready(t);
}

__attribute__((noinline)) bool worker::prepare_slow(tcb* t) noexcept {
  thread_state s = state_of(t->state.load(std::memory_order_relaxed));
  WEFT_CHECK(s == thread_state::ready, "thread %llu dequeued in state %s", static_cast<unsigned long long>(t->id),
             to_string(s));
  if (t->suspend_req.load(std::memory_order_acquire) && take_out_suspended(t)) return false;
  t->state.store(st(thread_state::running), std::memory_order_relaxed);
  if (!t->pinned || !t->last_worker.load(std::memory_order_relaxed)) t->last_worker.store(this, std::memory_order_relaxed);
  if (!t->stk_lo) {
    t->set_stk(stacks_.take(t->stk_size));
    if (!t->stk_lo) {
      rt.fail_start(*this, t);
      return false;
    }
    rt.init_context(t);
  }
  return true;
}

int policy::effective_priority(const tcb& t, std::int64_t) const noexcept { return t.priority; }

bool worker::work_visible() const noexcept {
  if (rt.global_nonempty()) return true;
  if (inbox_nonempty_.load(std::memory_order_acquire)) return true;
  for (unsigned i = 0; i < rt.worker_count(); ++i)
    if (!rt.worker_at(i).runq->empty()) return true;
  std::int64_t d = timers.next_deadline();
  return d >= 0 && d <= now_ns();
}

void worker::budget_spent() noexcept {
  budget_ = coop_budget;
  chores_ = 1;  // the yield's pick runs timers and polls I/O first
  yield();      // `this` may be stale from here on (migration)
}

}  // namespace weft::detail

// One indirect call into the policy's instantiated yield path (worker_loop.hpp).
void weft::this_thread::yield() noexcept {
  weft::detail::worker* w = weft::detail::tl_worker;
  if (w && w->current) w->yield();
  else std::this_thread::yield();
}
