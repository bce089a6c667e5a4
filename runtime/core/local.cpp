// Green-thread-local slots. Slot numbers are never reused, so a slot's
// destructor stays valid for every thread that still holds a value.
#include <mutex>
#include <vector>

#include "core/tcb.hpp"
#include "weft/local.hpp"
#include "core/worker.hpp"

namespace weft::detail {
namespace {

std::mutex g_slots_mu;
std::vector<void (*)(void*)> g_dtors;

void (*dtor_of(std::size_t i))(void*) {
  std::lock_guard lk(g_slots_mu);
  return g_dtors[i];
}

void destroy_cells(std::vector<void*>& cells) noexcept {
  // A destructor may touch other locals and grow the vector: index, do not iterate.
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (void* p = cells[i]) {
      cells[i] = nullptr;
      dtor_of(i)(p);
    }
  }
}

struct foreign_cells {
  std::vector<void*> cells;
  ~foreign_cells() { destroy_cells(cells); }
};
thread_local foreign_cells tl_foreign;

}  // namespace

std::size_t local_slot_new(void (*dtor)(void*)) {
  std::lock_guard lk(g_slots_mu);
  g_dtors.push_back(dtor);
  return g_dtors.size() - 1;
}

void*& local_cell(std::size_t slot) {
  tcb* t = current_tcb();
  std::vector<void*>* cells;
  if (t) {
    cells = &t->ext_or_create().locals;
  } else {
    cells = &tl_foreign.cells;
  }
  if (cells->size() <= slot) cells->resize(slot + 1, nullptr);
  return (*cells)[slot];
}

void destroy_locals(tcb* t) noexcept {
  if (tcb_ext* e = t->ext.load(std::memory_order_relaxed)) destroy_cells(e->locals);
}

}  // namespace weft::detail
