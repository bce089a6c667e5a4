// The scheduling-policy seam (after Boost.Fiber's `algorithm`): a worker asks
// its policy to hold ready threads and to hand out the next one; thieves ask
// a victim's policy for a share. Everything else (switching, idling,
// stealing order, the global queue) stays in the worker, so a new policy is a
// small class. Owner calls come only from the owning worker; steal() comes
// from any worker and must be safe against the owner.
#pragma once

#include <cstddef>
#include <memory>

#include "weft/options.hpp"

namespace weft::detail {

struct tcb;

enum class enqueue_kind {
  spawned,  // a new thread
  woken,    // it was blocked and its event came
  yielded,  // it gave up the CPU voluntarily
};

class policy {
 public:
  virtual ~policy() = default;
  // Owner: holds a ready thread. Returns false when full (the caller then
  // moves work to the global queue).
  virtual bool push(tcb* t, enqueue_kind kind) noexcept = 0;
  // Owner: the next thread to run, or null.
  virtual tcb* pop() noexcept = 0;
  // Owner: takes up to half of the queue out for the global queue when push
  // failed; returns a null-terminated list linked through tcb::next.
  virtual tcb* spill() noexcept = 0;
  // Any worker: moves about half of this queue into `into` (same policy kind,
  // owned by the caller) and returns one thread to run now, or null.
  virtual tcb* steal_into(policy& into) noexcept = 0;
  // Any worker: a hint, may be stale.
  virtual bool empty() const noexcept = 0;
};

// Makes one worker's policy for a runtime with these options.
using policy_factory = std::unique_ptr<policy> (*)(const options& opts);

}  // namespace weft::detail
