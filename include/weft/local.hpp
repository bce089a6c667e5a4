// Green-thread-local storage: one value per green thread, like thread_local
// but following the green thread across workers. On a foreign kernel thread
// the value is per kernel thread. Values are destroyed when their thread ends.
#pragma once

#include <cstddef>

namespace weft {

namespace detail {
// Reserves a slot whose values are destroyed with dtor.
std::size_t local_slot_new(void (*dtor)(void*));
// The calling thread's cell for slot i (null until set).
void*& local_cell(std::size_t slot);
}  // namespace detail

// A variable with one T per green thread, created on first use.
template <class T>
class local {
 public:
  local() : slot_(detail::local_slot_new([](void* p) { delete static_cast<T*>(p); })) {}
  local(const local&) = delete;
  local& operator=(const local&) = delete;

  // The calling thread's value, default-constructed on first use.
  T& get() {
    void*& cell = detail::local_cell(slot_);
    if (!cell) cell = new T();
    return *static_cast<T*>(cell);
  }
  T* operator->() { return &get(); }
  T& operator*() { return get(); }

 private:
  std::size_t slot_;
};

}  // namespace weft
