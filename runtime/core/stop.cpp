#include "core/stop.hpp"

#include <mutex>

#include "core/tcb.hpp"

namespace weft::detail {

std::stop_source* stop_source_of(tcb* t, bool create) {
  tcb_ext* e = t->ext.load(std::memory_order_acquire);
  if (e && e->has_stop.load(std::memory_order_acquire)) return &e->stop;
  if (!create) return nullptr;
  e = &t->ext_or_create();
  std::lock_guard lk(e->stop_lock);
  if (!e->has_stop.load(std::memory_order_relaxed)) {
    e->stop = std::stop_source();
    e->has_stop.store(true, std::memory_order_release);
  }
  return &e->stop;
}

void link_stop_to_parent(tcb* parent, tcb* child) {
  std::stop_token parent_token = stop_source_of(parent, true)->get_token();
  std::stop_source mine = *stop_source_of(child, true);
  child->ext_or_create().parent_link.emplace(std::move(parent_token), tcb_ext::stop_child{std::move(mine)});
}

void unlink_stop_from_parent(tcb* t) noexcept {
  if (tcb_ext* e = t->ext.load(std::memory_order_acquire)) e->parent_link.reset();
}

bool stop_requested_on(const tcb* t) noexcept {
  tcb_ext* e = t->ext.load(std::memory_order_acquire);
  return e && e->has_stop.load(std::memory_order_acquire) && e->stop.stop_requested();
}

}  // namespace weft::detail
