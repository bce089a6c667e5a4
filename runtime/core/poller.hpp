// The poller seam: where an idle worker sleeps and what wakes it.
//
// The core knows one thing about I/O: a worker with nothing to run sleeps
// in its poller, and the poller is also where finished I/O (or anything else
// a higher layer waits for) turns green threads ready. The io layer's
// engines (io/engine.hpp: io_uring, epoll) implement it; the core never
// includes io/. This is Tokio's park/driver split: the scheduler owns the
// park interface, the I/O driver plugs into it from above.
//
// Who calls what: start/poll/wait/has_completions/quiet only on the owning
// worker's kernel thread; wake from any thread.
#pragma once

#include <cstdint>
#include <memory>

namespace weft::detail {

class worker;

class poller {
 public:
  virtual ~poller() = default;
  // On the owning worker thread, before its loop.
  virtual void start() = 0;
  // Dispatches what finished without blocking; true if it made a green
  // thread ready.
  virtual bool poll() noexcept = 0;
  // Like poll() but sleeps until something finishes, wake() is called or
  // deadline_ns (steady clock, < 0: none) passes. True if it made a green
  // thread ready.
  virtual bool wait(std::int64_t deadline_ns) noexcept = 0;
  // Interrupts wait() from any thread.
  virtual void wake() noexcept = 0;
  // Finished work is waiting to be dispatched (cheap, no syscall): the idle
  // protocol's last look before sleeping.
  virtual bool has_completions() const noexcept = 0;
  // Nothing can finish while the worker sleeps (no I/O in flight or queued,
  // no completion waiting): the idle protocol may then sleep on a futex,
  // which a waker's futex_wake reaches faster than wake() reaches a poller
  // (W5). A poller that cannot tell says false.
  virtual bool quiet() const noexcept { return false; }
  // poll() might make a thread ready now (cheap, no syscall): exact where
  // completions queue up (has_completions), true where readiness is only
  // found by asking the kernel. A worker whose threads only park checks it
  // every chore_period switches (worker_loop.hpp).
  virtual bool may_have_events() const noexcept { return true; }
};

// Makes worker w's poller; throws weft::error when it cannot be set up.
using poller_factory = std::unique_ptr<poller> (*)(worker& w);

}  // namespace weft::detail
