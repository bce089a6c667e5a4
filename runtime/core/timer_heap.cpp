#include "core/timer_heap.hpp"

#include <mutex>

#include "core/park.hpp"

namespace weft::detail {

namespace {
constexpr std::size_t npos = static_cast<std::size_t>(-1);
}

void timer_heap::publish_next() noexcept {
  next_.store(heap_.empty() ? -1 : heap_[0]->deadline, std::memory_order_release);
}

void timer_heap::sift_up(std::size_t i) noexcept {
  waiter* w = heap_[i];
  while (i > 0) {
    std::size_t p = (i - 1) / 2;
    if (heap_[p]->deadline <= w->deadline) break;
    heap_[i] = heap_[p];
    heap_[i]->heap_index = i;
    i = p;
  }
  heap_[i] = w;
  w->heap_index = i;
}

void timer_heap::sift_down(std::size_t i) noexcept {
  waiter* w = heap_[i];
  std::size_t n = heap_.size();
  for (;;) {
    std::size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && heap_[c + 1]->deadline < heap_[c]->deadline) ++c;
    if (heap_[c]->deadline >= w->deadline) break;
    heap_[i] = heap_[c];
    heap_[i]->heap_index = i;
    i = c;
  }
  heap_[i] = w;
  w->heap_index = i;
}

void timer_heap::remove_at(std::size_t i) noexcept {
  heap_[i]->heap_index = npos;
  waiter* last = heap_.back();
  heap_.pop_back();
  if (i < heap_.size()) {
    heap_[i] = last;
    last->heap_index = i;
    sift_down(i);
    sift_up(last->heap_index);
  }
}

void timer_heap::add(waiter& w, worker* owner) noexcept {
  std::lock_guard lk(lock_);
  w.timer_owner = owner;
  heap_.push_back(&w);
  sift_up(heap_.size() - 1);
  publish_next();
}

void timer_heap::cancel(waiter& w) noexcept {
  std::lock_guard lk(lock_);
  if (w.heap_index != npos) {
    remove_at(w.heap_index);
    publish_next();
  }
}

void timer_heap::fire(std::int64_t now, std::vector<tcb*>& out) noexcept {
  std::lock_guard lk(lock_);
  while (!heap_.empty() && heap_[0]->deadline <= now) {
    waiter* w = heap_[0];
    remove_at(0);
    // The claim happens under the heap lock: a waiter that was woken
    // normally cancels its timer under the same lock before returning, so w
    // is alive here.
    auto expected = static_cast<std::uint32_t>(wake_status::pending);
    if (w->status.compare_exchange_strong(expected, static_cast<std::uint32_t>(wake_status::timed_out),
                                          std::memory_order_acq_rel))
      out.push_back(w->owner);
  }
  publish_next();
}

}  // namespace weft::detail
