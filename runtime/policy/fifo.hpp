// FIFO policy: first come, first served per worker, with work stealing.
// Its run queue is a fifo_ring of 256 slots (policy/fifo_ring.hpp, where the
// ring's memory orderings are numbered R1-R6). The class is in a header so
// the worker's paths get its operations inlined through
// worker_loop<fifo_policy> (fifo.cpp).
#pragma once

#include "core/policy.hpp"
#include "core/tcb.hpp"
#include "policy/fifo_ring.hpp"

namespace weft::detail {

class fifo_policy final : public policy {
 public:
  bool push(tcb* t, enqueue_kind = enqueue_kind::yielded) noexcept override { return ring_.push(t); }
  tcb* pop() noexcept { return ring_.pop(); }
  tcb* spill() noexcept { return ring_.spill(); }
  tcb* steal_into(fifo_policy& into) noexcept { return ring_.steal_into(into.ring_); }
  bool empty() const noexcept override { return ring_.empty(); }
  const worker_ops& loop() const noexcept override;

 private:
  fifo_ring<256> ring_;
};

}  // namespace weft::detail
