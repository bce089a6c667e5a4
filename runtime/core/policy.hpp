// The scheduling-policy seam (after Boost.Fiber's `algorithm`): a worker asks
// its policy to hold ready threads and to hand out the next one; thieves ask
// a victim's policy for a share. Everything else (switching, idling,
// stealing order, the global queue, pinned threads) stays in the core, so a
// new policy is a small class in policy/ and the core names none of them.
//
// A policy is a final class deriving from `policy` that also has, as plain
// members (core/worker_loop.hpp's loop_policy concept):
//   bool push(tcb* t, enqueue_kind k)  owner: holds a ready thread; false
//                                      when full (the core then spills).
//   tcb* pop()                         owner: the next thread to run, or null.
//   tcb* spill()                       owner, after a failed push: up to half
//                                      the queue for the global queue, a null-
//                                      terminated list linked through tcb::next.
//   tcb* steal_into(Q& into)           any worker: moves about half of this
//                                      queue into `into` (the caller's own, same
//                                      type) and returns one thread to run now.
//   bool empty() const                 any worker: a hint, may be stale.
// and implements loop() as `return worker_loop<Q>::ops;` in its .cpp, which
// instantiates the worker's paths with those members inlined.
//
// Per-thread policy data: tcb::policy_word (32 bits, atomic so snapshots
// may read it through effective_priority) and tcb::priority. The core never
// reads policy_word.
#pragma once

#include <cstdint>
#include <memory>

#include "weft/options.hpp"

namespace weft::detail {

struct tcb;
struct worker_ops;

// Why a thread became ready. A policy may order by it: FIFO ignores it; a
// policy with levels can keep a thread that yields early at its level and
// lower one that used its whole slice.
enum class enqueue_kind {
  spawned,  // a new thread
  woken,    // it was blocked and its event came
  yielded,  // it gave up the CPU voluntarily
};

class policy {
 public:
  virtual ~policy() = default;
  // The core's cold paths reach the queue through these: the global queue
  // refilling a worker, and the idle protocol's last look (idle.hpp W4).
  virtual bool push(tcb* t, enqueue_kind kind) noexcept = 0;
  virtual bool empty() const noexcept = 0;
  // The worker's scheduling paths instantiated for this policy.
  virtual const worker_ops& loop() const noexcept = 0;
  // The priority t is scheduled by at steady-clock time now_ns (snapshots;
  // t may change under the caller, so read policy data relaxed). Default:
  // its static priority. A policy with aging or levels reports those.
  virtual int effective_priority(const tcb& t, std::int64_t now_ns) const noexcept;
};

// Makes one worker's policy for a runtime with these options.
using policy_factory = std::unique_ptr<policy> (*)(const options& opts);

}  // namespace weft::detail
