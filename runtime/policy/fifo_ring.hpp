// The FIFO policy's run queue: a bounded ring per worker, owned by one
// producer (the worker) and shared with thieves, after Go's `runq`. The owner pushes with a plain
// store and a release of `tail`; pops and steals advance `head` with a CAS, so
// the owner never takes a lock. 256 slots hold a burst of spawns; past that,
// half the ring spills to the global queue (in one lock round), which keeps
// pushes O(1) and feeds idle workers.
//
// The slot count and the atomic type are parameters so tests can drive a
// 4-slot ring through every interleaving of its atomic steps (the atomic is
// then one that hands control to a model checker), and the start counter
// lets them begin next to the 32-bit wrap of head and tail.
//
// Memory orderings, step by step (each names its partner):
//   R1  push (owner): loads head (acquire: pairs with R3/R5's CAS release,
//       so a slot a consumer has read is not overwritten before it was),
//       writes the slot (relaxed), then stores tail+1 (release: publishes
//       the slot to R2/R4's acquire loads of tail).
//   R2  pop (owner) loads head (acquire) and tail; the owner wrote tail
//       itself, so relaxed suffices there.
//   R3  pop/spill claim slots by CAS on head (release on success: R1's
//       acquire load of head then sees the slot as free; acquire on failure
//       to re-read the slot a thief may have moved past).
//   R4  steal_into (thief) loads head and tail with acquire (tail pairs with
//       R1's release, so the copied slots are the ones pushed), copies the
//       slots into its own ring, then
//   R5  claims them with a CAS on head (acq_rel): if the owner or another
//       thief moved head meanwhile, the copies are discarded and retried;
//       an n larger than half the ring means head and tail were read at
//       different times (torn snapshot), also retried.
//   R6  the thief publishes the copies in its own ring with a release store
//       of its own tail (it is that ring's only producer), as R1.
//   Precondition of steal_into: the thief's ring has room for half the
//   victim's ring (the runtime steals only into an empty ring).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "core/tcb.hpp"

namespace weft::detail {

template <std::uint32_t Size, template <class> class Atomic = std::atomic>
class fifo_ring {
  // Counters wrap at 2^32; slot = counter % Size stays continuous across
  // the wrap only if Size divides 2^32.
  static_assert(Size >= 2 && (Size & (Size - 1)) == 0, "the ring size must be a power of two");

 public:
  static constexpr std::uint32_t size = Size;

  fifo_ring() = default;
  explicit fifo_ring(std::uint32_t start) noexcept : head_(start), tail_(start) {}

  bool push(tcb* t) noexcept {  // R1
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t tl = tail_.load(std::memory_order_relaxed);
    if (tl - h >= size) return false;
    slots_[tl % size].store(t, std::memory_order_relaxed);
    tail_.store(tl + 1, std::memory_order_release);
    return true;
  }

  tcb* pop() noexcept {  // R2, R3
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      std::uint32_t tl = tail_.load(std::memory_order_relaxed);
      if (h == tl) return nullptr;
      tcb* t = slots_[h % size].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_release, std::memory_order_acquire)) return t;
    }
  }

  // Takes the older half (rounded down) as a list linked through tcb::next.
  tcb* spill() noexcept {  // R3
    std::uint32_t h = head_.load(std::memory_order_acquire);
    for (;;) {
      std::uint32_t tl = tail_.load(std::memory_order_relaxed);
      std::uint32_t n = (tl - h) / 2;
      if (n == 0) return nullptr;
      tcb* batch[size / 2];
      for (std::uint32_t i = 0; i < n; ++i) batch[i] = slots_[(h + i) % size].load(std::memory_order_relaxed);
      if (!head_.compare_exchange_weak(h, h + n, std::memory_order_release, std::memory_order_acquire)) continue;
      for (std::uint32_t i = 0; i + 1 < n; ++i) batch[i]->next = batch[i + 1];
      batch[n - 1]->next = nullptr;
      return batch[0];
    }
  }

  // Moves the older half (rounded up) into `into`; returns the newest of
  // them to run now and leaves the rest in `into` (see the precondition).
  tcb* steal_into(fifo_ring& into) noexcept {  // R4-R6
    std::uint32_t dst_tail = into.tail_.load(std::memory_order_relaxed);
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t tl = tail_.load(std::memory_order_acquire);
      std::uint32_t n = tl - h;
      n -= n / 2;
      if (n == 0) return nullptr;
      if (n > size / 2) continue;  // inconsistent read: the owner moved meanwhile
      for (std::uint32_t i = 0; i < n; ++i)
        into.slots_[(dst_tail + i) % size].store(slots_[(h + i) % size].load(std::memory_order_relaxed),
                                                 std::memory_order_relaxed);
      if (!head_.compare_exchange_weak(h, h + n, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      // Run the last one now; publish the rest to the thief's own ring.
      --n;
      tcb* run_now = into.slots_[(dst_tail + n) % size].load(std::memory_order_relaxed);
      if (n) into.tail_.store(dst_tail + n, std::memory_order_release);
      return run_now;
    }
  }

  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  alignas(64) Atomic<std::uint32_t> head_{0};  // consumers (owner and thieves)
  alignas(64) Atomic<std::uint32_t> tail_{0};  // producer (owner only)
  alignas(64) std::array<Atomic<tcb*>, size> slots_{};
};

}  // namespace weft::detail
